import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  InventoryError,
  expandHostRange,
  parseIniInventory,
  parseYamlInventory,
  selectHosts,
  targetFor,
} from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { loadSpec, SpecError } from '../../client/spec';
import { parseKnownHosts, verifyHostKey } from '../../activities/ssh/known-hosts';
import { messageProblem } from './fuzz/contract';

/** The smallest inputs that broke a parser under fuzzing or a pathological probe, one test each. */

const dir = mkdtempSync(path.join(tmpdir(), 'cf-fuzz-regress-'));

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** Passes when `run` finishes within `ms` (a regression would hang for seconds or forever). */
function quick<T>(ms: number, run: () => T): T {
  const started = performance.now();
  const value = run();
  expect(performance.now() - started).toBeLessThan(ms);
  return value;
}

// 40 hosts whose names make a backtracking matcher try every way to split them.
const manyHosts = parseIniInventory(
  Array.from({ length: 40 }, (_, i) => `${'a'.repeat(28)}${i}x`).join('\n'),
  'many.ini',
);

const billionLaughs = [
  'all:',
  '  vars:',
  '    a: &a [x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 8 }, (_, i) => {
    const [name, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
    return `    ${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`;
  }),
].join('\n');

describe('host ranges', () => {
  it('refuses node[0:99999999] at once, naming the file, line and range', () => {
    const err = quick(200, () => thrown(() => parseIniInventory('node[0:99999999]\n', 'hosts.ini')));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toBe('hosts.ini:1: host range "node[0:99999999]": expands to more than 10000 hosts');
  });

  it('refuses nested ranges whose product exceeds the bound', () => {
    expect(() => expandHostRange('r[1:200]n[1:200]')).toThrow('expands to more than 10000 hosts');
    expect(expandHostRange('r[1:100]n[1:100]')).toHaveLength(10_000);
  });

  it('refuses a step of 0 instead of looping forever', () => {
    expect(() => quick(200, () => expandHostRange('web[1:3:0]'))).toThrow('the step must be at least 1');
  });

  it('refuses a backwards range instead of dropping the host', () => {
    expect(() => expandHostRange('web[9:1]')).toThrow('host range "web[9:1]": 9 comes after 1');
  });

  it('refuses a range mixing a number and a letter', () => {
    expect(() => expandHostRange('n[0:z]')).toThrow('give two numbers or two single letters');
  });
});

describe('YAML inventories', () => {
  it('refuses a billion-laughs alias bomb with InventoryError', () => {
    const err = quick(1000, () => thrown(() => parseYamlInventory(billionLaughs, 'bomb.yml')));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toMatch(/^bomb\.yml: Excessive alias count/);
  });

  it('refuses an alias to an anchor that does not exist with InventoryError', () => {
    const err = thrown(() => parseYamlInventory('all: *a""\n', 'alias.yml'));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toMatch(/^alias\.yml: Unresolved alias/);
  });

  it('refuses a group made its own child through an alias', () => {
    const err = thrown(() => parseYamlInventory('all: &a\n  children:\n    x: *a\n', 'cycle.yml'));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toContain('group "x" is its own ancestor');
  });

  it('says a deeply nested document is nested too deeply, not that the stack overflowed', () => {
    const err = quick(3000, () =>
      thrown(() => parseYamlInventory(`all: ${'['.repeat(5000)}${']'.repeat(5000)}`, 'deep.yml')),
    );
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toMatch(/^deep\.yml:1: nested too deeply/);
    expect(messageProblem(err.message, ['deep.yml'])).toBeUndefined();
  });
});

describe('host patterns', () => {
  it('refuses an invalid regular expression with InventoryError', () => {
    const err = thrown(() => selectHosts(manyHosts, '~(a'));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toMatch(/^many\.ini: host pattern "~\(a" is not a regular expression/);
  });

  it.each(['~^(a+)+$', '~(a|aa)*$', '~(a*)*b', '~(a+){2,}$', '~(x)\\1'])(
    'refuses the backtracking regex %s before running it',
    (pattern) => {
      const err = quick(100, () => thrown(() => selectHosts(manyHosts, pattern)));
      expect(err).toBeInstanceOf(InventoryError);
      expect(err.message).toContain(`host pattern "${pattern}": `);
    },
  );

  it('still runs ordinary regexes, groups and alternatives included', () => {
    const inv = parseIniInventory('[web]\nweb1\nweb2\n[db]\ndb1\n', 'h.ini');
    expect(selectHosts(inv, '~^(web|db)1$')).toEqual(['web1', 'db1']);
    expect(selectHosts(inv, '~(?<kind>web)\\d+')).toEqual(['web1', 'web2']);
  });

  it('matches a many-star glob in linear time', () => {
    expect(() => quick(200, () => selectHosts(manyHosts, '*a*a*a*a*a*a*a*a*a*a*a*a*b'))).toThrow(
      'matched no hosts',
    );
    expect(quick(200, () => selectHosts(manyHosts, '*a*a*a*a*a*a*a*a*a*a*a*a*x'))).toHaveLength(40);
  });
});

describe('connection targets', () => {
  it('refuses an unreadable ProxyJump with InventoryError naming the host', () => {
    const inv = parseIniInventory("db1 ansible_ssh_common_args='-o ProxyJump=a:b:c'\n", 'jump.ini');
    const err = thrown(() => targetFor(inv, 'db1'));
    expect(err).toBeInstanceOf(InventoryError);
    expect(err.message).toBe('jump.ini: host db1: cannot read ProxyJump "a:b:c"');
  });
});

describe('known_hosts', () => {
  it('matches a many-star pattern in linear time', () => {
    const entries = parseKnownHosts('*a*a*a*a*a*a*a*a*a*a*a*a*b ssh-ed25519 AAAA\n');
    const verdict = quick(200, () => verifyHostKey(entries, ['a'.repeat(40)], Buffer.from('x'), 'kh'));
    expect(verdict).toMatchObject({ ok: false, kind: 'unknown' });
  });

  it('keeps a refusal on one line when the server sends a key type with a line break', () => {
    const verdict = verifyHostKey(
      parseKnownHosts('* ssh-ed25519 \tc\n'),
      [''],
      Buffer.from([0, 0, 0, 1, 10]),
      'kh',
    );
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.message).not.toContain('\n');
  });
});

describe('the spec and the playbook', () => {
  it('a spec with a tab in its indentation reports the YAML error and its line, not a read failure', () => {
    const file = path.join(dir, 'tab.yml');
    writeFileSync(file, 'cluster: x\ndatabase:\n\tprimary: db1\n');
    const err = thrown(() => loadSpec(file));
    expect(err).toBeInstanceOf(SpecError);
    expect(err.message).toMatch(/Tabs are not allowed as indentation at line 3/);
  });

  it('a deeply nested spec or playbook is refused as nested too deeply', () => {
    const file = path.join(dir, 'deep.yml');
    writeFileSync(file, `cluster: ${'['.repeat(5000)}${']'.repeat(5000)}`);
    const specErr = thrown(() => loadSpec(file));
    expect(specErr).toBeInstanceOf(SpecError);
    expect(messageProblem(specErr.message, [file])).toBeUndefined();
    const inv = parseIniInventory('app1\n', 'h.ini');
    const options = { check: false, diff: false, tags: [], forks: 1, cluster: 'x' };
    const playErr = thrown(() => loadPlaybook(file, inv, options));
    expect(playErr).toBeInstanceOf(PlaybookError);
    expect(playErr.message).toContain('nested too deeply');
  });
});
