import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workerLookupIO } from '../../activities/lookup-io';
import type { SshPool } from '../../activities/ssh/pool';
import { runTask } from '../../activities/tasks';
import { loadInventory, targetFor } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { conditionHolds, loopItems } from '../../common/conditions';
import { lookupLoopItems } from '../../common/lookup-loops';
import { lookupSubdir, printfOne, withLookups, type LookupIO } from '../../common/lookups';
import type { ModuleName } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';
import type { TaskControl } from '../../common/task-control';
import { renderArgs, renderTemplate, type Vars } from '../../common/templates';

// Ansible's lookups and with_<lookup> loops: what they answer (with a fake worker, then a real
// folder), where they look for a relative file, and that the client's pre-flight leaves them to
// the worker instead of answering them itself.

const FILES: Record<string, string> = {
  '/site/roles/web/files/motd': 'from the role files\n\n',
  '/site/roles/web/motd.local': 'beside the role',
  '/site/files/motd': 'from the playbook files\n',
  '/site/files/only-here': 'playbook only',
  '/site/roles/web/templates/hello.j2': 'hello {{ who }}{{ mark | default("") }}\n',
  '/site/templates/nested.j2': "[{{ lookup('file', 'only-here') }}]",
  '/etc/issue': '  Debian\n',
};
const fakeIO: LookupIO = {
  env: (n) => ({ HOME: '/home/op', EMPTY: '' })[n],
  readFile: (p) => FILES[p],
  exists: (p) => p in FILES || Object.keys(FILES).some((f) => f.startsWith(`${p}/`)),
  glob: (dir, pattern) =>
    Object.keys(FILES).filter(
      (f) => path.dirname(f) === dir && new RegExp(`^${pattern.replace('*', '.*')}$`).test(path.basename(f)),
    ),
};
const inRole = (vars: Vars = {}, subdir = 'files') =>
  withLookups(vars, { io: fakeIO, searchPath: ['/site/roles/web', '/site'], subdir });
const atPlay = (vars: Vars = {}) => withLookups(vars, { io: fakeIO, searchPath: ['/site'], subdir: 'files' });
const value = (expr: string, vars: Vars) => renderArgs(`{{ ${expr} }}`, vars);

