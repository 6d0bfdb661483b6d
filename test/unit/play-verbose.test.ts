import { renderTasks } from '../../client/play-output';
import { pythonJson } from '../../client/play-verbose';
import type { HostTarget } from '../../common/hosts';
import type { TaskReport } from '../../common/play';
import { hidden, loopResult } from '../../common/task-control';

// `clusterflow play -v/-vv/-vvv` prints as ansible-playbook does: each host's result dict after
// its status, then also the task's path, then how the host is reached; debug's message always.

const target: HostTarget = {
  name: 'node1',
  address: '10.77.0.11',
  port: 22,
  user: 'root',
  knownHostsFile: '/k',
  hostKeyChecking: 'strict',
  connectTimeoutMs: 1000,
};
const targets = new Map([['node1', target]]);
const report = (over: Partial<TaskReport>): TaskReport => ({
  play: 'web',
  task: 'run it',
  handler: false,
  module: 'command',
  path: 'site.yml: play 1 ("web") task 1',
  hosts: [],
  ...over,
});
const command = report({
  hosts: [
    {
      host: 'node1',
      status: 'changed',
      result: { changed: true, msg: '', rc: 0, stdout: 'hi\n', stderr: '' },
    },
  ],
});
const body = (text: string) => text.split('\n').slice(4);

describe('play output verbosity', () => {
  it('lays out JSON as Python’s json.dumps with sorted keys, compact or indented', () => {
    expect(pythonJson({ b: [1, 'x'], a: { c: null }, e: {} })).toBe(
      '{"a": {"c": null}, "b": [1, "x"], "e": {}}',
    );
    expect(pythonJson({ b: [1], a: true }, 4)).toBe('{\n    "a": true,\n    "b": [\n        1\n    ]\n}');
  });

  it('without -v: the status line alone', () => {
    expect(body(renderTasks([command], false))).toEqual(['changed: [node1]']);
  });

  it('shows a failure ignore_errors let pass as the failure, then ...ignoring', () => {
    const ignored = report({
      hosts: [
        {
          host: 'node1',
          status: 'ok',
          ignored: true,
          result: { changed: false, failed: true, msg: 'no replica', rc: 1 },
        },
      ],
    });
    expect(body(renderTasks([ignored], false))).toEqual(['failed: [node1]: no replica', '...ignoring']);
  });

  it('-v: the result dict after the status, as register would see it', () => {
    expect(body(renderTasks([command], false, { level: 1 }))).toEqual([
      'changed: [node1] => {"changed": true, "msg": "", "rc": 0, "stderr": "", "stderr_lines": [], "stdout": "hi\\n", "stdout_lines": ["hi"]}',
    ]);
    const failed = report({
      hosts: [
        { host: 'node1', status: 'failed', result: { changed: false, failed: true, msg: 'boom', rc: 2 } },
      ],
    });
    expect(body(renderTasks([failed], false, { level: 1 }))).toEqual([
      'failed: [node1] => {"changed": false, "failed": true, "msg": "boom", "rc": 2}',
    ]);
    const unreachable = report({ hosts: [{ host: 'node1', status: 'unreachable', reason: 'no route' }] });
    expect(body(renderTasks([unreachable], false, { level: 1 }))).toEqual([
      'unreachable: [node1] => {"changed": false, "msg": "no route", "unreachable": true}',
    ]);
  });

  it('-v: a skip says why; a loop prints one line per item', () => {
    const skipped = report({
      hosts: [
        {
          host: 'node1',
          status: 'skipped',
          result: {
            changed: false,
            skipped: true,
            msg: 'Conditional result was False',
            data: { false_condition: 'go', skip_reason: 'Conditional result was False' },
          },
        },
      ],
    });
    expect(body(renderTasks([skipped], false, { level: 1 }))).toEqual([
      'skipped: [node1] => {"changed": false, "false_condition": "go", "skip_reason": "Conditional result was False"}',
    ]);
    const loop = loopResult([
      { changed: true, msg: 'made', item: 'a' },
      { changed: false, msg: 'there', item: { n: 1 } },
    ]);
    expect(
      body(
        renderTasks([report({ hosts: [{ host: 'node1', status: 'changed', result: loop }] })], false, {
          level: 1,
        }),
      ),
    ).toEqual([
      'changed: [node1] => (item=a) => {"changed": true, "item": "a", "msg": "made"}',
      'ok: [node1] => (item={"n": 1}) => {"changed": false, "item": {"n": 1}, "msg": "there"}',
    ]);
  });

  it('-v on a no_log task: Ansible’s censored line, nothing of the output', () => {
    const secret = hidden({ changed: true, msg: 'pw=s3cr3t', stdout: 's3cr3t' });
    const out = renderTasks(
      [report({ hosts: [{ host: 'node1', status: 'changed', result: secret }] })],
      false,
      {
        level: 1,
      },
    );
    expect(body(out)).toEqual([
      `changed: [node1] => {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result", "changed": true}`,
    ]);
    expect(out).not.toContain('s3cr3t');
  });

  it('-vv adds the task path; -vvv the connection, and indents the dict', () => {
    expect(renderTasks([command], false, { level: 2 }).split('\n')[4]).toBe(
      'task path: site.yml: play 1 ("web") task 1',
    );
    expect(body(renderTasks([command], false, { level: 3, targets })).slice(0, 3)).toEqual([
      'task path: site.yml: play 1 ("web") task 1',
      '<10.77.0.11> SSH: root@10.77.0.11:22',
      'changed: [node1] => {',
    ]);
    // A module that runs on the worker reaches no host.
    const fact = report({
      module: 'set_fact',
      hosts: [{ host: 'node1', status: 'ok', result: { changed: false, msg: 'set x' } }],
    });
    expect(body(renderTasks([fact], false, { level: 3, targets }))[1]).toBe('ok: [node1] => {');
  });

  it('debug shows its message at every verbosity, and only it', () => {
    const debug = report({
      module: 'debug',
      hosts: [
        { host: 'node1', status: 'ok', result: { changed: false, msg: 'hello', data: { msg: 'hello' } } },
      ],
    });
    expect(body(renderTasks([debug], false))).toEqual(['ok: [node1] => {', '    "msg": "hello"', '}']);
  });
});
