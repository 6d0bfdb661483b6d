import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshPool } from '../../activities/ssh/pool';
import { runTask } from '../../activities/tasks';
import { loadInventory, targetFor, varsOf } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import type { ModuleName } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';

// A task's arguments are rendered and checked by one function: by the client for every host before
// a play starts, and by the activity on the worker. The same bad argument reads the same in both.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-task-args-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(
  hostsFile,
  '[web]\nw1 ansible_host=10.1.0.1 conf=/etc/app.conf\nw2 ansible_host=10.1.0.2 conf=app.conf\n',
);
const inv = loadInventory(hostsFile);

/** The problems loading a one-task playbook finds, before anything runs. */
function preflight(task: Record<string, unknown>): string[] {
  const file = path.join(mkdtempSync(path.join(dir, 'p-')), 'site.yml');
  writeFileSync(file, JSON.stringify([{ name: 'web', hosts: 'web', tasks: [task] }]));
  try {
    loadPlaybook(file, inv, { check: false, diff: false, tags: [], forks: 5, cluster: 'x' });
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems;
    throw err;
  }
  return [];
}

/** What the activity reports for the task on a host; bad arguments fail before any connection. */
async function onWorker(host: string, module: ModuleName, args: unknown): Promise<string | undefined> {
  const noConnections = {} as SshPool;
  const result = await runTask(noConnections, {
    host: targetFor(inv, host),
    module,
    args,
    vars: varsOf(inv, host),
    check: false,
    diff: false,
  });
  expect(result).toMatchObject({ changed: false, failed: true });
  return result.msg;
}

describe('task arguments', () => {
  it('refuse a bad argument with the same message before the play starts and on the worker', async () => {
    const args = { path: '{{ conf }}', line: 'x' };
    const problems = preflight({ name: 'set line', lineinfile: args });
    expect(problems).toEqual([
      'site.yml: play 1 ("web") task 1 ("set line") on w2: lineinfile.path: must be an absolute path',
    ]);
    const msg = await onWorker('w2', 'lineinfile', args);
    expect(problems[0]).toBe(`site.yml: play 1 ("web") task 1 ("set line") on w2: ${msg}`);
  });

  it('name the field whose template does not render, the same before the play and on the worker', async () => {
    const args = { argv: ['echo', '{{ nope }}'] };
    const problems = preflight({ name: 'echo', command: args });
    expect(problems).toEqual([
      'site.yml: play 1 ("web") task 1 ("echo") on w1: command.argv[1]: attempted to output null or undefined value',
    ]);
    expect(await onWorker('w1', 'command', args)).toBe(
      'command.argv[1]: attempted to output null or undefined value',
    );
  });

  it("render with the host's vars, a whole expression keeping its type", () => {
    expect(
      taskArguments('wait_for', { port: '{{ port }}', search_regex: 'up on {{ port }}' }, { port: 8080 }),
    ).toEqual({
      args: expect.objectContaining({ port: 8080, search_regex: 'up on 8080', host: '127.0.0.1' }),
    });
    expect(taskArguments('file', { path: '{{ conf }}' }, varsOf(inv, 'w1')).args).toMatchObject({
      path: '/etc/app.conf',
      state: 'file',
    });
  });

  it('refuse an unknown argument with its field path and the one it most likely meant', () => {
    expect(taskArguments('file', { path: '/x', mdoe: '0644' }, {})).toEqual({
      problems: ['file.mdoe: unknown key; did you mean mode?'],
    });
    expect(taskArguments('ini', { path: '/x', settings: { s: { k: 1 } }, creat: true }, {})).toEqual({
      problems: ['ini.creat: unknown key; did you mean create?'],
    });
  });

  it('report every problem of the arguments at once', () => {
    expect(taskArguments('file', { path: 'x', state: 'link', mdoe: 1 }, {}).problems).toEqual([
      'file.path: must be an absolute path',
      'file.mdoe: unknown key; did you mean mode?',
      'file: state=link needs src',
    ]);
  });
});
