import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  expandHostRange,
  loadInventory,
  parseIniInventory,
  selectHosts,
  targetFor,
  varsOf,
} from '../../client/inventory';

/** A real-world shaped INI inventory: a hosting-panel cluster with a manager and numbered nodes. */
const INI = `
# InterWorx-style cluster
mgr.example.org ansible_host=192.0.2.5 ansible_port=2222

[nodes]
node[01:03].example.org http_port=8080 ansible_become=true

[db]
db-[a:b].example.org

[cluster:children]
nodes
db

[cluster:vars]
ntp_server = pool.example.org
ansible_user=ops

[db:vars]
ansible_ssh_common_args='-o ProxyJump=ops@mgr.example.org -o UserKnownHostsFile=/etc/cf/known_hosts -o StrictHostKeyChecking=accept-new'
`;

describe('Ansible INI inventory', () => {
  const inv = parseIniInventory(INI, 'hosts.ini');

  it('expands numeric and alphabetic host ranges', () => {
    expect(expandHostRange('node[01:03].x')).toEqual(['node01.x', 'node02.x', 'node03.x']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostRange('web[1:6:2]')).toEqual(['web1', 'web3', 'web5']);
  });

  it('reads groups, children and ungrouped hosts', () => {
    expect(selectHosts(inv, 'cluster')).toEqual([
      'node01.example.org',
      'node02.example.org',
      'node03.example.org',
      'db-a.example.org',
      'db-b.example.org',
    ]);
    expect(selectHosts(inv, 'ungrouped')).toEqual(['mgr.example.org']);
  });

  it('types inline host values and keeps :vars values as strings', () => {
    expect(varsOf(inv, 'node01.example.org')).toMatchObject({
      http_port: 8080,
      ansible_become: true,
      ntp_server: 'pool.example.org',
    });
    expect(targetFor(inv, 'mgr.example.org')).toMatchObject({ address: '192.0.2.5', port: 2222 });
  });

  it('turns ansible_become, ProxyJump and StrictHostKeyChecking into connection settings', () => {
    expect(targetFor(inv, 'node02.example.org')).toMatchObject({ user: 'ops', become: { user: 'root' } });
    expect(targetFor(inv, 'db-a.example.org')).toMatchObject({
      hostKeyChecking: 'accept-new',
      knownHostsFile: '/etc/cf/known_hosts',
      // The bastion is an inventory host: its address and port come from there.
      jump: { name: 'mgr.example.org', address: '192.0.2.5', port: 2222, user: 'ops' },
    });
  });

  it('names the file and line of an error', () => {
    expect(() => parseIniInventory('[web]\nweb1 novalue\n', 'bad.ini')).toThrow(
      /bad\.ini:2: expected key=value/,
    );
    expect(() => parseIniInventory('[a:children]\nnosuch\n', 'bad.ini')).toThrow(/bad\.ini:2: .*not a group/);
  });
});

describe('group_vars and host_vars beside the inventory', () => {
  it('override inventory vars, from files and from folders', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-inv-'));
    writeFileSync(path.join(dir, 'hosts'), '[app]\napp1 tier=inline\napp2\n[app:vars]\nport=1\n');
    mkdirSync(path.join(dir, 'group_vars', 'app'), { recursive: true });
    writeFileSync(path.join(dir, 'group_vars', 'all.yml'), 'cluster_name: prod\n');
    writeFileSync(path.join(dir, 'group_vars', 'app', '10-ports.yml'), 'port: 8443\n');
    mkdirSync(path.join(dir, 'host_vars'));
    writeFileSync(path.join(dir, 'host_vars', 'app1.yaml'), 'tier: gold\n');
    const inv = loadInventory(path.join(dir, 'hosts'));
    expect(varsOf(inv, 'app1')).toMatchObject({ cluster_name: 'prod', port: 8443, tier: 'gold' });
    expect(varsOf(inv, 'app2')).toMatchObject({ port: 8443 });
  });
});
