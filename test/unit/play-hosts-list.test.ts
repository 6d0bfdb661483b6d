import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseIniInventory } from '../../client/inventory';
import { loadPlaybook } from '../../client/play';

// An operation runs its play on exactly the nodes it names. The list used to be joined with ':'
// and parsed back as a host pattern, so a name with pattern characters (an IPv6 address, a
// group's name) meant other hosts, or all of them.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-hosts-list-'));
const inventoryFile = path.join(dir, 'hosts.ini');
const inv = parseIniInventory(
  ['[app]', 'app1', 'app2', 'fd00::5', '', '[db]', 'db1', ''].join('\n'),
  inventoryFile,
);
const file = path.join(dir, 'site.yml');
writeFileSync(file, ['- hosts: all', '  tasks:', '    - command: /bin/true', ''].join('\n'));

const hostsOf = (limit?: string | string[]) =>
  loadPlaybook(file, inv, {
    limit,
    check: false,
    diff: false,
    tags: [],
    forks: 5,
    cluster: 'hl',
  }).plays.flatMap((p) => p.hosts.map((h) => h.target.name));

describe("an operation's host list", () => {
  it('runs on exactly the listed hosts, an IPv6 address included', () => {
    expect(hostsOf(['fd00::5'])).toEqual(['fd00::5']);
    expect(hostsOf(['app2', 'db1']).sort()).toEqual(['app2', 'db1']);
  });

  it('matches names, never patterns: a group name in the list is not its members', () => {
    expect(() => hostsOf(['app'])).toThrow(/no host matched any play within --limit app/);
  });

  it('still reads --limit as a host pattern', () => {
    expect(hostsOf('app:!app1').sort()).toEqual(['app2', 'fd00::5']);
  });
});