describe('lookups on the worker', () => {
  it('env reads the worker’s environment, with a default for a missing name', () => {
    expect(value("lookup('env', 'HOME')", atPlay())).toBe('/home/op');
    expect(value("lookup('env', 'NOPE')", atPlay())).toBe('');
    expect(value("lookup('env', 'NOPE', default='x')", atPlay())).toBe('x');
    expect(value("query('env', 'HOME', 'NOPE')", atPlay())).toEqual(['/home/op', '']);
  });

  it('file strips trailing whitespace as Ansible does, and leading only when asked', () => {
    expect(value("lookup('file', '/etc/issue')", atPlay())).toBe('  Debian');
    expect(value("lookup('file', '/etc/issue', lstrip=True)", atPlay())).toBe('Debian');
    expect(value("lookup('file', '/etc/issue', rstrip=False)", atPlay())).toBe('  Debian\n');
  });

  it('a relative file is found in the role’s files/, then beside the role, then the playbook’s files/', () => {
    expect(value("lookup('file', 'motd')", inRole())).toBe('from the role files');
    expect(value("lookup('file', 'motd.local')", inRole())).toBe('beside the role');
    expect(value("lookup('file', 'only-here')", inRole())).toBe('playbook only');
    expect(value("lookup('file', 'motd')", atPlay())).toBe('from the playbook files');
  });

  it('a missing file fails naming every place looked in, unless errors=ignore', () => {
    expect(() => value("lookup('file', 'gone')", inRole())).toThrow(
      "lookup('file'): file 'gone' not found (looked in /site/roles/web/files/gone, /site/roles/web/gone, /site/files/gone, /site/gone)",
    );
    expect(value("lookup('file', 'gone', errors='ignore')", inRole())).toBe('');
    expect(value("query('file', 'gone', errors='ignore')", inRole())).toEqual([]);
  });

  it('lookup joins several strings with commas; query and wantlist=True give the list', () => {
    expect(value("lookup('env', 'HOME', 'HOME')", atPlay())).toBe('/home/op,/home/op');
    expect(value("lookup('env', 'HOME', wantlist=True)", atPlay())).toEqual(['/home/op']);
    expect(value("q('env', 'HOME')", atPlay())).toEqual(['/home/op']);
    expect(value("lookup('ansible.builtin.env', 'HOME')", atPlay())).toBe('/home/op');
  });

  it('template renders the role’s template with the task’s variables and template_vars', () => {
    expect(value("lookup('template', 'hello.j2')", inRole({ who: 'ops' }))).toBe('hello ops\n');
    expect(value("lookup('template', 'hello.j2', template_vars={'mark': '!'})", inRole({ who: 'ops' }))).toBe(
      'hello ops!\n',
    );
    // A lookup inside the template reads from the same search path.
    expect(value("lookup('template', 'nested.j2')", inRole())).toBe('[playbook only]');
  });

  it('first_found takes the first that exists: a list, or files with paths, or nothing with skip', () => {
    expect(value("lookup('first_found', ['gone', 'motd.local', 'motd'])", inRole())).toBe(
      '/site/roles/web/motd.local',
    );
    expect(
      value("lookup('first_found', {'files': ['gone', 'issue'], 'paths': ['/tmp', '/etc']})", inRole()),
    ).toBe('/etc/issue');
    expect(value("lookup('first_found', 'gone,motd')", inRole())).toBe('/site/roles/web/files/motd');
    expect(value("query('first_found', {'files': ['gone'], 'skip': True})", inRole())).toEqual([]);
    expect(() => value("lookup('first_found', ['gone'])", inRole())).toThrow(
      'No file was found when using first_found',
    );
    // A template task's first_found looks in templates/, as Ansible picks the folder by action.
    expect(lookupSubdir('template')).toBe('templates');
    expect(value("lookup('first_found', ['hello.j2'])", inRole({}, lookupSubdir('template')))).toBe(
      '/site/roles/web/templates/hello.j2',
    );
  });

  it('a variable holding a lookup is rendered when the task reads it, and a condition can use one', () => {
    const vars = inRole({ banner: "{{ lookup('file', 'motd') | upper }}" });
    expect(renderArgs('{{ banner }}', vars)).toBe('FROM THE ROLE FILES');
    expect(conditionHolds(["lookup('env', 'HOME') == '/home/op'"], vars)).toBe(true);
    expect(conditionHolds(["lookup('env', 'HOME') == 'x'"], vars)).toBe(false);
  });

  it('refuses lines and pipe (a command on the worker), an unknown lookup, and an unknown option', () => {
    expect(() => value("lookup('lines', 'cat /etc/passwd')", atPlay())).toThrow(
      "lookup('lines'): would run a command on the worker",
    );
    expect(() => value("lookup('pipe', 'id')", atPlay())).toThrow(/lookup\('pipe'\): would run a command/);
    expect(() => value("lookup('password', '/tmp/x')", atPlay())).toThrow(
      "lookup('password'): not supported yet (lookups: env, file",
    );
    // errors=ignore does not hide a lookup that does not exist.
    expect(() => value("lookup('nope', 'x', errors='ignore')", atPlay())).toThrow(/not supported yet/);
    expect(() => value("lookup('file', 'motd', strip=True)", atPlay())).toThrow(
      "lookup('file'): unknown option strip (options: lstrip, rstrip)",
    );
  });

  it('vars, sequence and the list lookups need no worker', () => {
    expect(renderTemplate("{{ lookup('vars', 'port_' + kind) }}", { kind: 'http', port_http: 80 })).toBe(
      '80',
    );
    expect(renderTemplate("{{ lookup('sequence', '1-3') }}", {})).toBe('1,2,3');
    expect(renderArgs("{{ query('indexed_items', ['a', 'b']) }}", {})).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
  });
});

describe('lookups before the play starts', () => {
  it('a lookup that reads the worker is left to the worker; its task’s keys are still checked', () => {
    expect(taskArguments('debug', { msg: "{{ lookup('env', 'HOME') }}" }, {})).toEqual({ deferred: true });
    expect(taskArguments('debug', { msg: '{{ banner }}' }, { banner: "{{ lookup('file', 'x') }}" })).toEqual({
      deferred: true,
    });
    expect(taskArguments('debug', { msg: "{{ lookup('env', 'HOME') }}", colour: 1 }, {}).problems).toEqual([
      'debug.colour: unknown key (expected one of: msg, var, verbosity)',
    ]);
  });
});

