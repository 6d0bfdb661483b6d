import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadInventory,
  parseYamlInventory,
  resolveTargets,
  selectHosts,
  targetFor,
  varsOf,
  InventoryError,
} from '../../client/inventory';
import { allocateAddress, renderInventory, renderKnownHosts, roleOf } from '../../lab/inventory';

/** A real-world shaped inventory: an InterWorx-like cluster with a manager, nodes in two sites, and a DB pair. */
const CLUSTER = `
all:
  vars:
    cluster_name: acme
    ansible_user: deploy
    ansible_ssh_common_args: '-o UserKnownHostsFile=/etc/clusterflow/known_hosts -o StrictHostKeyChecking=yes'
  children:
    lb:
      hosts:
        lb1: { ansible_host: 192.0.2.10 }
    app:
      vars:
        http_port: 8080
      children:
        app_eu:
          hosts:
            app1: { ansible_host: 192.0.2.21 }
            app2: { ansible_host: 192.0.2.22, http_port: 9090 }
        app_us:
          hosts:
            app3: { ansible_host: 198.51.100.23, ansible_port: 2222, ansible_user: admin }
    db:
      vars:
        ansible_become: true
      hosts:
        db1: { ansible_host: 192.0.2.31 }
        db2:
          ansible_host: 192.0.2.32
          ansible_ssh_private_key_file: /keys/db.pem
    eu:
      hosts:
        lb1:
        app1:
        app2:
        db1:
        db2:
`;

const inv = parseYamlInventory(CLUSTER, 'cluster.yml');

describe('Ansible YAML inventory', () => {
  it('finds every host once, in file order', () => {
    expect(selectHosts(inv, 'all')).toEqual(['lb1', 'app1', 'app2', 'app3', 'db1', 'db2']);
  });

  it('merges vars with Ansible precedence: all < parent < child < host', () => {
    expect(varsOf(inv, 'app1')).toMatchObject({ http_port: 8080, ansible_user: 'deploy' });
    expect(varsOf(inv, 'app2').http_port).toBe(9090);
    expect(varsOf(inv, 'app3').ansible_user).toBe('admin');
    expect(varsOf(inv, 'db1').ansible_become).toBe(true);
  });

  it('resolves connection targets from Ansible variables', () => {
    expect(targetFor(inv, 'app3')).toMatchObject({
      name: 'app3',
      address: '198.51.100.23',
      port: 2222,
      user: 'admin',
      knownHostsFile: '/etc/clusterflow/known_hosts',
    });
    expect(targetFor(inv, 'db2').privateKey).toBe('file:/keys/db.pem');
    expect(targetFor(inv, 'db1').privateKey).toBeUndefined();
  });

  it('refuses a password value so it can never reach workflow history', () => {
    const withPassword = parseYamlInventory(
      'all:\n  hosts:\n    h1:\n      ansible_password: hunter2\n',
      'pw.yml',
    );
    expect(() => targetFor(withPassword, 'h1')).toThrow(/ansible_password must be a reference/);
    const withRef = parseYamlInventory(
      'all:\n  hosts:\n    h1:\n      ansible_password: env:H1_PASSWORD\n',
      'pw.yml',
    );
    expect(targetFor(withRef, 'h1').password).toBe('env:H1_PASSWORD');
  });

  it('names file and line of a structural error', () => {
    const bad = 'all:\n  hosts:\n    h1:\n  childs:\n    x: {}\n';
    expect(() => parseYamlInventory(bad, 'bad.yml')).toThrow(
      /bad\.yml: line 4 \(all\.childs\).*unknown key "childs"/,
    );
  });

  it('offers the group key a typo most likely meant', () => {
    expect(() =>
      parseYamlInventory('all:\n  children:\n    web:\n      hots:\n        w1:\n', 'typo.yml'),
    ).toThrow(
      'typo.yml: line 4 (all.children.web.hots): unknown key "hots" in group "web"; did you mean hosts?',
    );
    expect(() => parseYamlInventory('all:\n  servers:\n    w1:\n', 'far.yml')).toThrow(
      'unknown key "servers" in group "all" (expected hosts, vars or children)',
    );
  });

  it('refuses host vars, group vars and children that are not mappings', () => {
    expect(() => parseYamlInventory('all:\n  hosts:\n    h1: [a]\n', 'h.yml')).toThrow(
      /h\.yml: line 3 \(all\.hosts\.h1\): vars of host "h1" must be a mapping/,
    );
    expect(() => parseYamlInventory('all:\n  vars: [a]\n', 'v.yml')).toThrow(/vars must be a mapping/);
    expect(() => parseYamlInventory('all:\n  children: [web]\n', 'c.yml')).toThrow(
      /children must be a mapping of group names/,
    );
  });

  it('names file and line of a YAML syntax error', () => {
    expect(() => parseYamlInventory('all:\n  hosts:\n    h1: [\n', 'broken.yml')).toThrow(InventoryError);
  });
});

