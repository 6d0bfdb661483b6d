import { parseStat, statScript } from '../../activities/modules/stat';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshPool } from '../../activities/ssh/pool';
import { runTask, type TaskInput } from '../../activities/tasks';
import { loadInventory, targetFor } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import type { ModuleName } from '../../common/modules';
import type { TaskControl } from '../../common/task-control';

// Ansible's task keywords around a module — when, loop, until, changed_when, failed_when, task
// vars — as the activity runs them, shown with the modules that need no host (debug, assert,
// set_fact, fail), and as the client compiles and checks them before a play starts.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-task-control-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(hostsFile, '[web]\nw1 ansible_host=10.1.0.1 port=80\nw2 ansible_host=10.1.0.2 port=8080\n');
const inv = loadInventory(hostsFile);
const noConnections = {} as SshPool;

function run(module: ModuleName, args: unknown, control: TaskControl, vars: Record<string, unknown> = {}) {
  const input: TaskInput = {
    host: targetFor(inv, 'w1'),
    module,
    args,
    vars,
    check: false,
    diff: false,
    control,
  };
  return runTask(noConnections, input);
}

function load(tasks: unknown[]) {
  const file = path.join(mkdtempSync(path.join(dir, 'p-')), 'site.yml');
  writeFileSync(file, JSON.stringify([{ name: 'web', hosts: 'web', tasks }]));
  return loadPlaybook(file, inv, { check: false, diff: false, tags: [], forks: 5, cluster: 'x' });
}

function problems(tasks: unknown[]): string[] {
  try {
    load(tasks);
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems;
    throw err;
  }
  return [];
}

describe('when', () => {
  it('skips the task when a condition is false, saying which', async () => {
    const r = await run('fail', { msg: 'boom' }, { when: ['port == 80', 'flag'] }, { port: 80, flag: false });
    expect(r).toMatchObject({ skipped: true, changed: false, msg: 'Conditional result was False' });
    expect(r.data).toMatchObject({ false_condition: 'flag' });
  });

  it('runs it when all hold', async () => {
    const r = await run('fail', { msg: 'boom' }, { when: ['port == 80'] }, { port: 80 });
    expect(r).toMatchObject({ failed: true, msg: 'boom' });
  });

  it('fails the task, not the run, on a condition that cannot be evaluated', async () => {
    const r = await run('debug', { msg: 'x' }, { when: ["'not json' | from_json"] });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^when: /);
  });
});

