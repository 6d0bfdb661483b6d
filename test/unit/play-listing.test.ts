import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

// ansible-playbook's --syntax-check and listing flags: the playbook read and checked, its hosts,
// tasks or tags printed, and no Temporal server needed (none listens at the address given).

const dir = mkdtempSync(path.join(tmpdir(), 'cf-listing-'));
writeFileSync(
  path.join(dir, 'hosts.ini'),
  '[lab]\nnode1 ansible_host=10.1.0.1\nnode2 ansible_host=10.1.0.2\n',
);
const site = path.join(__dirname, '../fixtures/roles-play/site.yml');

function clusterflow(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['bin/clusterflow.js', 'play', site, '-i', path.join(dir, 'hosts.ini'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      timeout: 60_000,
    },
  );
}

describe('playbook listings', () => {
  it('list the tasks in the order they run, with their roles and tags, without a server', () => {
    const r = clusterflow('--list-tasks');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('      '))).toEqual([
      '      the root\tTAGS: []',
      '      cf_base : the base file\tTAGS: []',
      '      cf_motd : motd from the template\tTAGS: []',
      '      cf_motd : one file per line\tTAGS: []',
      '      a play task\tTAGS: []',
      '      what the handlers did\tTAGS: []',
      '      handlers ran after their section\tTAGS: []',
    ]);
  });

  it('list the hosts of each play, and pass a syntax check', () => {
    const hosts = clusterflow('--list-hosts');
    expect(hosts.stdout).toContain('    hosts (2):\n      node1\n      node2');
    const syntax = clusterflow('--syntax-check');
    expect([syntax.status, syntax.stdout.trim()]).toEqual([0, 'playbook: site.yml']);
  });
});
