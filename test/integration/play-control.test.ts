import { testSettings, onHost, withWorker } from './helpers';
import { runPlaybook } from './play-helpers';
import type { PlayResult } from '../../common/play';

// Ansible's task keywords through Temporal on lab hosts: a registered result read by later tasks
// (conditions, set_fact, until, failed_when), a loop with a per-item condition, a task only one
// host runs, an assertion; then the same play again changes nothing.

const settings = testSettings();
const HOSTS = ['node1', 'node2'];
const dir = `/tmp/cf-control-${Date.now().toString(36)}`;

const plays = [
  {
    name: 'control',
    hosts: HOSTS.join(','),
    gather_facts: true,
    tasks: [
      { name: 'read the release', command: 'cat /etc/debian_version', register: 'deb', changed_when: false },
      { name: 'remember the major', set_fact: { major: "{{ deb.stdout.split('.')[0] | int }}" } },
      {
        name: 'directories',
        file: { path: `${dir}/{{ item }}`, state: 'directory' },
        loop: ['a', 'b', 'c'],
        when: "item != 'b'",
      },
      {
        name: 'only on node1',
        copy: { content: 'major {{ major }}\n', dest: `${dir}/major` },
        when: "inventory_hostname == 'node1'",
      },
      {
        name: 'count them',
        shell: `ls ${dir} | wc -l`,
        register: 'count',
        changed_when: false,
        failed_when: 'count.stdout | int < 2',
      },
      {
        name: 'wait for a',
        shell: `test -d ${dir}/a && echo here`,
        register: 'w',
        until: "w.stdout == 'here'",
        retries: 2,
        delay: 1,
        changed_when: false,
      },
      { name: 'look at a', stat: { path: `${dir}/a` }, register: 'st' },
      { name: 'look at b', stat: { path: `${dir}/b` }, register: 'nb' },
      { name: 'a moment', pause: { seconds: 1 } },
      {
        name: 'check',
        assert: {
          that: [
            'major | int >= 11',
            'count is succeeded',
            'w.attempts == 1',
            "ansible_os_family == 'Debian'",
            'ansible_facts.distribution_major_version | int == major',
            'st.stat.isdir and st.stat.mode == "0755"',
            'not nb.stat.exists',
          ],
        },
      },
      { name: 'show', debug: { var: 'count.stdout_lines' } },
    ],
  },
];

const statuses = (r: PlayResult, host: string) =>
  r.tasks.map((t) => `${t.task}:${t.hosts.find((h) => h.host === host)?.status}`);

describe('task keywords on lab hosts', () => {
  afterAll(() => HOSTS.forEach((h) => onHost(h, `rm -rf ${dir}`)));

  it('registers, conditions, loops, retries and asserts as Ansible does, and converges', async () => {
    const [first, second] = await withWorker(settings, async (client) => [
      await runPlaybook(client, settings, plays),
      await runPlaybook(client, settings, plays),
    ]);
    expect(statuses(first, 'node1')).toEqual([
      'Gathering Facts:ok',
      'read the release:ok',
      'remember the major:ok',
      'directories:changed',
      'only on node1:changed',
      'count them:ok',
      'wait for a:ok',
      'look at a:ok',
      'look at b:ok',
      'a moment:ok',
      'check:ok',
      'show:ok',
    ]);
    expect(statuses(first, 'node2')).toContain('only on node1:skipped');
    for (const h of HOSTS)
      expect(onHost(h, `ls ${dir}`).split('\n')).toEqual(h === 'node1' ? ['a', 'c', 'major'] : ['a', 'c']);
    const major = onHost('node1', 'cut -d. -f1 /etc/debian_version');
    expect(onHost('node1', `cat ${dir}/major`)).toBe(`major ${major}`);

    const loop = first.tasks.find((t) => t.task === 'directories')!.hosts.find((h) => h.host === 'node2')!;
    expect(loop.result?.results?.map((r) => [r.item, r.skipped ? 'skipped' : r.changed])).toEqual([
      ['a', true],
      ['b', 'skipped'],
      ['c', true],
    ]);
    const shown = first.tasks.find((t) => t.task === 'show')!.hosts.find((h) => h.host === 'node2')!;
    expect(shown.result?.msg).toBe('count.stdout_lines: ["2"]');

    expect(Object.values(second.recap).every((r) => r.changed === 0 && r.failed === 0)).toBe(true);
    expect(second.recap.node2.skipped).toBe(1);
  });

  it('fails the host a failed_when condemns, and assert stops it with its message', async () => {
    const r = await withWorker(settings, (client) =>
      runPlaybook(client, settings, [
        {
          name: 'condemn',
          hosts: 'node1',
          tasks: [
            {
              name: 'ERROR in the output',
              command: 'echo ERROR',
              register: 'out',
              failed_when: "'ERROR' in out.stdout",
            },
            { name: 'never', debug: { msg: 'not reached' } },
          ],
        },
      ]),
    );
    expect(statuses(r, 'node1')).toEqual(['ERROR in the output:failed']);
    expect(r.recap.node1.failed).toBe(1);
  });

  it('rescues a failure inside a block, runs always, and goes on; an unrescued one stops the host after always', async () => {
    const r = await withWorker(settings, (client) =>
      runPlaybook(client, settings, [
        {
          name: 'blocks',
          hosts: 'node1',
          tasks: [
            {
              name: 'guarded',
              block: [
                { name: 'breaks', command: 'false' },
                { name: 'not after the failure', debug: { msg: 'x' } },
              ],
              rescue: [{ name: 'repair', debug: { msg: 'repaired' } }],
              always: [{ name: 'cleanup', debug: { msg: 'always' } }],
            },
            { name: 'after', debug: { msg: 'after' } },
            {
              name: 'unguarded',
              block: [{ name: 'breaks again', command: 'false' }],
              always: [{ name: 'still', debug: { msg: 'still' } }],
            },
            { name: 'never', debug: { msg: 'never' } },
          ],
        },
      ]),
    );
    expect(statuses(r, 'node1')).toEqual([
      'breaks:failed',
      'repair:ok',
      'cleanup:ok',
      'after:ok',
      'breaks again:failed',
      'still:ok',
    ]);
    expect(r.recap.node1).toMatchObject({ failed: 1, rescued: 1 });
  });
});