describe('with_<lookup> loops', () => {
  const items = (kind: string, raw: unknown, vars: Vars = {}) =>
    loopItems({ kind: kind as never, items: raw }, inRole(vars));

  it('with_sequence: the shortcut, key=value with count and format, counting down', () => {
    expect(items('with_sequence', '4')).toEqual(['1', '2', '3', '4']);
    expect(items('with_sequence', '2-10/4')).toEqual(['2', '6', '10']);
    expect(items('with_sequence', 'start=0 count=3 format=node%02d')).toEqual(['node00', 'node01', 'node02']);
    expect(items('with_sequence', 'start=0x0f end=0x11 format=%x')).toEqual(['f', '10', '11']);
    expect(items('with_sequence', 'start=3 end=1 stride=-1')).toEqual(['3', '2', '1']);
    expect(() => items('with_sequence', 'start=5 end=1')).toThrow('to count backwards make stride negative');
    expect(() => items('with_sequence', 'start=1 end=2 step=1')).toThrow(
      'unrecognized arguments to with_sequence: ["step"]',
    );
    expect(printfOne('%5s|', 42)).toBe('   42|');
  });

  it('with_together pairs lists, filling the shorter with None; with_nested multiplies them', () => {
    expect(items('with_together', [['a', 'b'], [1]])).toEqual([
      ['a', 1],
      ['b', null],
    ]);
    expect(
      items('with_nested', [
        ['a', 'b'],
        [1, 2],
      ]),
    ).toEqual([
      ['a', 1],
      ['a', 2],
      ['b', 1],
      ['b', 2],
    ]);
  });

  it('with_subelements: each sublist entry with its parent, the sublist taken out of the parent', () => {
    const users = [
      { name: 'ann', keys: ['k1', 'k2'] },
      { name: 'bob', keys: [] },
    ];
    expect(items('with_subelements', ['{{ users }}', 'keys'], { users })).toEqual([
      [{ name: 'ann' }, 'k1'],
      [{ name: 'ann' }, 'k2'],
    ]);
    expect(() => items('with_subelements', ['{{ users }}', 'groups'], { users })).toThrow(
      "could not find 'groups' key",
    );
    expect(items('with_subelements', ['{{ users }}', 'groups', { skip_missing: true }], { users })).toEqual(
      [],
    );
  });

  it('with_first_found leaves out a name whose variable is undefined, as Ansible does there', () => {
    expect(items('with_first_found', ['{{ ansible_distribution }}.conf', 'motd'])).toEqual([
      '/site/roles/web/files/motd',
    ]);
    expect(items('with_first_found', [{ files: ['gone'], skip: true }])).toEqual([]);
  });

  it('with_file, with_fileglob and with_env read through the worker', () => {
    expect(items('with_file', 'motd')).toEqual(['from the role files']);
    expect(items('with_fileglob', 'mo*')).toEqual(['/site/roles/web/files/motd']);
    expect(lookupLoopItems('with_env', ['HOME', 'EMPTY'], inRole())).toEqual(['/home/op', '']);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'cf-lookups-'));
  const hostsFile = path.join(dir, 'hosts.ini');
  writeFileSync(hostsFile, '[web]\nw1 ansible_host=10.1.0.1\n');
  const inv = loadInventory(hostsFile);
  const run = (module: ModuleName, args: unknown, control: TaskControl, vars: Vars = {}) =>
    runTask({} as SshPool, {
      host: targetFor(inv, 'w1'),
      module,
      args,
      vars,
      check: false,
      diff: false,
      control,
    });

  it('a with_together item is read as item.0 and item.1, as Jinja2 reads them', async () => {
    const r = await run(
      'debug',
      { msg: '{{ item.0 }}={{ item.1 }} {{ item.0 | upper }}' },
      {
        loop: {
          kind: 'with_together',
          items: [
            ['a', 'b'],
            [1, 2],
          ],
        },
        searchPath: [dir],
      },
    );
    expect(r.results?.map((x) => x.msg)).toEqual(['a=1 A', 'b=2 B']);
  });

  it('a with_subelements item reads its parent’s fields as item.0.name', async () => {
    const r = await run(
      'debug',
      { msg: '{{ item.0.name }}:{{ item.1 }}' },
      { loop: { kind: 'with_subelements', items: ['{{ users }}', 'keys'] } },
      { users: [{ name: 'ann', keys: ['k1'] }] },
    );
    expect(r.results?.map((x) => x.msg)).toEqual(['ann:k1']);
  });

  it('an empty with_first_found (skip: true) skips the task, as an empty loop does in Ansible', async () => {
    const r = await run(
      'debug',
      { msg: '{{ item }}' },
      { loop: { kind: 'with_first_found', items: [{ files: ['gone'], skip: true }] }, searchPath: [dir] },
    );
    expect(r).toMatchObject({ skipped: true, msg: 'No items in the list' });
  });
});