describe('loops', () => {
  it('run per item with the item (and index) bound, when evaluated per item', async () => {
    const r = await run(
      'debug',
      { msg: '{{ i }}:{{ user.name }}' },
      {
        loop: { items: '{{ users }}', kind: 'loop' },
        loopVar: 'user',
        indexVar: 'i',
        when: ['user.name != "b"'],
      },
      { users: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
    );
    expect(r.msg).toBe('All items completed');
    expect(r.results?.map((x) => (x.skipped ? 'skipped' : x.msg))).toEqual(['0:a', 'skipped', '2:c']);
    expect(r.results?.[0].item).toEqual({ name: 'a' });
  });

  it('fail as a whole when one item fails, and are skipped when every item is', async () => {
    const failing = await run('assert', { that: ['item > 1'] }, { loop: { items: [1, 2], kind: 'loop' } });
    expect(failing).toMatchObject({ failed: true, msg: 'One or more items failed' });
    const none = await run('debug', { msg: 'x' }, { loop: { items: [1], kind: 'loop' }, when: [false] });
    expect(none.skipped).toBe(true);
  });

  it('show a label instead of the item when loop_control asks', async () => {
    const r = await run(
      'debug',
      { msg: 'x' },
      { loop: { items: [{ name: 'a', secret: 's' }], kind: 'loop' }, label: '{{ item.name }}' },
    );
    expect(r.results?.[0].item).toBe('a');
  });

  it('refuse a loop over something that is not a list, as a failed task', async () => {
    const r = await run('debug', { msg: 'x' }, { loop: { items: '{{ s }}', kind: 'loop' } }, { s: 'text' });
    expect(r).toMatchObject({ failed: true });
    expect(r.msg).toMatch(/^loop: loop expects a list/);
  });
});

describe('until, changed_when, failed_when', () => {
  it('runs again until the condition holds on the registered result, counting attempts', async () => {
    const r = await run(
      'debug',
      { msg: 'x' },
      { until: ['r.msg == "x"'], register: 'r', retries: 2, delay: 0 },
    );
    expect(r.data).toMatchObject({ attempts: 1 });
  });

  it('fails after retries + 1 attempts when it never holds', async () => {
    const r = await run(
      'debug',
      { msg: 'x' },
      { until: ['r.msg == "y"'], register: 'r', retries: 2, delay: 0 },
    );
    expect(r).toMatchObject({ failed: true });
    expect(r.data).toMatchObject({ attempts: 3 });
  });

  it('let the task decide what changed and what failed, seeing its result by the register name', async () => {
    const changed = await run('debug', { msg: 'ok' }, { changedWhen: ['out.msg == "ok"'], register: 'out' });
    expect(changed.changed).toBe(true);
    const failed = await run(
      'debug',
      { msg: 'ERROR here' },
      { failedWhen: ["'ERROR' in out.msg"], register: 'out' },
    );
    expect(failed.failed).toBe(true);
    const forgiven = await run('fail', { msg: 'x' }, { failedWhen: [false] });
    expect(forgiven.failed).toBe(false);
  });
});

describe('language modules', () => {
  it('set_fact hands its variables, with their types, to the host', async () => {
    const r = await run('set_fact', { ports: '{{ [port, port + 1] }}', name: 'web' }, {}, { port: 80 });
    expect(r.ansibleFacts).toEqual({ ports: [80, 81], name: 'web' });
  });

  it('debug shows a variable, or says it is not defined', async () => {
    expect((await run('debug', { var: 'port' }, {}, { port: 80 })).msg).toBe('port: 80');
    expect((await run('debug', { var: 'nope' }, {})).msg).toBe('nope: VARIABLE IS NOT DEFINED!');
  });

  it('assert fails with its message on the first condition that does not hold', async () => {
    const r = await run(
      'assert',
      { that: ['port > 0', 'port < 10'], fail_msg: 'port {{ port }} too high' },
      {},
      { port: 80 },
    );
    expect(r).toMatchObject({ failed: true, msg: 'port 80 too high' });
    expect(r.data).toMatchObject({ assertion: 'port < 10' });
  });

  it('task vars are seen by the arguments and conditions of that task only', async () => {
    const r = await run(
      'debug',
      { msg: '{{ greeting }}' },
      { vars: { greeting: 'hi' }, when: ['greeting == "hi"'] },
    );
    expect(r.msg).toBe('hi');
  });
});

describe('the client', () => {
  it('compiles the keywords into the task, a bare with_items name into its variable', () => {
    const play = load([
      {
        name: 'users',
        debug: { msg: '{{ item }}' },
        with_items: 'users',
        loop_control: { label: '{{ item }}' },
      },
      { name: 'check', command: 'true', register: 'out', changed_when: false, failed_when: 'out.rc > 1' },
      { name: 'wait', command: 'true', register: 'w', until: 'w.rc == 0', retries: 5, delay: 1 },
    ]).plays[0];
    // (Every task also carries its lookups' search path: test/unit/lookups.test.ts.)
    expect(play.tasks.map((t) => ({ ...t.control, searchPath: undefined }))).toEqual([
      { loop: { items: '{{ users }}', kind: 'with_items' }, label: '{{ item }}' },
      { register: 'out', changedWhen: [false], failedWhen: ['out.rc > 1'] },
      { register: 'w', until: ['w.rc == 0'], retries: 5, delay: 1 },
    ]);
  });

  it('checks arguments that depend on the run by their keys only, before it starts', () => {
    expect(
      problems([
        { name: 'facts', set_fact: { conf: '/etc/app.conf' } },
        { name: 'use', lineinfile: { path: '{{ conf }}', line: 'x' } },
        { name: 'each', file: { path: '{{ item }}', state: 'directory' }, loop: ['/a', '/b'] },
      ]),
    ).toEqual([]);
    expect(
      problems([{ name: 'each', file: { path: '{{ item }}', stat: 'directory' }, loop: ['/a'] }]),
    ).toEqual([
      'site.yml: play 1 ("web") task 1 ("each") on w1: file.stat: unknown key; did you mean state?',
    ]);
  });

  it('refuses a broken condition, two loops, and retries without until, naming each', () => {
    expect(
      problems([
        { name: 'a', debug: { msg: 'x' }, when: 'x ==' },
        { name: 'b', debug: { msg: 'x' }, loop: [1], with_items: [2] },
        { name: 'c', debug: { msg: 'x' }, retries: 3 },
      ]),
    ).toEqual([
      expect.stringMatching(/^site\.yml: play 1 \("web"\) task 1: when: .*unexpected/),
      'site.yml: play 1 ("web") task 2: loop, with_items: a task has one loop',
      'site.yml: play 1 ("web") task 3: retries: only with until',
    ]);
  });
});

describe('stat and pause', () => {
  it('read a path as ansible-core’s stat reports it', () => {
    const a = { path: '/etc/motd', follow: false, get_checksum: true, checksum_algorithm: 'sha1' as const };
    expect(parseStat('exists=false\n', a)).toEqual({ exists: false });
    expect(
      parseStat(
        'exists=true\ntype=regular file\nmode=644\nuid=0\ngid=0\npw_name=root\ngr_name=root\nsize=12\nmtime=1700000000\nchecksum=abc\n',
        a,
      ),
    ).toEqual({
      exists: true,
      path: '/etc/motd',
      isdir: false,
      isreg: true,
      islnk: false,
      mode: '0644',
      uid: 0,
      gid: 0,
      pw_name: 'root',
      gr_name: 'root',
      size: 12,
      mtime: 1700000000,
      checksum: 'abc',
    });
    expect(statScript(a)).toContain('sha1sum < /etc/motd');
  });

  it('pause says how long the play waits, rendered from variables', async () => {
    const r = await run('pause', { seconds: '{{ wait }}' }, {}, { wait: 2 });
    expect(r.data).toEqual({ pause_ms: 2000 });
  });
});

describe('no_log', () => {
  it('keeps the verdict and the set variables, never the output', async () => {
    const shown = await run('debug', { msg: 'secret-{{ pw }}' }, { noLog: true }, { pw: 's3cr3t' });
    expect(JSON.stringify(shown)).not.toContain('s3cr3t');
    expect(shown).toMatchObject({ changed: false });
    const facts = await run('set_fact', { token: 'abc' }, { noLog: true });
    expect(facts.ansibleFacts).toEqual({ token: 'abc' });
    const failing = await run('fail', { msg: 'pw is {{ pw }}' }, { noLog: true }, { pw: 's3cr3t' });
    expect(failing.failed).toBe(true);
    expect(failing.msg).not.toContain('s3cr3t');
  });
});
