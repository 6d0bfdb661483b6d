import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { commandArgs, keyValueArgs, splitWords } from '../../client/free-form';
import { taskSelected } from '../../common/play';

// The task forms older roles are written in — key=value arguments, `action:`, `args:` — become
// the mapping a module takes; and Ansible's special tags select as ansible-playbook does.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-forms-'));
const hostsFile = path.join(dir, 'hosts.ini');
writeFileSync(hostsFile, '[web]\nw1 ansible_host=10.1.0.1\n');
const inv = loadInventory(hostsFile);

function tasks(list: unknown[]) {
  const file = path.join(mkdtempSync(path.join(dir, 'p-')), 'site.yml');
  writeFileSync(file, JSON.stringify([{ hosts: 'web', tasks: list }]));
  return loadPlaybook(file, inv, { check: false, diff: false, tags: [], forks: 5, cluster: 'x' }).plays[0]
    .tasks;
}

describe('free-form task arguments', () => {
  it('read key=value arguments, quotes grouping a value', () => {
    expect(keyValueArgs('name=nginx state=present')).toEqual({ name: 'nginx', state: 'present' });
    expect(keyValueArgs(`path=/etc/x line="a = b" create=yes`)).toEqual({
      path: '/etc/x',
      line: 'a = b',
      create: 'yes',
    });
    expect(() => keyValueArgs('nginx')).toThrow('"nginx" is not key=value');
    expect(splitWords(`a 'b c' "d"`)).toEqual(['a', 'b c', 'd']);
  });

  it('take a free-form command’s inline parameters out, leaving its own quoting', () => {
    expect(commandArgs('make install creates=/usr/bin/x chdir=/src')).toEqual({
      cmd: 'make install',
      creates: '/usr/bin/x',
      chdir: '/src',
    });
    expect(commandArgs(`echo "a  b" > /tmp/x`)).toEqual({ cmd: `echo "a  b" > /tmp/x` });
  });

  it('become module arguments in a play, from the module line, action: and args:', () => {
    const [pkg, copy, cmd, act] = tasks([
      { name: 'pkg', package: 'name=nginx state=present' },
      { name: 'copy', action: 'copy content=hi dest=/tmp/x' },
      { name: 'cmd', command: 'true', args: { chdir: '/tmp' } },
      { name: 'act', action: { module: 'file', path: '/tmp/d', state: 'directory' } },
    ]);
    expect(pkg.args).toEqual({ name: 'nginx', state: 'present' });
    expect([copy.module, copy.args]).toEqual(['copy', { content: 'hi', dest: '/tmp/x' }]);
    expect(cmd.args).toEqual({ chdir: '/tmp', cmd: 'true' });
    expect([act.module, act.args]).toEqual(['file', { path: '/tmp/d', state: 'directory' }]);
  });

  it('refuse a broken free form, naming the task', () => {
    expect(() => tasks([{ name: 'x', package: 'nginx' }])).toThrow(PlaybookError);
    expect(() => tasks([{ name: 'x', package: 'nginx' }])).toThrow(
      /task 1: package: "nginx" is not key=value/,
    );
  });
});

describe('special tags', () => {
  const t = (...tags: string[]) => ({ tags });
  it('run always tasks whatever is asked, never tasks only when asked for', () => {
    expect(taskSelected(t('always'), ['x'])).toBe(true);
    expect(taskSelected(t('never'), [])).toBe(false);
    expect(taskSelected(t('never', 'debug'), ['debug'])).toBe(true);
    expect(taskSelected(t('never'), ['all'])).toBe(false);
  });

  it('select tagged and untagged tasks as ansible-playbook does', () => {
    expect(taskSelected(t('web'), ['tagged'])).toBe(true);
    expect(taskSelected(t(), ['tagged'])).toBe(false);
    expect(taskSelected(t(), ['untagged'])).toBe(true);
    expect(taskSelected(t('web'), ['db'])).toBe(false);
  });
});

describe('vars_files', () => {
  it('read the files beside the playbook into the play’s variables, later ones winning', () => {
    const root = mkdtempSync(path.join(dir, 'vf-'));
    writeFileSync(path.join(root, 'a.yml'), 'port: 80\nname: a\n');
    writeFileSync(path.join(root, 'b.yml'), 'name: b\n');
    writeFileSync(
      path.join(root, 'site.yml'),
      JSON.stringify([{ hosts: 'web', vars: { port: 1 }, vars_files: ['a.yml', 'b.yml'], tasks: [] }]),
    );
    const play = loadPlaybook(path.join(root, 'site.yml'), inv, {
      check: false,
      diff: false,
      tags: [],
      forks: 5,
      cluster: 'x',
    }).plays[0];
    expect(play.hosts[0].vars).toMatchObject({ port: 80, name: 'b' });
  });

  it('refuse a broken vault file by name rather than reading ciphertext as variables', () => {
    const root = mkdtempSync(path.join(dir, 'vv-'));
    writeFileSync(path.join(root, 'secret.yml'), '$ANSIBLE_VAULT;1.1;AES256\n6162\n');
    writeFileSync(
      path.join(root, 'site.yml'),
      JSON.stringify([{ hosts: 'web', vars_files: 'secret.yml', tasks: [] }]),
    );
    expect(() =>
      loadPlaybook(path.join(root, 'site.yml'), inv, {
        check: false,
        diff: false,
        tags: [],
        forks: 5,
        cluster: 'x',
      }),
    ).toThrow(/vars_files: .*secret\.yml: not a vault: the body is not salt, HMAC and ciphertext/);
  });
});

describe('blocks', () => {
  it('become flat tasks that know their block and part, with the block’s when and tags', () => {
    const list = tasks([
      {
        name: 'guarded',
        when: 'go',
        tags: 'web',
        block: [{ name: 'a', command: 'true' }, { block: [{ name: 'inner', command: 'true' }] }],
        rescue: [{ name: 'r', command: 'true' }],
        always: [{ name: 'z', command: 'true' }],
      },
      { name: 'after', command: 'true' },
    ]);
    expect(list.map((t) => [t.name, (t.blocks ?? []).map((b) => `${b.id}:${b.part}`).join('/')])).toEqual([
      ['a', 'b1:block'],
      ['inner', 'b1:block/b2:block'],
      ['r', 'b1:rescue'],
      ['z', 'b1:always'],
      ['after', ''],
    ]);
    expect(list[0].control?.when).toEqual(['go']);
    expect(list[1].control?.when).toEqual(['go']);
    expect(list[0].tags).toEqual(['web']);
  });

  it('refuse a keyword on a block that is not run yet', () => {
    expect(() => tasks([{ block: [{ command: 'true' }], throttle: 2 }])).toThrow(
      /task 1: throttle on a block: not supported yet/,
    );
  });

  it('hand become_user, environment and the other inherited keywords down to the tasks of a block', () => {
    const list = tasks([
      {
        block: [{ command: 'id' }, { command: 'env', become_user: 'www-data', environment: { B: '2' } }],
        become: true,
        become_user: 'nobody',
        environment: { A: '1' },
        check_mode: false,
      },
    ]);
    expect(list[0]).toMatchObject({
      become: true,
      becomeUser: 'nobody',
      environment: { A: '1' },
      check: false,
    });
    expect(list[1]).toMatchObject({ becomeUser: 'www-data', environment: { A: '1', B: '2' } });
  });
});
