import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadPlaybook } from '../../client/play';
import { renderTasks } from '../../client/play-output';
import { targetsOf } from '../../client/play-verbose';
import type { PlayResult } from '../../common/play';
import { labInventory, onHost, testSettings, withWorker } from './helpers';

// Lookups through Temporal on lab host node1: a role's tasks read the worker's environment, the
// role's files/ and templates/ (and a file beside the playbook), and a with_first_found loop picks
// the role's template; what they read lands on the host.

const settings = testSettings();
const ROOT = '/tmp/cf-lookups-test';

function playbook(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-lookups-it-'));
  const role = path.join(dir, 'roles', 'lk');
  for (const d of ['tasks', 'files', 'templates']) mkdirSync(path.join(role, d), { recursive: true });
  mkdirSync(path.join(dir, 'files'));
  writeFileSync(path.join(role, 'files', 'greeting.txt'), 'hello from files\n');
  writeFileSync(path.join(dir, 'files', 'play-only.txt'), 'beside the playbook\n');
  writeFileSync(
    path.join(role, 'templates', 'motd.j2'),
    "motd for {{ inventory_hostname }} ({{ lookup('env', 'CF_LOOKUP_IT') }})\n",
  );
  writeFileSync(path.join(role, 'templates', 'picked.j2'), 'picked {{ item | basename }}\n');
  writeFileSync(
    path.join(role, 'tasks', 'main.yml'),
    stringify([
      {
        name: 'read',
        set_fact: {
          from_env: "{{ lookup('env', 'CF_LOOKUP_IT') }}",
          from_file: "{{ lookup('file', 'greeting.txt') }}",
          from_play: "{{ lookup('file', 'play-only.txt') }}",
          found: "{{ lookup('first_found', {'files': ['missing.txt', 'greeting.txt']}) | basename }}",
        },
      },
      { name: 'root', file: { path: ROOT, state: 'directory' } },
      {
        name: 'values',
        copy: {
          content: '{{ from_env }}|{{ from_file }}|{{ from_play }}|{{ found }}\n',
          dest: `${ROOT}/values`,
        },
      },
      { name: 'motd', copy: { content: "{{ lookup('template', 'motd.j2') }}", dest: `${ROOT}/motd` } },
      {
        name: 'pick',
        template: { src: '{{ item }}', dest: `${ROOT}/picked` },
        with_first_found: ['{{ not_defined_anywhere }}.j2', 'nope.j2', 'picked.j2'],
      },
    ]),
  );
  const site = path.join(dir, 'site.yml');
  writeFileSync(site, stringify([{ name: 'lookups', hosts: 'node1', gather_facts: false, roles: ['lk'] }]));
  return site;
}

describe('lookups on a lab host', () => {
  beforeAll(() => onHost('node1', `rm -rf ${ROOT}`));
  afterAll(() => onHost('node1', `rm -rf ${ROOT}`));

  it('read env, files, templates and first_found on the worker, from the role then the playbook', async () => {
    process.env.CF_LOOKUP_IT = 'from the worker';
    const input = loadPlaybook(playbook(), labInventory(), {
      check: false,
      diff: false,
      tags: [],
      forks: 5,
      cluster: 'lab',
    });
    const result = await withWorker(settings, async (client) => {
      const handle = await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-lookups/${Date.now()}`,
        args: [input],
      });
      return (await handle.result()) as PlayResult;
    });
    expect(result.recap.node1).toMatchObject({ failed: 0, unreachable: 0, changed: 4 });
    expect(onHost('node1', `cat ${ROOT}/values`)).toBe(
      'from the worker|hello from files|beside the playbook|greeting.txt',
    );
    expect(onHost('node1', `cat ${ROOT}/motd`)).toBe('motd for node1 (from the worker)');
    expect(onHost('node1', `cat ${ROOT}/picked`)).toBe('picked picked.j2');
    // The reports carry where each task is written and its module, for -vv and -vvv.
    const shown = renderTasks(result.tasks, false, { level: 3, targets: targetsOf(input) });
    expect(shown).toContain('task path: site.yml: play 1 ("lookups") role lk task 3');
    expect(shown).toMatch(
      /<10\.77\.0\.\d+> SSH: root@10\.77\.0\.\d+:22\nchanged: \[node1\] => \{\n {4}"changed": true,/,
    );
    const pick = result.tasks.find((t) => t.task === 'pick')?.hosts[0].result?.results;
    expect(pick?.map((r) => String(r.item).split('/').slice(-3).join('/'))).toEqual([
      'lk/templates/picked.j2',
    ]);
  });
});
