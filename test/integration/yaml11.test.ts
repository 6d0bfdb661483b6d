import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadPlaybook } from '../../client/play';
import type { PlayResult } from '../../common/play';
import { labInventory, onHost, testSettings, withWorker } from './helpers';

// Playbooks as an operator writes them for ansible-playbook: YAML 1.1, so `become: yes` is true
// and an unquoted 0644 is octal. The modes are checked with stat on the host itself.

const settings = testSettings();
const HOST = 'node4';
const D = '/tmp/cf-yaml11';
const dir = mkdtempSync(path.join(tmpdir(), 'cf-yaml11-'));
let n = 0;

/** The playbook text is written as is (not through a YAML writer), so the parser sees `0644`. */
function playbookFile(text: string): string {
  const file = path.join(dir, `play-${++n}.yml`);
  writeFileSync(file, text);
  return file;
}

async function run(client: Client, file: string, options: { check?: boolean } = {}): Promise<PlayResult> {
  const input = loadPlaybook(file, labInventory(), {
    check: Boolean(options.check),
    diff: true,
    tags: [],
    forks: 5,
    cluster: 'lab',
  });
  const handle = await client.workflow.start('play', {
    taskQueue: settings.taskQueue,
    workflowId: `test-yaml11/${Date.now()}-${n}`,
    args: [input],
  });
  return handle.result();
}

const modeOf = (p: string) => onHost(HOST, `stat -c %a ${p}`);

const PLAY = `
- hosts: ${HOST}
  gather_facts: no
  become: yes
  vars:
    m: 0755
  tasks:
    - name: octal number
      copy: { dest: ${D}/octal.txt, content: "octal\\n", mode: 0644 }
    - name: symbolic
      copy: { dest: ${D}/symbolic.txt, content: "symbolic\\n", mode: "u=rw,g=r,o=r" }
    - name: templated number
      copy: { dest: ${D}/templated.sh, content: "#!/bin/sh\\n", mode: "{{ m }}" }
    - name: directory, setgid cleared by a numeric mode
      file: { path: ${D}/shared, state: directory, mode: 0755 }
    - name: relative to what the file has
      file: { path: ${D}/relative.txt, state: file, mode: "a+rX" }
    - name: new directory, relative to the mode it is made with
      file: { path: ${D}/made, state: directory, mode: "g+w" }
    - name: touched, relative to the mode it is made with
      file: { path: ${D}/touched, state: touch, mode: "u+x" }
`;

describe('playbooks read as YAML 1.1, as Ansible reads them', () => {
  beforeAll(() => {
    // Starting modes that a wrong reading would leave or produce: 0644 read as 644 is 1204.
    onHost(
      HOST,
      [
        `rm -rf ${D} && mkdir -p ${D}/shared`,
        `printf 'old\\n' > ${D}/octal.txt && chmod 600 ${D}/octal.txt`,
        `printf 'symbolic\\n' > ${D}/symbolic.txt && chmod 600 ${D}/symbolic.txt`,
        `chmod 2775 ${D}/shared`,
        `touch ${D}/relative.txt && chmod 700 ${D}/relative.txt`,
      ].join(' && '),
    );
  });
  afterAll(() => onHost(HOST, `rm -rf ${D}`));

  it('reads become: yes as true', () => {
    const input = loadPlaybook(playbookFile(PLAY), labInventory(), {
      check: false,
      diff: false,
      tags: [],
      forks: 5,
      cluster: 'lab',
    });
    expect(input.plays[0].tasks.map((t) => t.become)).toEqual(Array(7).fill(true));
  });

  it('sets mode 0644, a symbolic mode and a templated 0755 as Ansible does; check mode and --diff tell the same change', async () => {
    const file = playbookFile(PLAY);
    const before = ['octal.txt', 'symbolic.txt', 'shared', 'relative.txt'].map((f) => modeOf(`${D}/${f}`));
    expect(before).toEqual(['600', '600', '2775', '700']);
    await withWorker(settings, async (client) => {
      const checked = await run(client, file, { check: true });
      expect(checked.recap[HOST]).toMatchObject({ failed: 0, changed: 7 });
      expect(['octal.txt', 'symbolic.txt', 'shared', 'relative.txt'].map((f) => modeOf(`${D}/${f}`))).toEqual(
        before,
      );

      const applied = await run(client, file);
      expect(applied.recap[HOST]).toMatchObject({ failed: 0, unreachable: 0, changed: 7 });
      expect(modeOf(`${D}/octal.txt`)).toBe('644');
      expect(modeOf(`${D}/symbolic.txt`)).toBe('644');
      expect(modeOf(`${D}/templated.sh`)).toBe('755');
      expect(modeOf(`${D}/shared`)).toBe('755');
      expect(modeOf(`${D}/relative.txt`)).toBe('755');
      // Made with the host's umask (022): 755 and 644, then the relative mode.
      expect(modeOf(`${D}/made`)).toBe('775');
      expect(modeOf(`${D}/touched`)).toBe('744');

      // What check mode said would change is what the run changed, message and diff alike.
      const told = (r: PlayResult) =>
        r.tasks.map((t) => {
          const res = t.hosts[0].result!;
          return { msg: res.msg.replace(/^would /, '').replace(/^update /, 'updated '), diff: res.diff };
        });
      expect(told(checked)).toEqual(told(applied));
      const modeDiff = applied.tasks.find((t) => t.task.startsWith('directory'))!.hosts[0].result!.diff;
      expect(modeDiff).toMatchObject({ before: 'directory\nmode: 02775', after: 'directory\nmode: 0755' });

      // Only touch changes again (it always does, as in Ansible); every mode stays.
      const again = await run(client, file);
      expect(again.recap[HOST]).toMatchObject({ changed: 1, failed: 0 });
      expect(again.tasks.filter((t) => t.hosts[0].result?.changed).map((t) => t.task)).toEqual([
        'touched, relative to the mode it is made with',
      ]);
      expect(modeOf(`${D}/touched`)).toBe('744');
    });
  });

  it('refuses a number that is no file mode before anything runs, naming the task and field', () => {
    const file = playbookFile(`
- hosts: ${HOST}
  tasks:
    - name: bad mode
      file: { path: ${D}/never, state: touch, mode: 1234567 }
`);
    expect(() =>
      loadPlaybook(file, labInventory(), { check: false, diff: false, tags: [], forks: 5, cluster: 'lab' }),
    ).toThrow(/task 1 \("bad mode"\) on node4: file\.mode: mode 1234567 is not a valid file mode/);
    expect(onHost(HOST, `test -e ${D}/never && echo yes || echo no`)).toBe('no');
  });
});
