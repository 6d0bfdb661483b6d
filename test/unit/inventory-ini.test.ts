import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pythonLiteral } from '../../client/inventory/python-literal';
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

  it('reads values as Python literals, as Ansible does: 8080 a number, true (not True) a string', () => {
    expect(varsOf(inv, 'node01.example.org')).toMatchObject({
      http_port: 8080,
      ansible_become: 'true',
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

describe('INI values and quoting, as Ansible reads them', () => {
  /** A host's vars from the file alone (without the inventory_hostname every host has). */
  const vars = (text: string, host = 'h1') => {
    const own = { ...varsOf(parseIniInventory(text, 'hosts.ini'), host) };
    delete own.inventory_hostname;
    return own;
  };

  it('keeps a # inside quotes and ends the line at a # outside them', () => {
    // shlex: a # starting inside a word ends the line there too, so x=1 is never read.
    expect(vars('h1 motd="up #1 today" tag=a#comment x=1\n')).toEqual({ motd: 'up #1 today', tag: 'a' });
    expect(vars('h1 x=1 # trailing\n')).toEqual({ x: 1 });
    expect(vars('[g]\nh1\n[g:vars]\nmotd = \'up #1 today\'\ncolor = "#ff0000"\n')).toMatchObject({
      motd: 'up #1 today',
      color: '#ff0000',
    });
  });

  it('keeps a quoted :vars value a string: port="8080" is the string 8080, port=8080 the number', () => {
    expect(vars('[g]\nh1\n[g:vars]\nport="8080"\nother=8080\nflag=True\nname=pool.example.org\n')).toEqual({
      port: '8080',
      other: 8080,
      flag: true,
      name: 'pool.example.org',
    });
  });

  it('on a host line, reads the value after shlex has removed its quotes, so only double quoting keeps a string', () => {
    // Ansible splits host lines with shlex first: port="8080" arrives as port=8080, a number.
    expect(vars(`h1 port="8080" id='"0042"' path="/srv/my files" empty=""\n`)).toEqual({
      port: 8080,
      id: '0042',
      path: '/srv/my files',
      empty: '',
    });
  });

  it('keeps what is no Python literal as the text written', () => {
    expect(vars('h1 ip=10.0.0.1 zip=0123 yes=yes mode=0644 ver=1.10 user=root\n')).toEqual({
      ip: '10.0.0.1',
      zip: '0123',
      yes: 'yes',
      mode: '0644',
      ver: 1.1,
      user: 'root',
    });
  });

  it('names the file and line of an unclosed quote', () => {
    expect(() => parseIniInventory('[web]\nweb1 motd="open\n', 'bad.ini')).toThrow(
      /bad\.ini:2: no closing quotation/,
    );
  });

  it('accepts a comment after a section header', () => {
    expect(selectHosts(parseIniInventory('[web] # front\nweb1\n', 'h.ini'), 'web')).toEqual(['web1']);
  });
});

describe('Python literals in inventory values', () => {
  it('reads numbers, constants, strings and containers as ast.literal_eval does', () => {
    expect(pythonLiteral('42')).toBe(42);
    expect(pythonLiteral('-7')).toBe(-7);
    expect(pythonLiteral('0x1F')).toBe(31);
    expect(pythonLiteral('0o755')).toBe(493);
    expect(pythonLiteral('1_000')).toBe(1000);
    expect(pythonLiteral('2.5e3')).toBe(2500);
    expect(pythonLiteral('True')).toBe(true);
    expect(pythonLiteral('None')).toBeNull();
    expect(pythonLiteral(`'it\\'s'`)).toBe("it's");
    expect(pythonLiteral(`"a" 'b'`)).toBe('ab');
    expect(pythonLiteral(`r'\\d+'`)).toBe('\\d+');
    expect(pythonLiteral(`"tab\\there"`)).toBe('tab\there');
    expect(pythonLiteral(`[1, 'two', (3, 4), {'k': None}]`)).toEqual([1, 'two', [3, 4], { k: null }]);
    expect(pythonLiteral(`{'a': 1, 'b': [True,],}`)).toEqual({ a: 1, b: [true] });
    expect(pythonLiteral('8080 # the port')).toBe(8080);
  });

  it('gives back the text for anything else', () => {
    for (const text of [
      'true',
      'yes',
      'pool.example.org',
      '10.0.0.1',
      '0644',
      '1j',
      'a b',
      "'open",
      '[1, 2',
      'f"x"',
      '__import__("os")',
      '99999999999999999999',
    ])
      expect(pythonLiteral(text)).toBe(text);
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