describe('lookups in a real folder, through the worker’s reads', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cf-lookups-real-'));
  mkdirSync(path.join(root, 'files'));
  writeFileSync(path.join(root, 'files', 'a.conf'), 'A\n');
  writeFileSync(path.join(root, 'files', 'b.conf'), 'B\n');
  writeFileSync(path.join(root, 'files', '.hidden.conf'), 'H\n');
  mkdirSync(path.join(root, 'files', 'dir.conf'));
  mkdirSync(path.join(root, 'templates'));
  writeFileSync(path.join(root, 'templates', 'x.j2'), '{{ n * 2 }}\n');
  const vars = (v: Vars = {}) => withLookups(v, { io: workerLookupIO, searchPath: [root], subdir: 'files' });

  it('reads a file, renders a template, and globs files only (no folders, no dot files)', () => {
    process.env.CF_LOOKUP_UNIT = 'from env';
    expect(value("lookup('file', 'a.conf')", vars())).toBe('A');
    expect(value("lookup('template', 'x.j2')", vars({ n: 21 }))).toBe('42\n');
    expect(value("lookup('env', 'CF_LOOKUP_UNIT')", vars())).toBe('from env');
    expect(value("query('fileglob', '*.conf')", vars())).toEqual([
      path.join(root, 'files', 'a.conf'),
      path.join(root, 'files', 'b.conf'),
    ]);
    expect(value("query('fileglob', 'files/[b]*.conf')", vars())).toEqual([
      path.join(root, 'files', 'b.conf'),
    ]);
    // A folder is not a file to read.
    expect(() => value("lookup('file', 'dir.conf')", vars())).toThrow(/not found/);
  });
});

describe('with_<lookup> in a playbook', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-lookups-play-'));
  writeFileSync(path.join(dir, 'hosts.ini'), '[web]\nw1 ansible_host=10.1.0.1\n');
  const inv = loadInventory(path.join(dir, 'hosts.ini'));
  mkdirSync(path.join(dir, 'roles', 'web', 'tasks'), { recursive: true });
  writeFileSync(
    path.join(dir, 'roles', 'web', 'tasks', 'main.yml'),
    JSON.stringify([{ name: 'motd', debug: { msg: "{{ lookup('file', 'motd') }}" } }]),
  );
  const load = (tasks: unknown[], roles: unknown[] = []) => {
    const file = path.join(dir, `site-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, JSON.stringify([{ hosts: 'web', roles, tasks }]));
    return loadPlaybook(file, inv, { check: false, diff: false, tags: [], forks: 5, cluster: 'x' });
  };

  it('a role task looks in its role, then beside the playbook; a play task beside the playbook', () => {
    const [play] = load([{ name: 'own', debug: { msg: "{{ lookup('env', 'HOME') }}" } }], ['web']).plays;
    expect(play.tasks[0].control?.searchPath).toEqual([path.join(dir, 'roles', 'web'), dir]);
    expect(play.tasks[1].control?.searchPath).toEqual([dir]);
    expect(play.tasks[0].path).toMatch(/play 1 .*role web task 1$/);
  });

  it('takes with_first_found, with_file and with_sequence, the terms as written', () => {
    const [play] = load([
      { debug: { msg: '{{ item }}' }, with_first_found: ['a.conf', 'b.conf'] },
      { debug: { msg: '{{ item }}' }, with_file: 'motd' },
      { debug: { msg: '{{ item }}' }, with_sequence: 'count=2' },
    ]).plays;
    expect(play.tasks.map((t) => t.control?.loop)).toEqual([
      { kind: 'with_first_found', items: ['a.conf', 'b.conf'] },
      { kind: 'with_file', items: 'motd' },
      { kind: 'with_sequence', items: 'count=2' },
    ]);
  });

  it('refuses with_lines, an unknown with_, and two loops on one task', () => {
    const problems = (tasks: unknown[]) => {
      try {
        load(tasks);
      } catch (err) {
        return (err as PlaybookError).problems;
      }
      return [];
    };
    expect(problems([{ debug: { msg: 'x' }, with_lines: 'cat /etc/hosts' }])).toEqual([
      expect.stringMatching(/task 1: with_lines: not supported yet$/),
    ]);
    expect(problems([{ debug: { msg: 'x' }, with_cartesian: [[1], [2]] }])).toEqual([
      expect.stringMatching(/task 1: with_cartesian: not supported yet$/),
    ]);
    expect(problems([{ debug: { msg: 'x' }, with_file: 'a', loop: [1] }])).toEqual([
      expect.stringMatching(/task 1: loop, with_file: a task has one loop$/),
    ]);
  });
});
