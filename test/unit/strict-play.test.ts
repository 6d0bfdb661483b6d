import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildNodeOperation } from '../../client/nodes';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { loadSpec, SpecError } from '../../client/spec';
import { validateSpec } from '../../client/validate';

// Nothing an operator writes in a playbook is skipped: a key Ansible has and we do not run yet is
// refused as "not supported yet" with its place, a typo as an unknown key with the likely one.
// All of it before any host is looked at, so nothing can run.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-strict-play-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(hostsFile, '[web]\nw1 ansible_host=10.1.0.1\nw2 ansible_host=10.1.0.2\n');
const inv = loadInventory(hostsFile);
const options = { check: false, diff: false, tags: [], forks: 5, cluster: 'x' };

/** JSON is YAML, and keeps each test's playbook exactly as written. */
function write(plays: unknown, name = 'site.yml'): string {
  const sub = mkdtempSync(path.join(dir, 'p-'));
  const file = path.join(sub, name);
  writeFileSync(file, JSON.stringify(plays, null, 2));
  return file;
}

function problemsOf(plays: unknown): string[] {
  try {
    loadPlaybook(write(plays), inv, options);
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems;
    throw err;
  }
  return [];
}

const shell = { name: 'hi', shell: 'echo hi' };

describe('play keys', () => {
  it.each(['vars_prompt', 'order', 'throttle', 'module_defaults', 'force_handlers'])(
    'refuses %s as not supported yet, with its path',
    (key) => {
      expect(problemsOf([{ name: 'web', hosts: 'web', [key]: [], tasks: [shell] }])).toEqual([
        `site.yml: play 1 ("web"): ${key}: not supported yet`,
      ]);
    },
  );

  it('gives become_user: nobody to every task of the play, which used to run them as root', () => {
    const input = loadPlaybook(
      write([{ hosts: 'web', become: true, become_user: 'nobody', tasks: [shell] }]),
      inv,
      options,
    );
    expect(input.plays[0].tasks[0]).toMatchObject({ become: true, becomeUser: 'nobody' });
  });

  it('refuses a keyword still not run, and a bad value of an inherited one once, where it is written', () => {
    expect(problemsOf([{ hosts: 'web', any_errors_fatal: [], tasks: [shell] }])).toEqual([
      'site.yml: play 1 ("web"): any_errors_fatal: true or false (a templated keyword is not supported yet)',
    ]);
    expect(problemsOf([{ hosts: 'web', strategy: 'host_pinned', tasks: [shell] }])).toEqual([
      'site.yml: play 1 ("web"): strategy: linear or free (other strategies are not supported yet)',
    ]);
  });

  it('names a playbook that an import_playbook cannot find, instead of skipping it', () => {
    expect(problemsOf([{ hosts: 'web', tasks: [shell] }, { import_playbook: 'other.yml' }])).toEqual([
      expect.stringMatching(/^other\.yml: ENOENT/),
    ]);
  });

  it('names an unknown play key and the key it most likely meant', () => {
    expect(problemsOf([{ hots: 'web', hosts: 'web', tasks: [shell], handler: [] }])).toEqual([
      'site.yml: play 1 ("web"): hots: unknown key; did you mean hosts?',
      'site.yml: play 1 ("web"): handler: unknown key; did you mean handlers?',
    ]);
  });

  it('says what a play takes when no key is close, and what a task takes', () => {
    expect(
      problemsOf([{ hosts: 'web', colour: 'red', tasks: [{ name: 'x', docker_container: {} }] }]),
    ).toEqual([
      expect.stringMatching(
        /^site\.yml: play 1 \("web"\): colour: unknown key \(a play takes name, hosts, serial, max_fail_percentage, vars, gather_facts, gather_subset, gather_timeout, forks, tasks, handlers, pre_tasks, post_tasks, roles, vars_files, tags, strategy, become, become_user, /,
      ),
      expect.stringMatching(
        /^site\.yml: play 1 \("web"\) task 1: docker_container: unknown key \(neither a task keyword nor a module; modules: command, shell, /,
      ),
    ]);
  });

  it('refuses a play without hosts and an entry that is not a play', () => {
    expect(problemsOf([{ name: 'web', tasks: [shell] }, 'hosts: web'])).toEqual([
      'site.yml: play 1 ("web"): hosts: a host pattern, or a list of them',
      'site.yml: play 2: a play is a mapping of keys',
    ]);
  });

  it('gathers facts when a play asks, not otherwise, and refuses a value that is no boolean', () => {
    const input = (gather: unknown) =>
      loadPlaybook(write([{ hosts: 'web', gather_facts: gather, tasks: [shell] }]), inv, options).plays[0];
    expect(input(true).gatherFacts).toBe(true);
    expect(input(false).gatherFacts).toBeUndefined();
    expect(problemsOf([{ hosts: 'web', gather_facts: 'smart', tasks: [shell] }])).toEqual([
      expect.stringMatching(/^site\.yml: play 1 \("web"\): gather_facts: /),
    ]);
  });

  it('keeps what a play says it does: become, forks, serial, a list of host patterns, tags as Ansible splits them', () => {
    const input = loadPlaybook(
      write([
        {
          hosts: ['w1', 'w2'],
          become: true,
          forks: 3,
          serial: 1,
          tasks: [{ ...shell, tags: 'config, restart' }],
        },
      ]),
      inv,
      options,
    );
    expect(input.plays[0]).toMatchObject({ forks: 3, serial: 1 });
    expect(input.plays[0].hosts.map((h) => h.target.name)).toEqual(['w1', 'w2']);
    expect(input.plays[0].tasks[0].become).toBe(true);
    expect(input.plays[0].tasks[0].tags).toEqual(['config', 'restart']);
  });
});

describe('task and handler keys', () => {
  it.each(['throttle', 'async', 'delegate_facts', 'connection'])(
    'refuses the task keyword %s as not supported yet, naming play and task',
    (key) => {
      expect(problemsOf([{ name: 'web', hosts: 'web', tasks: [shell, { ...shell, [key]: 'x' }] }])).toEqual([
        `site.yml: play 1 ("web") task 2: ${key}: not supported yet`,
      ]);
    },
  );

  it('runs local_action on the worker, as delegate_to: localhost', () => {
    const input = loadPlaybook(
      write([
        { hosts: 'web', gather_facts: false, tasks: [{ name: 'here', local_action: 'command hostname' }] },
      ]),
      inv,
      options,
    );
    expect(input.plays[0].tasks[0]).toMatchObject({ module: 'command', delegateTo: 'localhost' });
    expect(input.plays[0].tasks[0].delegates).toEqual({ w1: 'localhost', w2: 'localhost' });
    expect(problemsOf([{ hosts: 'web', tasks: [{ local_action: 'command x', delegate_to: 'w1' }] }])).toEqual(
      ['site.yml: play 1 ("web") task 1: local_action: give it alone, without action or delegate_to'],
    );
  });

  it.each(['add_host', 'group_by', 'ansible.builtin.fetch'])(
    'refuses the Ansible action %s as not supported yet rather than an unknown module',
    (action) => {
      expect(problemsOf([{ hosts: 'web', tasks: [{ name: 'x', [action]: {} }] }])).toEqual([
        expect.stringMatching(
          new RegExp(
            `^site\\.yml: play 1 \\("web"\\) task 1: ${action.replace(/\./g, '\\.')}: not supported yet \\(modules: command, shell, `,
          ),
        ),
      ]);
    },
  );

  it('names an unknown task key, offering keywords and modules alike', () => {
    expect(
      problemsOf([
        {
          hosts: 'web',
          tasks: [
            { name: 'a', fiel: { path: '/x' } },
            { ...shell, notfy: 'h', ignore_error: true },
          ],
        },
      ]),
    ).toEqual([
      'site.yml: play 1 ("web") task 1: fiel: unknown key; did you mean file?',
      'site.yml: play 1 ("web") task 2: notfy: unknown key; did you mean notify?',
      'site.yml: play 1 ("web") task 2: ignore_error: unknown key; did you mean ignore_errors?',
    ]);
  });

  it('checks handlers like tasks, and lets only handlers listen', () => {
    expect(
      problemsOf([
        {
          hosts: 'web',
          tasks: [{ ...shell, notify: 'restart', listen: 'x' }],
          handlers: [{ name: 'restart', service: { name: 'x', state: 'restarted' }, throttle: 1 }],
        },
      ]),
    ).toEqual([
      'site.yml: play 1 ("web") task 1: listen: only a handler listens; a task notifies',
      'site.yml: play 1 ("web") handler 1: throttle: not supported yet',
    ]);
  });

  it('refuses a keyword of the wrong type instead of ignoring it', () => {
    expect(
      problemsOf([{ hosts: 'web', tasks: [{ ...shell, become: 'yes', ignore_errors: 'true' }] }]),
    ).toEqual([
      'site.yml: play 1 ("web") task 1: become: true or false (a templated keyword is not supported yet)',
      'site.yml: play 1 ("web") task 1: ignore_errors: true or false (a templated keyword is not supported yet)',
    ]);
  });

  it('reports every problem of every play at once', () => {
    expect(
      problemsOf([
        { name: 'one', hosts: 'web', order: 'sorted', tasks: [{ ...shell, throttle: 1 }] },
        { name: 'two', hosts: 'web', tasks: [{ ...shell, async: 10 }] },
      ]),
    ).toEqual([
      'site.yml: play 1 ("one"): order: not supported yet',
      'site.yml: play 1 ("one") task 1: throttle: not supported yet',
      'site.yml: play 2 ("two") task 1: async: not supported yet',
    ]);
  });
});

describe('notifications', () => {
  const restart = { service: { name: 'app', state: 'restarted' } };

  it('reach a handler through its listen topic, resolved to the names the workflow runs by', () => {
    const input = loadPlaybook(
      write([
        {
          hosts: 'web',
          tasks: [{ ...shell, notify: ['app changed', 'reload'] }],
          handlers: [
            { name: 'restart app', listen: 'app changed', ...restart },
            { name: 'reload', ...restart },
            { name: 'also restart', listen: ['app changed'], ...restart },
          ],
        },
      ]),
      inv,
      options,
    );
    expect(input.plays[0].tasks[0].notify).toEqual(['restart app', 'also restart', 'reload']);
    expect(input.plays[0].handlers.map((h) => [h.name, h.notify])).toEqual([
      ['restart app', []],
      ['reload', []],
      ['also restart', []],
    ]);
  });

  it('refuses a notification no handler answers, and a handler notifying itself or an earlier one', () => {
    expect(
      problemsOf([
        {
          hosts: 'web',
          tasks: [{ ...shell, notify: 'nobody' }],
          handlers: [
            { name: 'first', ...restart },
            { name: 'second', notify: 'first', ...restart },
          ],
        },
      ]),
    ).toEqual([
      'site.yml: play 1 ("web") task 1 ("hi"): notifies "nobody", which no handler answers',
      'site.yml: play 1 ("web") handler 2 ("second"): notifies "first", itself or a handler defined before it: not supported yet',
    ]);
  });

  it('lets a handler notify one defined after it', () => {
    const input = loadPlaybook(
      write([
        {
          hosts: 'web',
          tasks: [{ ...shell, notify: 'first' }],
          handlers: [
            { name: 'first', notify: 'second', ...restart },
            { name: 'second', ...restart },
          ],
        },
      ]),
      inv,
      options,
    );
    expect(input.plays[0].handlers[0].notify).toEqual(['second']);
  });
});

describe('action playbooks of a spec', () => {
  const spec = (nodes: Record<string, unknown>) => {
    const sub = mkdtempSync(path.join(dir, 's-'));
    writeFileSync(
      path.join(sub, 'maint.yml'),
      JSON.stringify([{ name: 'patch', hosts: 'web', vars_prompt: [], tasks: [shell] }]),
    );
    const file = path.join(sub, 'cluster.yml');
    writeFileSync(
      file,
      JSON.stringify({
        cluster: 'x',
        inventory: hostsFile,
        nodes: { hosts: 'web', service: 'app', ...nodes },
      }),
    );
    return file;
  };
  const problem = 'maint.yml: play 1 ("patch"): vars_prompt: not supported yet';

  it('refuses the rolling maintenance play the same way, under the field that names it', () => {
    const file = spec({ maintenance: { play: 'maint.yml' } });
    let err: unknown;
    try {
      buildNodeOperation(loadSpec(file), 'rolling-maintenance');
    } catch (e) {
      err = e;
    }
    expect((err as SpecError).problems).toEqual([`nodes.maintenance.play: ${problem}`]);
    expect(validateSpec(file).problems).toEqual([`nodes.maintenance.play: ${problem}`]);
  });

  it("refuses a node-join install play and cluster-setup's first install the same way", () => {
    const file = spec({ install: 'maint.yml' });
    expect(() => buildNodeOperation(loadSpec(file), 'node-join', { node: 'w2' })).toThrow(
      `nodes.install: ${problem}`,
    );
    expect(validateSpec(file).problems).toEqual([`nodes.install: ${problem}`]);
  });
});

describe('module arguments', () => {
  it('refuses a typo in a module argument, naming the likely one, instead of dropping it', () => {
    const problems = problemsOf([{ hosts: 'web', tasks: [{ file: { path: '/x', mdoe: '0644' } }] }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('file.mdoe: unknown key; did you mean mode?');
  });

  it('refuses an Ansible module option clusterflow does not implement', () => {
    const problems = problemsOf([
      { hosts: 'web', tasks: [{ systemd: { name: 'x', state: 'started', daemon_reexec: true } }] },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('systemd.daemon_reexec: unknown key');
  });
});
