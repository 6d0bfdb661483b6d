import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { conditionHolds } from '../../common/conditions';
import { textExpression } from '../../client/templated-includes';
import type { PlayTask } from '../../common/play';

// Includes whose file name only the host's facts decide, include_role / import_role with their
// other files, and import_playbook: all read when the playbook loads, each file checked, the
// right one picked per host by a condition.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-includes-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(hostsFile, '[lab]\nnode1 ansible_host=10.1.0.1\n');
const inv = loadInventory(hostsFile);
const options = { check: false, diff: false, tags: [], forks: 5, cluster: 'x' };

function tree(files: Record<string, unknown>): string {
  const root = mkdtempSync(path.join(dir, 'p-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return path.join(root, 'site.yml');
}

/** The tasks a host with these facts would run (their `when` holding), by name. */
function runFor(tasks: PlayTask[], facts: Record<string, unknown>): string[] {
  return tasks
    .filter((t) => !t.control?.when || conditionHolds(t.control.when, { ...facts, ...t.control?.vars }))
    .map((t) => t.name);
}

describe('templated includes', () => {
  it('writes a template as one expression, text quoted', () => {
    expect(textExpression('setup-{{ ansible_os_family }}.yml')).toBe(
      "'setup-' ~ (ansible_os_family) ~ '.yml'",
    );
    expect(textExpression("it's")).toBe("'it\\'s'");
  });

  it('reads every file an include_tasks name can be, and runs the one the facts name', () => {
    const file = tree({
      'site.yml': [{ hosts: 'lab', tasks: [{ include_tasks: 'setup-{{ ansible_os_family }}.yml' }] }],
      'setup-Debian.yml': [{ name: 'on debian', command: 'true' }],
      'setup-RedHat.yml': [{ name: 'on redhat', command: 'true' }],
    });
    const tasks = loadPlaybook(file, inv, options).plays[0].tasks;
    // The include itself is a task in the output, as in ansible-core; then the file the facts name.
    expect(runFor(tasks, { ansible_os_family: 'Debian' })).toEqual(['include_tasks', 'on debian']);
    expect(runFor(tasks, { ansible_os_family: 'RedHat' })).toEqual(['include_tasks', 'on redhat']);
    // A name that renders to no file fails the host, as ansible-core does.
    const none = runFor(tasks, { ansible_os_family: 'Suse' });
    expect(none).toHaveLength(2);
    expect(tasks.filter((t) => none.includes(t.name)).map((t) => t.module)).toEqual(['assert', 'fail']);
  });

  it('takes the first file found of include_vars with_first_found, per host', () => {
    const file = tree({
      'site.yml': [
        {
          hosts: 'lab',
          tasks: [
            {
              include_vars: '{{ item }}',
              with_first_found: [
                '{{ ansible_distribution }}.yml',
                '{{ ansible_os_family }}.yml',
                'default.yml',
              ],
            },
          ],
        },
      ],
      'Ubuntu.yml': { pkg: 'ubuntu' },
      'Debian.yml': { pkg: 'debian' },
      'default.yml': { pkg: 'other' },
    });
    const tasks = loadPlaybook(file, inv, options).plays[0].tasks;
    const setBy = (facts: Record<string, unknown>) =>
      tasks
        .filter((t) => t.module === 'set_fact' && conditionHolds(t.control!.when!, facts))
        .map((t) => t.args.pkg);
    expect(setBy({ ansible_distribution: 'Ubuntu', ansible_os_family: 'Debian' })).toEqual(['ubuntu']);
    expect(setBy({ ansible_distribution: 'Debian', ansible_os_family: 'Debian' })).toEqual(['debian']);
    expect(setBy({ ansible_distribution: 'Rocky', ansible_os_family: 'RedHat' })).toEqual(['other']);
  });

  it('fails at the include, not at load, a host that would run a file with a module we lack; import_tasks refuses it', () => {
    const files = {
      'setup-FreeBSD.yml': [{ name: 'bsd', pkgng: { name: 'nginx' } }],
    };
    const dynamic = tree({
      'site.yml': [
        { hosts: 'lab', tasks: [{ include_tasks: 'setup-FreeBSD.yml', when: "os == 'FreeBSD'" }] },
      ],
      ...files,
    });
    const tasks = loadPlaybook(dynamic, inv, options).plays[0].tasks;
    expect(runFor(tasks, { os: 'Debian' })).toEqual([]);
    const bsd = tasks.filter((t) => runFor([t], { os: 'FreeBSD' }).length);
    expect(bsd.map((t) => t.module)).toEqual(['assert', 'fail']);
    expect(String(bsd[1].args.msg)).toMatch(/setup-FreeBSD\.yml cannot run here: .*pkgng: unknown key/);
    const imported = tree({
      'site.yml': [{ hosts: 'lab', tasks: [{ import_tasks: 'setup-FreeBSD.yml', when: "os == 'FreeBSD'" }] }],
      ...files,
    });
    expect(() => loadPlaybook(imported, inv, options)).toThrow(/pkgng: unknown key/);
  });

  it('skips, rather than fails, an include_vars whose first_found terms say skip and match nothing', () => {
    const file = tree({
      'site.yml': [
        {
          hosts: 'lab',
          tasks: [
            {
              include_vars: '{{ item }}',
              with_first_found: [{ files: ['vars/{{ ansible_os_family }}-{{ major }}.yml'], skip: true }],
            },
          ],
        },
      ],
      'vars/Debian-12.yml': { pkg: 'debian12' },
    });
    const tasks = loadPlaybook(file, inv, options).plays[0].tasks;
    // The file for a host sets its vars; a host with none skips the task (a no-op that never runs).
    expect(tasks.map((t) => t.module)).toEqual(['set_fact', 'meta']);
    expect(runFor(tasks, { ansible_os_family: 'Debian', major: 12 })).toHaveLength(1);
    expect(runFor(tasks, { ansible_os_family: 'RedHat', major: 9 })).toEqual([]);
    expect(tasks[1].control?.when).toContain('false');
    const none = tree({
      'site.yml': [
        {
          hosts: 'lab',
          tasks: [{ include_vars: '{{ item }}', with_first_found: [{ files: ['x.yml'], skip: true }] }],
        },
      ],
    });
    expect(loadPlaybook(none, inv, options).plays[0].tasks.map((t) => t.module)).toEqual(['meta']);
  });

  it('hides the tasks of a dynamic include its own condition skips, as ansible-core never reaches them', () => {
    const file = tree({
      'site.yml': [{ hosts: 'lab', tasks: [{ include_tasks: 'redhat.yml', when: "os == 'RedHat'" }] }],
      'redhat.yml': [{ name: 'yum it', command: 'true', when: 'wanted' }],
    });
    const [marker, inner] = loadPlaybook(file, inv, options).plays[0].tasks;
    expect(marker.guards).toBeUndefined();
    expect(inner.guards).toEqual(["os == 'RedHat'"]);
    // The task's own condition is not a guard: a host inside the include that skips it is shown.
    expect(inner.guards).not.toContain('wanted');
  });

  it("refuses the removed include: with ansible-core's advice", () => {
    const file = tree({ 'site.yml': [{ hosts: 'lab', tasks: [{ include: 'x.yml' }] }] });
    expect(() => loadPlaybook(file, inv, options)).toThrow(
      /include: removed from ansible-core in 2\.16; use include_tasks or import_tasks/,
    );
  });

  it('refuses a templated directory in an include name', () => {
    const file = tree({ 'site.yml': [{ hosts: 'lab', tasks: [{ include_tasks: '{{ d }}/x.yml' }] }] });
    expect(() => loadPlaybook(file, inv, options)).toThrow(/templated directory is not supported yet/);
  });
});

describe('include_role and import_role', () => {
  it("run the role's tasks_from file with its vars_from, defaults and handlers, and the line's keywords", () => {
    const file = tree({
      'site.yml': [
        {
          hosts: 'lab',
          tasks: [
            {
              name: 'web',
              include_role: { name: 'web', tasks_from: 'install', vars_from: 'debian' },
              become: true,
              vars: { extra: 1 },
              when: 'go',
            },
            { import_role: { name: 'web' } },
          ],
        },
      ],
      'roles/web/tasks/main.yml': [{ name: 'main', command: 'true' }],
      'roles/web/tasks/install.yml': [{ name: 'install', command: 'true', notify: 'restart' }],
      'roles/web/vars/debian.yml': { pkg: 'nginx' },
      'roles/web/defaults/main.yml': { port: 80 },
      'roles/web/handlers/main.yml': [{ name: 'restart', command: 'true' }],
    });
    const play = loadPlaybook(file, inv, options).plays[0];
    expect(play.tasks.map((t) => `${t.role ?? 'play'}: ${t.name}`)).toEqual([
      'play: web',
      'web: install',
      'web: main',
    ]);
    expect(play.tasks[1]).toMatchObject({ become: true, notify: ['restart'] });
    expect(play.tasks[1].control).toMatchObject({
      defaults: { port: 80 },
      vars: { pkg: 'nginx', extra: 1 },
      when: ['go'],
    });
    expect(play.handlers.map((h) => h.name)).toEqual(['restart']);
  });

  it('refuses public: true rather than hiding the role vars from later tasks', () => {
    const file = tree({
      'site.yml': [{ hosts: 'lab', tasks: [{ include_role: { name: 'web', public: true } }] }],
      'roles/web/tasks/main.yml': [{ command: 'true' }],
    });
    let problems: string[] = [];
    try {
      loadPlaybook(file, inv, options);
    } catch (err) {
      problems = (err as PlaybookError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/include_role: public: true: not supported yet$/)]);
  });
});

describe('import_playbook', () => {
  it("reads the imported plays in place, beside their own file, with the line's vars", () => {
    const file = tree({
      'site.yml': [
        { hosts: 'lab', tasks: [{ name: 'first', command: 'true' }] },
        { import_playbook: 'sub/more.yml', vars: { color: 'blue' } },
      ],
      'sub/more.yml': [{ hosts: 'lab', roles: ['r'] }],
      'sub/roles/r/tasks/main.yml': [{ name: 'from r', command: 'true' }],
    });
    const input = loadPlaybook(file, inv, options);
    expect(input.plays.map((p) => p.tasks.map((t) => t.name))).toEqual([['first'], ['from r']]);
    expect(input.plays[1].hosts[0].vars).toMatchObject({
      color: 'blue',
      playbook_dir: path.dirname(file) + '/sub',
    });
  });
});
