import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadPlaybook } from '../../client/play';
import type { PlayResult } from '../../common/play';
import { ensureAnsible } from '../../lab/ansible';
import { labFiles } from '../../lab/hosts';
import { labInventory, onHost, testSettings, withWorker } from './helpers';

// ansible-core is the specification: the same playbook runs with ansible-playbook on one lab host
// and with clusterflow on its twin, twice each; the hosts must end alike (every file's type,
// mode, owner and content) and every task must report the same status, `changed` and message.

const settings = testSettings();
const CORPUS = path.join(__dirname, '../fixtures/differential');
const TWINS = { ansible: 'node3', clusterflow: 'node4' } as const;
const root = `/tmp/cf-diff-${Date.now().toString(36)}`;

interface Outcome {
  task: string;
  status: string;
  changed: boolean;
  /** What a debug task showed: `{ msg }`, or `{ <var>: value }`. */
  shown?: unknown;
}

function withAnsible(playbook: string): Outcome[] {
  const bin = ensureAnsible();
  const r = spawnSync(
    bin,
    ['-i', labFiles.inventory, '-l', TWINS.ansible, '-e', `root=${root}`, path.join(CORPUS, playbook)],
    {
      encoding: 'utf8',
      cwd: CORPUS,
      env: { ...process.env, ANSIBLE_CONFIG: path.join(CORPUS, 'ansible.cfg') },
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"tasks"'));
  if (!line)
    throw new Error(
      `ansible-playbook gave no record (exit ${r.status}): ${r.stderr.slice(-3000)}${r.stdout.slice(-3000)}`,
    );
  return (JSON.parse(line) as { tasks: Outcome[] }).tasks;
}

async function withClusterflow(playbook: string, n: number): Promise<Outcome[]> {
  const input = loadPlaybook(path.join(CORPUS, playbook), labInventory(), {
    check: false,
    diff: false,
    tags: [],
    forks: 5,
    cluster: 'lab',
    limit: [TWINS.clusterflow],
    extraVars: { root },
  });
  const result: PlayResult = await withWorker(settings, async (client) =>
    (
      await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-differential/${Date.now()}-${n}`,
        args: [input],
      })
    ).result(),
  );
  return result.tasks.map((t) => {
    const h = t.hosts[0];
    // debug shows `msg`, or the variable under its own name, as ansible-core's result does.
    const shown = t.task.startsWith('what') ? h.result?.data : undefined;
    return { task: t.task, status: h.status, changed: h.status === 'changed', shown };
  });
}

/** The host's state under the root: every path's type, mode and owner, and every file's checksum. */
const stateOf = (host: string) =>
  onHost(
    host,
    `cd ${root} && find . -printf '%P %y %m %u:%g\\n' | sort && find . -type f | sort | xargs sha1sum`,
  );

describe('clusterflow against ansible-core on twin hosts', () => {
  beforeAll(() => Object.values(TWINS).forEach((h) => onHost(h, `rm -rf ${root}`)));
  afterAll(
    () => process.env.CF_KEEP_DIFF || Object.values(TWINS).forEach((h) => onHost(h, `rm -rf ${root}`)),
  );

  it.each(['control.yml', 'galaxy.yml', 'lang.yml'])(
    '%s ends with the same files and reports every task alike, first run and second',
    async (playbook) => {
      const runs = [];
      for (const n of [1, 2]) {
        const reference = withAnsible(playbook);
        const ours = await withClusterflow(playbook, n);
        runs.push({ reference, ours });
        expect(stateOf(TWINS.clusterflow)).toBe(stateOf(TWINS.ansible));
      }
      let compared = 0;
      for (const { reference, ours } of runs) {
        // ansible-core reports a loop's items one by one; clusterflow the task as a whole.
        const byTask = new Map<string, Outcome[]>();
        // ansible-core names a role's task `role : task`; clusterflow keeps the role apart.
        for (const r of reference.map((x) => ({ ...x, task: x.task.replace(/^[\w.]+ : /, '') })))
          byTask.set(r.task, [...(byTask.get(r.task) ?? []), r]);
        expect(ours.map((o) => o.task)).toEqual([...byTask.keys()]);
        for (const o of ours) {
          const refs = byTask.get(o.task)!;
          const changed = refs.some((r) => r.changed);
          const status = refs.some((r) => r.status === 'failed')
            ? 'failed'
            : changed
              ? 'changed'
              : refs.every((r) => r.status === 'skipped')
                ? 'skipped'
                : 'ok';
          expect(`${o.task}: ${o.status}`).toBe(`${o.task}: ${status}`);
          if (o.shown !== undefined)
            expect(`${o.task}: ${JSON.stringify(o.shown)}`).toBe(
              `${o.task}: ${JSON.stringify(refs[0].shown)}`,
            );
          compared++;
        }
      }
      console.log(
        `differential ${playbook}: ${compared} task results compared, all identical; files identical after each run`,
      );
    },
  );
});
