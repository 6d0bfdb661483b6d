import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook } from '../../client/play';
import { startAtTask, startsHere } from '../../client/start-at-task';
import type { PlayTask } from '../../common/play';

// ansible-playbook's --start-at-task: the tasks before the first match are left out (in its play
// and the plays before), matched by name or `role : name`, exactly or as an fnmatch glob.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-start-at-'));
writeFileSync(path.join(dir, 'hosts.ini'), '[web]\nw1 ansible_host=10.1.0.1\n');
const inv = loadInventory(path.join(dir, 'hosts.ini'));
mkdirSync(path.join(dir, 'roles', 'web', 'tasks'), { recursive: true });
writeFileSync(
  path.join(dir, 'roles', 'web', 'tasks', 'main.yml'),
  JSON.stringify([{ name: 'motd', debug: { msg: 'role' } }]),
);
const site = path.join(dir, 'site.yml');
const debug = (name: string, extra: object = {}) => ({ name, debug: { msg: name }, ...extra });
writeFileSync(
  site,
  JSON.stringify([
    { name: 'first', hosts: 'web', gather_facts: true, tasks: [debug('setup'), debug('motd')] },
    {
      name: 'second',
      hosts: 'web',
      gather_facts: true,
      pre_tasks: [debug('pre', { notify: 'h' })],
      roles: ['web'],
      tasks: [
        debug('install [a]'),
        { meta: 'flush_handlers' },
        debug('tagged', { tags: ['later'] }),
        { name: 'guarded', block: [debug('try')], rescue: [debug('recover')] },
        debug('configure'),
      ],
      handlers: [debug('h')],
    },
    { name: 'third', hosts: 'web', tasks: [debug('after')] },
  ]),
);
const load = (tags: string[] = []) =>
  loadPlaybook(site, inv, { check: false, diff: false, tags, forks: 5, cluster: 'x' });
const names = (tasks: PlayTask[]) => tasks.map((t) => (t.role ? `${t.role} : ${t.name}` : t.name));

describe('--start-at-task', () => {
  it('matches a name, a role task as `role : name`, and fnmatch globs', () => {
    const t = { name: 'motd', role: 'web' } as PlayTask;
    expect(startsHere(t, 'motd')).toBe(true);
    expect(startsHere(t, 'web : motd')).toBe(true);
    expect(startsHere(t, 'web : mo*')).toBe(true);
    expect(startsHere(t, '[mw]otd')).toBe(true);
    expect(startsHere(t, 'Motd')).toBe(false);
    // A name with brackets matches itself, though as a glob it would not.
    expect(startsHere({ name: 'install [a]' } as PlayTask, 'install [a]')).toBe(true);
  });

  it('leaves out what comes before the first match; later plays and the handlers stay whole', () => {
    const input = load();
    const started = startAtTask(input, 'web : *');
    const [first, second, third] = started.plays;
    expect(first.tasks).toEqual([]);
    expect(first.gatherFacts).toBeUndefined();
    expect(names(second.tasks)).toEqual([
      'web : motd',
      'install [a]',
      'tagged',
      'try',
      'recover',
      'configure',
    ]);
    expect(second.gatherFacts).toBe(true);
    expect(second.handlers.map((h) => h.name)).toEqual(['h']);
    expect(third).toEqual(input.plays[2]);
  });

  it('keeps each flush point after the same task', () => {
    const input = load();
    const second = input.plays[1];
    const flushedAfter = (p: typeof second) => (p.flushAfter ?? []).map((i) => p.tasks[i].name);
    const before = flushedAfter(second);
    expect(before).toEqual(expect.arrayContaining(['pre', 'install [a]']));
    // The flush after pre_tasks went with them; the meta: flush_handlers is still after its task.
    expect(flushedAfter(startAtTask(input, 'web : motd').plays[1])).toEqual(
      before.filter((n) => n !== 'pre'),
    );
  });

  it('passes by tasks the tags leave out, and rescues, which only a failure reaches', () => {
    expect(names(startAtTask(load(['later']), 't*').plays[1].tasks)[0]).toBe('tagged');
    expect(names(startAtTask(load(), 't*').plays[1].tasks)[0]).toBe('tagged');
    expect(() => startAtTask(load(), 'recover')).toThrow('No matching task "recover" found');
    expect(() => startAtTask(load(['other']), 'tagged')).toThrow(
      'No matching task "tagged" found. Note: --start-at-task can only follow static includes.',
    );
  });

  it('lists the tasks from the start, without a server', () => {
    const r = spawnSync(
      process.execPath,
      [
        'bin/clusterflow.js',
        'play',
        site,
        '-i',
        path.join(dir, 'hosts.ini'),
        '--list-tasks',
        '--start-at-task',
        'conf*',
      ],
      { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('      '))).toEqual([
      '      configure\tTAGS: []',
      '      after\tTAGS: []',
    ]);
    const none = spawnSync(
      process.execPath,
      [
        'bin/clusterflow.js',
        'play',
        site,
        '-i',
        path.join(dir, 'hosts.ini'),
        '--list-tasks',
        '--start-at-task',
        'nope',
      ],
      { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, timeout: 60_000 },
    );
    expect([none.status, none.stderr.trim()]).toEqual([
      2,
      'clusterflow: bad input: No matching task "nope" found. Note: --start-at-task can only follow static includes.',
    ]);
  });
});
