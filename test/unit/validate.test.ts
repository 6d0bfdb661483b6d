import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

// `clusterflow validate` through the real CLI: every problem in every section at once, each with
// its field's path, exit 2; a good spec exits 0 and names its sections.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-validate-'));
writeFileSync(
  path.join(dir, 'hosts.ini'),
  [
    '[db]',
    'db1 ansible_host=10.1.0.1',
    'db2 ansible_host=10.1.0.2',
    '[app]',
    'app1 ansible_host=10.1.0.21',
    'app2 ansible_host=10.1.0.22',
    '',
  ].join('\n'),
);
const cli = path.join(__dirname, '../../bin/clusterflow.js');

function validate(doc: Record<string, unknown>, json = false) {
  const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify({ cluster: 'ox', inventory: 'hosts.ini', ...doc }));
  const r = spawnSync(process.execPath, [cli, 'validate', '-f', file, ...(json ? ['--json'] : [])], {
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const good = {
  database: {
    primary: 'db1',
    replicas: 'db',
    admin: { password: 'env:A' },
    replication: { password: 'env:R' },
  },
  storage: {
    kind: 'nfs',
    owner: { user: 'filesync', uid: 1001, gid: 1001 },
    nfs: { server: 'db2', exports: [{ path: '/srv/export', clients: [{ hosts: 'app' }] }] },
    clients: { hosts: 'app', mountPoint: '/srv/shared' },
  },
  license: {
    hosts: 'app',
    driver: 'command',
    command: { check: 'c', activate: 'a', deactivate: 'd' },
    key: 'env:K',
  },
};

describe('clusterflow validate', () => {
  it('accepts a good spec and names its sections', () => {
    const r = validate(good);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/: valid \(database, storage, license\)/);
  });

  it('lists every problem of every section with its path and exits 2', () => {
    const r = validate(
      {
        ...good,
        database: { ...good.database, primary: 'db9' },
        storage: { ...good.storage, clients: { hosts: 'web', mountPoint: '/srv/shared' } },
        license: { ...good.license, keys: { app7: 'env:K7' } },
      },
      true,
    );
    expect(r.status).toBe(2);
    const v = JSON.parse(r.out);
    expect(v.valid).toBe(false);
    expect(v.problems).toEqual([
      expect.stringMatching(/^database\.primary: .*db9/),
      'storage.clients.hosts[0]: unknown host or group "web"',
      'license.keys.app7: not one of the license hosts',
    ]);
  });

  it("names a typo'd key anywhere in the spec and a playbook key not supported yet, exit 2", () => {
    writeFileSync(
      path.join(dir, 'patch.yml'),
      '- name: patch\n  hosts: app\n  order: sorted\n  tasks:\n    - { name: up, shell: "true", throttle: 1 }\n',
    );
    const r = validate(
      {
        loadBalancer: { kind: 'haproxy', hosts: 'db1', backend: 'app' },
        nodes: { hosts: 'app', service: 'cfapp', maintenance: { play: 'patch.yml', drainTimeoutSecs: 30 } },
      },
      true,
    );
    expect(r.status).toBe(2);
    expect(JSON.parse(r.out).problems).toEqual([
      'nodes.maintenance.drainTimeoutSecs: unknown key; did you mean drainTimeoutSeconds?',
    ]);
    const fixed = validate(
      {
        loadBalancer: { kind: 'haproxy', hosts: 'db1', backend: 'app' },
        nodes: {
          hosts: 'app',
          service: 'cfapp',
          maintenance: { play: 'patch.yml', drainTimeoutSeconds: 30 },
        },
      },
      true,
    );
    expect(fixed.status).toBe(2);
    expect(JSON.parse(fixed.out).problems).toEqual([
      'nodes.maintenance.play: patch.yml: play 1 ("patch"): order: not supported yet',
      'nodes.maintenance.play: patch.yml: play 1 ("patch") task 1: throttle: not supported yet',
    ]);
  });

  it('names an unknown host once, though two checks read the section it is in', () => {
    writeFileSync(
      path.join(dir, 'install.yml'),
      '- hosts: all\n  tasks:\n    - { name: x, shell: "true" }\n',
    );
    const r = validate(
      {
        loadBalancer: { kind: 'haproxy', hosts: 'lb9', backend: 'app', install: 'install.yml' },
        nodes: { hosts: ['app', 'web9'], service: 'cfapp', install: 'install.yml' },
      },
      true,
    );
    expect(JSON.parse(r.out).problems).toEqual([
      'nodes.hosts[1]: unknown host or group "web9"',
      'loadBalancer.hosts[0]: unknown host or group "lb9"',
    ]);
  });

  it('reports schema errors (a key given as a value) before resolving anything', () => {
    const r = validate({ license: { ...good.license, key: 'CFAPP-SECRET-1' } });
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/license\.key: must be a reference like env:NAME or file:\/absolute\/path/);
    expect(r.err).not.toMatch(/CFAPP-SECRET-1/);
  });

  it("checks what only cluster-setup uses: the first node's and the LB's install playbooks, join concurrency, the frontend", () => {
    writeFileSync(
      path.join(dir, 'further.yml'),
      '- hosts: all\n  tasks:\n    - { name: dir, file: { path: /opt/x, state: directory } }\n',
    );
    const r = validate(
      {
        loadBalancer: {
          kind: 'haproxy',
          hosts: 'db1',
          backend: 'app',
          install: 'no-such-lb.yml',
          frontend: { port: 80, servedByHeader: 'X Node' },
        },
        nodes: {
          hosts: 'app',
          service: 'cfapp',
          install: 'further.yml',
          firstInstall: 'no-such-first.yml',
          joinConcurrency: 0,
        },
      },
      true,
    );
    expect(r.status).toBe(2);
    const v = JSON.parse(r.out);
    expect(v.problems).toEqual([
      'loadBalancer.frontend.servedByHeader: an HTTP header name',
      expect.stringMatching(/^nodes\.joinConcurrency: /),
    ]);
    const fixed = validate(
      {
        loadBalancer: { kind: 'haproxy', hosts: 'db1', backend: 'app', install: 'no-such-lb.yml' },
        nodes: { hosts: 'app', service: 'cfapp', install: 'further.yml', firstInstall: 'no-such-first.yml' },
      },
      true,
    );
    expect(JSON.parse(fixed.out).problems).toEqual([
      expect.stringMatching(/^nodes\.firstInstall: .*no-such-first\.yml/),
    ]);
  });
});
