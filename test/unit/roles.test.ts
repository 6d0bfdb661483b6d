import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { roleSearchPath } from '../../client/roles';

// Plays in Ansible's shape: pre_tasks, roles with their dependencies, tasks, post_tasks, and
// handlers flushed after each section; roles found where ansible-core looks, their variables in
// scope, their files beside them. All read and checked before anything runs.

const fixture = path.join(__dirname, '../fixtures/roles-play');
const dir = mkdtempSync(path.join(tmpdir(), 'cf-roles-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(hostsFile, '[lab]\nnode1 ansible_host=10.1.0.1\nnode2 ansible_host=10.1.0.2\n');
const inv = loadInventory(hostsFile);
const options = { check: false, diff: false, tags: [], forks: 5, cluster: 'x' };

function problems(file: string): string[] {
  try {
    loadPlaybook(file, inv, options);
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems;
    throw err;
  }
  return [];
}

function playbook(plays: unknown, roles: Record<string, Record<string, string>> = {}): string {
  const root = mkdtempSync(path.join(dir, 'p-'));
  for (const [role, files] of Object.entries(roles))
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, 'roles', role, file)), { recursive: true });
      writeFileSync(path.join(root, 'roles', role, file), text);
    }
  writeFileSync(path.join(root, 'site.yml'), JSON.stringify(plays));
  return path.join(root, 'site.yml');
}

describe('roles and sections', () => {
  it('run pre_tasks, the dependency, the role, tasks, post_tasks in order, flushing handlers after each section', () => {
    const play = loadPlaybook(path.join(fixture, 'site.yml'), inv, options).plays[0];
    expect(play.tasks.map((t) => `${t.role ?? 'play'}: ${t.name}`)).toEqual([
      'play: the root',
      'cf_base: the base file',
      'cf_motd: motd from the template',
      'cf_motd: one file per line',
      'play: a play task',
      'play: what the handlers did',
      'play: handlers ran after their section',
    ]);
    expect(play.flushAfter).toEqual([0, 4]);
    expect(play.handlers.map((h) => h.name)).toEqual(['motd changed', 'pre handler']);
  });

  it('give role tasks their defaults below, their vars and params above, and the include its when', () => {
    const play = loadPlaybook(path.join(fixture, 'site.yml'), inv, options).plays[0];
    const motd = play.tasks.find((t) => t.name === 'motd from the template')!;
    expect(motd.control?.defaults).toEqual({ motd_owner: 'nobody', motd_lines: ['a', 'b'] });
    expect(motd.control?.vars).toEqual({
      motd_file: '{{ root }}/motd',
      motd_owner: 'clusterflow',
      role_name: 'cf_motd',
      role_path: path.join(fixture, 'roles/cf_motd'),
    });
    expect(motd.args.src).toBe(path.join(fixture, 'roles/cf_motd/templates/motd.j2'));
    const base = play.tasks.find((t) => t.name === 'the base file')!;
    expect(base.args.src).toBe(path.join(fixture, 'roles/cf_base/files/base.txt'));
    const lines = play.tasks.find((t) => t.name === 'one file per line')!;
    expect(lines.control?.when).toEqual(['motd_lines | length > 0']);
  });

  it('apply the role line’s when and tags to every task of the role', () => {
    const file = playbook([{ hosts: 'lab', roles: [{ role: 'r', when: 'go', tags: 'web' }] }], {
      r: { 'tasks/main.yml': '- name: t\n  command: "true"\n  tags: own\n' },
    });
    const t = loadPlaybook(file, inv, options).plays[0].tasks[0];
    expect(t.control?.when).toEqual(['go']);
    expect(t.tags).toEqual(['web', 'own']);
  });

  it('refuse a role that is not there, naming where it looked, and a role that depends on itself', () => {
    expect(problems(playbook([{ hosts: 'lab', roles: ['nope'] }]))[0]).toMatch(
      /^site\.yml: play 1 \("lab"\): roles: role "nope" not found in .*\/roles, /,
    );
    const loop = playbook([{ hosts: 'lab', roles: ['a'] }], {
      a: { 'meta/main.yml': 'dependencies: [b]\n', 'tasks/main.yml': '[]\n' },
      b: { 'meta/main.yml': 'dependencies: [a]\n', 'tasks/main.yml': '[]\n' },
    });
    expect(problems(loop)[0]).toMatch(/role "a" depends on itself: a -> b -> a/);
  });

  it('check a role’s tasks like a play’s, naming the role', () => {
    const file = playbook([{ hosts: 'lab', roles: ['r'] }], {
      r: { 'tasks/main.yml': '- name: t\n  fiel: { path: /x }\n' },
    });
    expect(problems(file)).toEqual([
      'site.yml: play 1 ("lab") role r task 1: fiel: unknown key; did you mean file?',
    ]);
  });

  it('flush handlers where the play says meta: flush_handlers', () => {
    const file = playbook([
      {
        hosts: 'lab',
        tasks: [
          { name: 'a', command: 'true', notify: 'h' },
          { meta: 'flush_handlers' },
          { name: 'b', command: 'true' },
        ],
        handlers: [{ name: 'h', command: 'true' }],
      },
    ]);
    expect(loadPlaybook(file, inv, options).plays[0].flushAfter).toEqual([0]);
  });

  it('look for roles beside the playbook, in ansible.cfg roles_path and in ANSIBLE_ROLES_PATH', () => {
    const root = mkdtempSync(path.join(dir, 'cfg-'));
    writeFileSync(path.join(root, 'ansible.cfg'), '[defaults]\nroles_path = ./galaxy:/opt/roles\n');
    const dirs = roleSearchPath(root, { ANSIBLE_ROLES_PATH: '/srv/roles' });
    expect(dirs.slice(0, 4)).toEqual([
      path.join(root, 'roles'),
      path.join(root, 'galaxy'),
      '/opt/roles',
      '/srv/roles',
    ]);
  });
});

describe('include_vars', () => {
  it('reads a role’s vars file when the playbook loads, and sets it for the host', () => {
    const file = playbook([{ hosts: 'lab', roles: ['r'] }], {
      r: {
        'tasks/main.yml': '- include_vars: debian.yml\n- name: use\n  debug: { msg: "{{ pkg }}" }\n',
        'vars/debian.yml': 'pkg: nginx-full\n',
      },
    });
    const [set] = loadPlaybook(file, inv, options).plays[0].tasks;
    expect([set.module, set.args]).toEqual(['set_fact', { pkg: 'nginx-full' }]);
  });

  it('refuses options it does not read yet rather than ignoring them', () => {
    const file = playbook([{ hosts: 'lab', tasks: [{ include_vars: { file: 'x.yml', name: 'scoped' } }] }]);
    expect(problems(file)).toEqual([
      'site.yml: play 1 ("lab") task 1: include_vars: name: not supported yet',
    ]);
  });
});
