import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { applyMode, chmodArgument, FileModeSchema, formatMode } from '../../common/file-mode';
import { parseAnsibleYaml } from '../../client/yaml';

const parse = (mode: unknown) => FileModeSchema.parse(mode);
const problem = (mode: unknown) => {
  const r = FileModeSchema.safeParse(mode);
  return r.success ? undefined : r.error.issues[0].message;
};

describe('file modes as written in a playbook', () => {
  it('takes a YAML 1.1 number as the mode itself: an unquoted 0644 is 0o644, not 1204', () => {
    const { mode } = parseAnsibleYaml('mode: 0644') as { mode: number };
    expect(parse(mode)).toBe(0o644);
    expect(parse((parseAnsibleYaml('mode: 0755') as { mode: number }).mode)).toBe(0o755);
    // A decimal number is used as it is, as Ansible does: 644 is 0o1204.
    expect(parse(644)).toBe(0o1204);
  });

  it('reads strings of octal digits as octal, with or without a leading zero', () => {
    expect(parse('0644')).toBe(0o644);
    expect(parse('644')).toBe(0o644);
    expect(parse('01777')).toBe(0o1777);
    expect(parse('0o750')).toBe(0o750);
    expect(parse('0000')).toBe(0);
  });

  it('keeps a symbolic mode to apply to the file later', () => {
    expect(parse('u=rw,g=r,o=r')).toBe('u=rw,g=r,o=r');
    expect(parse('a+rX')).toBe('a+rX');
    expect(parse('u=rwx,g=rx,o=')).toBe('u=rwx,g=rx,o=');
    expect(parse('u=rw-x+X,g=u')).toBe('u=rw-x+X,g=u');
  });

  it('refuses a number that is no mode, naming the value', () => {
    expect(problem(1234567)).toMatch(/^mode 1234567 is not a valid file mode/);
    expect(problem(0o10000)).toMatch(/^mode 4096 is not a valid file mode \(octal 10000/);
    expect(problem(-1)).toMatch(/^mode -1 is not a valid file mode/);
    expect(problem(6.5)).toMatch(/^mode 6.5 is not a valid file mode/);
    expect(problem(0o7777)).toBeUndefined();
  });

  it('refuses strings that are neither octal nor symbolic', () => {
    for (const bad of ['', '8', '0o8', '10000', 'rw-r--r--', 'u=rw;reboot', 'u=rw g=r', 'z+x', 'u', 'u=rq'])
      expect(problem(bad)).toMatch(/is not a valid file mode/);
    expect(problem(true)).toBeDefined();
  });
});

describe('applying a mode to a file', () => {
  it('sets an absolute mode whatever the file had', () => {
    expect(applyMode(0o777, 0o640, false)).toBe(0o640);
    expect(applyMode(0o2775, 0o755, true)).toBe(0o755);
  });

  it('applies symbolic modes to the current mode', () => {
    expect(applyMode(0o600, 'u=rw,g=r,o=r', false)).toBe(0o644);
    expect(applyMode(0o644, 'u+x', false)).toBe(0o744);
    expect(applyMode(0o666, 'go-w', false)).toBe(0o644);
    expect(applyMode(0o777, 'u=rwx,g=rx,o=', true)).toBe(0o750);
    expect(applyMode(0o4755, 'u=rwx', false)).toBe(0o755);
    expect(applyMode(0o750, 'g+s,o+t', true)).toBe(0o3750);
    expect(applyMode(0o640, 'g=u,o=g', false)).toBe(0o664);
  });

  it('gives X only to directories and files something may already execute', () => {
    expect(applyMode(0o600, 'a+rX', false)).toBe(0o644);
    expect(applyMode(0o700, 'a+rX', false)).toBe(0o755);
    expect(applyMode(0o600, 'a+rX', true)).toBe(0o755);
  });

  it('reads X and copies from the mode before the whole string, as Ansible does (chmod would not)', () => {
    // chmod(1) gives 0o754 here: it sees u+x before reading X for the group.
    expect(applyMode(0o644, 'u+x,g+X', false)).toBe(0o744);
    expect(applyMode(0o644, 'u+x,g=u', false)).toBe(0o764);
  });

  it('respects the umask only when no user class is given', () => {
    expect(applyMode(0o600, '+w', false, 0o022)).toBe(0o600);
    expect(applyMode(0o400, '+rx', false, 0o027)).toBe(0o550);
    expect(applyMode(0o400, 'a+rx', false, 0o027)).toBe(0o555);
  });

  it('skips an empty clause, as Ansible does with a trailing comma', () => {
    expect(applyMode(0o600, 'g+r,', false)).toBe(0o640);
  });
});

describe('modes as the host is told and as Ansible prints them', () => {
  it('prints modes with a leading zero, like Ansible', () => {
    expect(formatMode(0o644)).toBe('0644');
    expect(formatMode(0o2775)).toBe('02775');
    expect(formatMode(0)).toBe('0000');
  });

  it('gives chmod five digits, so a numeric mode also clears a directory`s setgid bit', () => {
    expect(chmodArgument(0o755)).toBe('00755');
    expect(chmodArgument(0o1777)).toBe('01777');
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-mode-'));
    try {
      chmodSync(dir, 0o2775);
      const r = spawnSync('chmod', [chmodArgument(0o755), dir], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(statSync(dir).mode & 0o7777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('symbolic modes agree with chmod(1) on a real file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-mode-'));
  const file = path.join(dir, 'f');
  writeFileSync(file, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The mode GNU chmod gives the file, from `start`, with umask 022 as the shell's. */
  const chmod = (start: number, mode: string): number => {
    chmodSync(file, start);
    const r = spawnSync('sh', ['-c', 'umask 022 && chmod -- "$1" "$2"', 'sh', mode, file], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return statSync(file).mode & 0o7777;
  };

  const users = fc.constantFrom('', 'u', 'g', 'o', 'a', 'ug', 'go', 'uo', 'ugo');
  const op = fc.constantFrom('+', '-', '=');
  const letters = (set: string) => fc.subarray([...set], { minLength: 0 }).map((l) => l.join(''));
  // Clauses whose result does not depend on the order they are read in (no X, no copies).
  const plainClause = fc.tuple(users, op, letters('rwxst')).map(([u, o, p]) => `${u}${o}${p}`);
  // Without a user class chmod also masks copied permissions (`+u`) by the umask; Ansible does not.
  const anyClause = fc
    .tuple(users, op, fc.oneof(letters('rwxXst'), fc.constantFrom('u', 'g', 'o')))
    .filter(([u, , p]) => u !== '' || !/^[ugo]$/.test(p))
    .map(([u, o, p]) => `${u}${o}${p}`);
  const start = fc.integer({ min: 0, max: 0o7777 });

  it('for one clause of any kind', () => {
    fc.assert(
      fc.property(start, anyClause, (s, m) => applyMode(s, m, false) === chmod(s, m)),
      { numRuns: 60 },
    );
  });

  it('for comma lists of plain clauses', () => {
    fc.assert(
      fc.property(start, fc.array(plainClause, { minLength: 2, maxLength: 4 }), (s, clauses) => {
        const m = clauses.join(',');
        return applyMode(s, m, false) === chmod(s, m);
      }),
      { numRuns: 60 },
    );
  });
});