describe('host patterns (--limit)', () => {
  it.each([
    ['db', ['db1', 'db2']],
    ['app', ['app1', 'app2', 'app3']],
    ['app1,db2', ['app1', 'db2']],
    ['app:db', ['app1', 'app2', 'app3', 'db1', 'db2']],
    ['app:&eu', ['app1', 'app2']],
    ['all:!eu', ['app3']],
    ['app*:!app_us', ['app1', 'app2']],
    ['db?', ['db1', 'db2']],
    ['~^(lb|db)1$', ['lb1', 'db1']],
  ])('%s selects %j', (pattern, expected) => {
    expect(selectHosts(inv, pattern)).toEqual(expected);
  });

  it('is an error when nothing matches', () => {
    expect(() => selectHosts(inv, 'nosuch')).toThrow(/matched no hosts/);
  });
});

describe('the lab inventory', () => {
  const hosts = [
    { name: 'lb1', address: '10.77.0.11', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA root@lb1' },
    { name: 'app1', address: '10.77.0.12', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB root@app1' },
    { name: 'app2', address: '10.77.0.13', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC root@app2' },
  ];
  const files = { key: '/lab/id_ed25519', knownHosts: '/lab/known_hosts' };

  it('is read back by our own inventory parser into targets with the pinned known_hosts', () => {
    const labInv = parseYamlInventory(renderInventory(hosts, files), 'lab.yml');
    const targets = resolveTargets(labInv, 'app');
    expect(targets.map((t) => [t.name, t.address])).toEqual([
      ['app1', '10.77.0.12'],
      ['app2', '10.77.0.13'],
    ]);
    expect(targets[0]).toMatchObject({
      user: 'root',
      privateKey: 'file:/lab/id_ed25519',
      knownHostsFile: '/lab/known_hosts',
    });
  });

  it('pins each host key under both name and address', () => {
    expect(renderKnownHosts(hosts)).toContain('app1,10.77.0.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n');
  });

  it('groups hosts by role and hands out the lowest free address', () => {
    expect(roleOf('app12')).toBe('app');
    expect(roleOf('db-2')).toBe('db');
    expect(roleOf('bastion')).toBeUndefined();
    expect(allocateAddress(['10.77.0.11', '10.77.0.13'])).toBe('10.77.0.12');
  });
});

describe('inventory files beside the inventory', () => {
  const setup = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-inv-strict-'));
    writeFileSync(path.join(dir, 'hosts.yml'), 'all:\n  children:\n    web:\n      hosts:\n        w1:\n');
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return path.join(dir, 'hosts.yml');
  };

  it('refuses a vars file that is not a mapping, naming the file', () => {
    const file = setup({ 'group_vars/web.yml': '- port: 8080\n' });
    expect(() => loadInventory(file)).toThrow(
      `${path.join(path.dirname(file), 'group_vars/web.yml')}: a vars file is a mapping`,
    );
    const scalar = setup({ 'host_vars/w1/main.yml': 'port 8080\n' });
    expect(() => loadInventory(scalar)).toThrow(/host_vars\/w1\/main\.yml: a vars file is a mapping/);
  });

  it('refuses a vars file that is not valid YAML, naming the file', () => {
    const file = setup({ 'host_vars/w1.yml': 'port: [8080\n' });
    expect(() => loadInventory(file)).toThrow(/host_vars\/w1\.yml: /);
  });

  it('takes any variable names in a vars file: they are variables, not keys of ours', () => {
    const file = setup({ 'group_vars/web.yml': 'anything_at_all: 1\nAnsible-Style: two\n' });
    expect(varsOf(loadInventory(file), 'w1')).toMatchObject({ anything_at_all: 1, 'Ansible-Style': 'two' });
  });

  it('refuses an INI section of an unknown kind, naming file and line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-inv-ini-'));
    writeFileSync(path.join(dir, 'hosts'), '[web]\nw1\n[web:var]\nport=1\n');
    expect(() => loadInventory(path.join(dir, 'hosts'))).toThrow(
      `${path.join(dir, 'hosts')}:3: cannot read section header [web:var]`,
    );
  });
});
