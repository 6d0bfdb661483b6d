import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { buildNodeOperation, type NodeOperation, type NodeOperationOptions } from '../../client/nodes';
import {
  databaseInput,
  licenseInput,
  loadSpec,
  requireMember,
  SpecError,
  storageInput,
} from '../../client/spec';
import { daysUntil } from '../../common/license';
import type { RollingInput } from '../../workflows/node-operations';

const dir = mkdtempSync(path.join(tmpdir(), 'cf-spec-'));
writeFileSync(
  path.join(dir, 'hosts.ini'),
  [
    '[db]',
    'db1 ansible_host=10.1.0.1',
    'db2 ansible_host=10.1.0.2',
    'db3 ansible_host=10.1.0.3',
    '',
    '[app]',
    'app1 ansible_host=10.1.0.21',
    'app2 ansible_host=10.1.0.22',
    '',
  ].join('\n'),
);

function spec(doc: Record<string, unknown>): string {
  const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify({ cluster: 'ox', inventory: 'hosts.ini', ...doc }));
  return file;
}

const db = (over: Record<string, unknown> = {}) => ({
  primary: 'db1',
  replicas: 'db',
  admin: { password: 'env:A' },
  replication: { password: 'env:R' },
  ...over,
});

function problems(file: string): string[] {
  try {
    databaseInput(loadSpec(file));
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  return [];
}

describe('cluster spec', () => {
  it('expands a replica group without the primary and numbers server-ids around the ones given', () => {
    const input = databaseInput(loadSpec(spec({ database: db({ serverIds: { db3: 1 } }) })));
    expect(input.members.map((m) => [m.name, m.address, m.serverId])).toEqual([
      ['db1', '10.1.0.1', 2],
      ['db2', '10.1.0.2', 3],
      ['db3', '10.1.0.3', 1],
    ]);
    expect(input.settings.replication).toMatchObject({
      user: 'replication',
      gtid: true,
      netTimeoutSeconds: 3,
    });
    expect(input.settings.admin.password).toBe('env:A'); // still a reference
  });

  it('resolves application sources to addresses and keeps literal addresses and patterns', () => {
    const input = databaseInput(
      loadSpec(
        spec({
          database: db({
            applications: [
              { user: 'ox', password: 'env:P', database: 'oxdb', from: ['app', '10.9.0.%', '192.0.2.7'] },
            ],
          }),
        }),
      ),
    );
    expect(input.applications[0].from).toEqual(['10.1.0.21', '10.1.0.22', '10.9.0.%', '192.0.2.7']);
    expect(input.applications[0].privileges).toBe('ALL PRIVILEGES');
  });

  it('reports every bad reference at once, each with the path of its field', () => {
    expect(
      problems(
        spec({
          database: db({
            primary: 'app',
            replicas: ['db2', 'db3', 'db9'],
            serverIds: { db2: 5, db3: 5, web1: 2 },
            applications: [{ user: 'ox', password: 'env:P', database: 'oxdb', from: ['nosuch'] }],
            appConfig: [{ hosts: 'appz', path: '/etc/x.properties', key: 'db.host' }],
          }),
        }),
      ),
    ).toEqual([
      'database.primary: "app" is a group of 2 hosts; name one host',
      'database.replicas[2]: unknown host or group "db9"',
      "database.serverIds.db3: server-id 5 is also db2's",
      'database.serverIds.web1: not a database member',
      'database.applications[0].from[0]: unknown host or group "nosuch"',
      'database.appConfig[0].hosts[0]: unknown host or group "appz"',
    ]);
  });

  it('rejects secret values, unknown keys and bad names by path before resolving anything', () => {
    let err: unknown;
    try {
      loadSpec(spec({ databse: {}, database: db({ admin: { password: 'hunter2' }, port: 0 }) }));
    } catch (e) {
      err = e;
    }
    expect((err as SpecError).problems).toEqual([
      'database.port: Too small: expected number to be >=1',
      'database.admin.password: must be a reference like env:NAME or file:/absolute/path',
      'databse: unknown key; did you mean database?',
    ]);
  });

  it('needs an inventory, from the spec or the command line', () => {
    const file = path.join(dir, 'noinv.yml');
    writeFileSync(file, stringify({ cluster: 'ox', database: db() }));
    expect(() => loadSpec(file)).toThrow(/inventory: give the inventory here or with -i/);
    expect(loadSpec(file, { inventory: path.join(dir, 'hosts.ini') }).spec.cluster).toBe('ox');
  });

  it('refuses an operation target that is not a member', () => {
    const input = databaseInput(loadSpec(spec({ database: db() })));
    expect(() => requireMember(input, 'app1', '--to')).toThrow(
      /--to: "app1" is not a database member \(db1, db2, db3\)/,
    );
    expect(() => requireMember(input, 'db2', '--to')).not.toThrow();
  });
});

describe('cluster spec: nodes and load balancer', () => {
  const nodes = (over: Record<string, unknown> = {}) => ({ hosts: 'app', service: 'cfapp', ...over });
  const lb = (over: Record<string, unknown> = {}) => ({
    kind: 'haproxy',
    hosts: 'db1',
    backend: 'app',
    ...over,
  });
  function nodeProblems(
    file: string,
    options: NodeOperationOptions = {},
    op: NodeOperation = 'rolling-maintenance',
  ): string[] {
    try {
      buildNodeOperation(loadSpec(file), op, options);
    } catch (err) {
      if (err instanceof SpecError) return err.problems;
      throw err;
    }
    return [];
  }

  it('resolves nodes, their LB member names and the LB hosts from the inventory, keeping the defaults', () => {
    const op = buildNodeOperation(
      loadSpec(spec({ nodes: nodes(), loadBalancer: lb({ members: { app2: 'web2' } }) })),
      'rolling-maintenance',
    );
    const input = op.input as RollingInput;
    expect(input.nodes.map((n) => [n.name, n.member.name, n.member.address, n.member.port])).toEqual([
      ['app1', 'app1', '10.1.0.21', 8080],
      ['app2', 'web2', '10.1.0.22', 8080],
    ]);
    expect(input.reference).toBe('app1');
    expect(input.loadBalancer?.hosts.map((h) => h.name)).toEqual(['db1']);
    expect(input.loadBalancer?.haproxy.socket).toBe('/run/haproxy/admin.sock');
    expect(input.settings.maintenance).toMatchObject({
      serial: 1,
      maxFailPercentage: 0,
      onDrainTimeout: 'abort',
      onFailure: 'enable',
      approve: 'none',
    });
    expect(input.settings.health.http).toMatchObject({ path: '/check.txt', status: 200 });
  });

  it('names every bad field at once, before anything runs', () => {
    expect(
      nodeProblems(
        spec({
          nodes: nodes({
            hosts: ['app', 'web9'],
            maintenance: {
              serial: ['1', 'half'],
              window: { timezone: 'Mars/Olympus', start: '25:00', end: '03:00' },
            },
          }),
          loadBalancer: lb({ kind: 'nginx' }),
        }),
      ),
    ).toEqual([
      'loadBalancer.config: required for nginx: the file holding the upstream lines',
      'nodes.maintenance.serial[0]: a number or a percentage like "25%"',
      'nodes.maintenance.serial[1]: a number or a percentage like "25%"',
      'nodes.maintenance.window.timezone: not an IANA time zone like Europe/Berlin',
      'nodes.maintenance.window.start: HH:MM in quotes, e.g. "03:00" (unquoted it is a number in YAML 1.1)',
      'nodes.maintenance.window.end: HH:MM in quotes, e.g. "03:00" (unquoted it is a number in YAML 1.1)',
    ]);
    expect(
      nodeProblems(
        spec({
          nodes: nodes({ hosts: ['app', 'web9'], reference: 'db1' }),
          loadBalancer: lb({ kind: 'lvs', backend: 'app' }),
        }),
      ),
    ).toEqual(['loadBalancer.backend: for lvs: the virtual service as address:port, e.g. 10.77.0.100:80']);
    expect(
      nodeProblems(
        spec({
          nodes: nodes({ hosts: ['app', 'web9'], reference: 'db1' }),
          loadBalancer: lb({ hosts: 'lb9' }),
        }),
      ),
    ).toEqual([
      'nodes.hosts[1]: unknown host or group "web9"',
      'nodes.reference: "db1" is not one of the nodes',
      'loadBalancer.hosts[0]: unknown host or group "lb9"',
    ]);
  });

  it('refuses an Apache route read from a server config the spec does not name', () => {
    const apache = lb({ kind: 'apache', config: '/etc/apache2/conf-available/app-members.conf' });
    expect(
      nodeProblems(
        spec({ nodes: nodes(), loadBalancer: { ...apache, apache: { routeFromConfig: 'nodeid' } } }),
      ),
    ).toEqual([
      'loadBalancer.apache.routeFromConfig: a key of nodes.config, which the spec does not have (or give { path, key })',
    ]);
    expect(
      nodeProblems(
        spec({
          nodes: nodes({ config: { path: '/opt/app/PowerFolder.config' } }),
          loadBalancer: { ...apache, apache: { routeFromConfig: 'nodeid' } },
        }),
      ),
    ).toEqual([]);
    // A route the node's installer writes into a file of its own needs no nodes.config.
    const installer = {
      routeFromConfig: { path: '/opt/open-xchange/etc/server.properties', key: 'AJP_JVM_ROUTE' },
    };
    expect(nodeProblems(spec({ nodes: nodes(), loadBalancer: { ...apache, apache: installer } }))).toEqual(
      [],
    );
  });

  it('refuses to remove a node that is not one, to roll unknown nodes, and to join a host missing from the inventory', () => {
    const file = spec({ nodes: nodes(), loadBalancer: lb() });
    expect(nodeProblems(file, { node: 'db2' }, 'node-remove')).toEqual([
      'node: "db2" is not one of the nodes (app1, app2)',
    ]);
    expect(nodeProblems(file, { only: ['app1', 'app7'] })).toEqual([
      '--only: not nodes of this cluster: app7',
    ]);
    expect(nodeProblems(file, { node: 'app9' }, 'node-join')).toEqual([
      'node: "app9" is not in the inventory',
    ]);
    expect(nodeProblems(file, {}, 'config-drift')).toEqual([
      'nodes.config: the spec names no server config to compare',
    ]);
  });

  it('keeps a joining node out of the cluster it joins, even when the inventory group already lists it', () => {
    const op = buildNodeOperation(
      loadSpec(spec({ nodes: nodes({ reference: 'app1' }), loadBalancer: lb() })),
      'node-join',
      { node: 'app2' },
    );
    const input = op.input as RollingInput & { joining: { name: string; member: { address: string } } };
    expect(input.nodes.map((n) => n.name)).toEqual(['app1']);
    expect(input.joining.name).toBe('app2');
    expect(input.joining.member.address).toBe('10.1.0.22');
  });
});

describe('cluster spec: storage', () => {
  const nfs = (over: Record<string, unknown> = {}) => ({
    kind: 'nfs',
    owner: { user: 'ox', uid: 1001, gid: 1001 },
    nfs: {
      server: 'db1',
      exports: [
        {
          path: '/var/opt/filestore',
          clients: [{ hosts: 'app', options: ['rw', 'all_squash', 'anonuid=1001'] }],
        },
      ],
    },
    clients: { hosts: 'app', mountPoint: '/var/opt/filestore' },
    ...over,
  });
  const storageProblems = (file: string): string[] => {
    try {
      storageInput(loadSpec(file));
    } catch (err) {
      if (err instanceof SpecError) return err.problems;
      throw err;
    }
    return [];
  };

  it("resolves the seed's export: the app group becomes one client entry per node address", () => {
    const input = storageInput(loadSpec(spec({ storage: nfs() })));
    expect(input.servers.map((s) => s.name)).toEqual(['db1']);
    expect(input.clients.map((c) => c.name)).toEqual(['app1', 'app2']);
    expect(input.exports[0].clients).toEqual([
      { match: '10.1.0.21', options: ['rw', 'all_squash', 'anonuid=1001'] },
      { match: '10.1.0.22', options: ['rw', 'all_squash', 'anonuid=1001'] },
    ]);
    expect(input.section.nfs?.backend).toBe('kernel');
    expect(input.section.clients).toMatchObject({ version: '4.1', hard: true, chrootHome: false });
  });

  it('names a missing section, an option that could inject into exports, and replica sets that do not add up', () => {
    expect(storageProblems(spec({ storage: { ...nfs(), nfs: undefined } }))).toEqual([
      'storage.nfs: required for kind nfs',
    ]);
    expect(
      storageProblems(
        spec({
          storage: nfs({
            nfs: {
              server: 'db1',
              exports: [{ path: '/x', clients: [{ hosts: 'app', options: ['rw) *(rw'] }] }],
            },
          }),
        }),
      ),
    ).toEqual(['storage.nfs.exports[0].clients[0].options[0]: an exports option like rw or anonuid=1001']);
    expect(
      storageProblems(
        spec({
          storage: {
            ...nfs(),
            kind: 'glusterfs',
            nfs: undefined,
            glusterfs: { servers: ['db1', 'db2', 'db3'], volume: 'data', brick: '/srv/b' },
          },
        }),
      ),
    ).toEqual(['storage.glusterfs.servers: 3 servers do not make whole replica-2 sets']);
    expect(storageProblems(spec({ storage: nfs({ clients: { hosts: 'web', mountPoint: '/m' } }) }))).toEqual([
      'storage.clients.hosts[0]: unknown host or group "web"',
    ]);
  });
});

describe('cluster spec: license', () => {
  const command = {
    check: 'app-license check',
    activate: 'app-license activate',
    deactivate: 'app-license off',
  };
  const licenseProblems = (file: string, only?: string[]): string[] => {
    try {
      licenseInput(loadSpec(file), only);
    } catch (err) {
      if (err instanceof SpecError) return err.problems;
      throw err;
    }
    return [];
  };

  it('gives each node its own key where the spec has one (seed 001) and the shared key elsewhere', () => {
    const input = licenseInput(
      loadSpec(
        spec({
          license: { hosts: 'app', driver: 'command', command, key: 'env:K', keys: { app2: 'file:/etc/k2' } },
        }),
      ),
    );
    expect(input.nodes.map((n) => [n.name, n.key, n.target.address])).toEqual([
      ['app1', 'env:K', '10.1.0.21'],
      ['app2', 'file:/etc/k2', '10.1.0.22'],
    ]);
    // references only: the section the workflow gets has no key fields at all
    expect(Object.keys(input.section)).not.toContain('key');
    expect(input.section.command).toMatchObject({
      keyVia: 'stdin',
      notActiveExitCodes: [3],
      refusedExitCodes: [4],
    });
  });

  it('names every bad field: a key given as a value, a missing driver section, a key file the command never names', () => {
    expect(
      licenseProblems(spec({ license: { hosts: 'app', driver: 'http', key: 'CFAPP-1234' } })).sort(),
    ).toEqual([
      'license.http: required for driver http',
      'license.key: must be a reference like env:NAME or file:/absolute/path',
    ]);
    expect(
      licenseProblems(
        spec({
          license: { hosts: 'app', driver: 'command', command: { ...command, keyVia: 'file' }, key: 'env:K' },
        }),
      ),
    ).toEqual(['license.command.activate: keyVia file: the command must name the key file as {keyFile}']);
  });

  it('refuses keys for hosts it does not license, nodes without any key, and --only outside the section', () => {
    expect(
      licenseProblems(
        spec({ license: { hosts: 'app1', driver: 'command', command, keys: { app2: 'env:K2' } } }),
        ['db1'],
      ),
    ).toEqual([
      'license.keys.app2: not one of the license hosts',
      '--only: db1 is not one of the license hosts',
    ]);
    expect(
      licenseProblems(
        spec({ license: { hosts: 'app', driver: 'command', command, keys: { app1: 'env:K1' } } }),
      ),
    ).toEqual(['license.keys.app2: no key for this node and no shared key']);
  });
});

describe('license expiry', () => {
  it('counts whole days to the expiry date in UTC, negative once past', () => {
    const now = new Date('2026-11-23T22:30:00Z');
    expect(daysUntil('2026-11-24', now)).toBe(1);
    expect(daysUntil('2026-11-23', now)).toBe(0);
    expect(daysUntil('2027-12-31', now)).toBe(403);
    expect(daysUntil('2026-11-01', now)).toBe(-22);
  });
});
