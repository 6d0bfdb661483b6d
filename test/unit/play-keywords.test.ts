import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { runDependence } from '../../client/run-dependent';

// What the client works out before a play runs: magic variables, where delegated tasks go,
// which values only the run can give, and precedence where the client decides it.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-play-keywords-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(
  hostsFile,
  '[web]\nw1 ansible_host=10.1.0.1\nw2 ansible_host=10.1.0.2\n[db]\nd1 ansible_host=10.1.0.3\n',
);
const inv = loadInventory(hostsFile);
const options = { check: true, diff: false, tags: [], forks: 5, cluster: 'x' };

function load(plays: unknown, extraVars?: Record<string, unknown>) {
  const file = path.join(mkdtempSync(path.join(dir, 'p-')), 'site.yml');
  writeFileSync(file, JSON.stringify(plays));
  return loadPlaybook(file, inv, { ...options, extraVars });
}

const task = { name: 't', command: 'true' };

describe('magic variables', () => {
  it("give each host its name, groups and the run's place and modes", () => {
    const play = load([{ hosts: 'web', gather_facts: false, tasks: [task] }]).plays[0];
    expect(play.hosts[0].vars).toMatchObject({
      inventory_hostname: 'w1',
      inventory_hostname_short: 'w1',
      group_names: ['web'],
      ansible_check_mode: true,
      ansible_play_hosts_all: ['w1', 'w2'],
      inventory_dir: dir,
    });
    // groups travel only with a play that reads them.
    expect(play.hosts[0].vars.groups).toBeUndefined();
    const reading = load([
      { hosts: 'web', tasks: [{ ...task, command: "echo {{ groups['db'] | first }}" }] },
    ]);
    expect(reading.plays[0].hosts[0].vars.groups).toMatchObject({ web: ['w1', 'w2'], db: ['d1'] });
  });

  it('gather facts unless the play says no, as ansible-core', () => {
    expect(load([{ hosts: 'web', tasks: [task] }]).plays[0].gatherFacts).toBe(true);
    expect(load([{ hosts: 'web', gather_facts: false, tasks: [task] }]).plays[0].gatherFacts).toBeUndefined();
  });
});

describe('delegate_to', () => {
  it('resolves per host to an inventory host, or to the worker for localhost', () => {
    const play = load([
      {
        hosts: 'web',
        gather_facts: false,
        tasks: [
          { ...task, delegate_to: "{{ groups['db'][0] }}" },
          { ...task, delegate_to: 'localhost' },
        ],
      },
    ]).plays[0];
    expect(play.tasks[0].delegates).toEqual({ w1: 'd1', w2: 'd1' });
    expect(play.tasks[1].delegates).toEqual({ w1: 'localhost', w2: 'localhost' });
    expect(play.delegateTargets?.d1).toMatchObject({ address: '10.1.0.3' });
    expect(play.delegateTargets?.localhost).toMatchObject({ connection: 'local' });
  });

  it('leaves a task on its own host when delegate_to renders to omit', () => {
    const play = load([
      {
        hosts: 'web',
        gather_facts: false,
        vars: { primary: '' },
        tasks: [{ ...task, delegate_to: '{{ primary | default(omit, true) }}' }],
      },
    ]).plays[0];
    expect(play.tasks[0].delegates).toEqual({});
    expect(play.delegateTargets).toBeUndefined();
  });

  it('refuses a host the inventory does not have, and one only a registered value names', () => {
    let problems: string[] = [];
    try {
      load([
        {
          hosts: 'web',
          gather_facts: false,
          tasks: [
            { ...task, delegate_to: 'nowhere' },
            { ...task, register: 'r' },
            { ...task, delegate_to: '{{ r.stdout }}' },
          ],
        },
      ]);
    } catch (err) {
      problems = (err as PlaybookError).problems;
    }
    expect(problems).toEqual([
      'task "t" on w1: delegate_to: nowhere is not in the inventory',
      'task "t" on w2: delegate_to: nowhere is not in the inventory',
      'task "t": delegate_to: {{ r.stdout }}: depends on a registered value: not supported yet',
    ]);
  });
});

describe('what only the run gives', () => {
  it('includes facts of a gathering play and every variable that reads them, transitively', () => {
    const dependent = runDependence(
      ['out'],
      { pkg: '{{ pkgs[os] }}', os: '{{ ansible_os_family }}', n: 1 },
      true,
    );
    expect(dependent('{{ pkg }}')).toBe(true);
    expect(dependent('{{ out.stdout }}')).toBe(true);
    expect(dependent('{{ n + 1 }}')).toBe(false);
    expect(runDependence([], { os: '{{ ansible_os_family }}' }, false)('{{ os }}')).toBe(false);
  });
});

describe('precedence the client decides', () => {
  it("puts extra vars above a task's vars, and the play's role vars and defaults into every task", () => {
    const file = path.join(mkdtempSync(path.join(dir, 'p-')), 'site.yml');
    const root = path.dirname(file);
    for (const [f, text] of Object.entries({
      'roles/r/tasks/main.yml': '- command: "true"\n',
      'roles/r/defaults/main.yml': 'port: 80\nname_of: role-default\n',
      'roles/r/vars/main.yml': 'conf_dir: /etc/r\n',
    })) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), text);
    }
    writeFileSync(
      file,
      JSON.stringify([
        {
          hosts: 'web',
          gather_facts: false,
          vars: { name_of: 'play' },
          roles: ['r'],
          tasks: [{ ...task, vars: { color: 'task', port: 81 } }],
        },
      ]),
    );
    const play = loadPlaybook(file, inv, { ...options, extraVars: { color: 'extra' } }).plays[0];
    expect(play.hosts[0].vars).toMatchObject({
      port: 80,
      name_of: 'play',
      conf_dir: '/etc/r',
      color: 'extra',
    });
    expect(play.tasks[1].control?.vars).toEqual({ port: 81 });
  });
});
