import path from 'node:path';
import type { PlayResult } from '../../common/play';
import { loadPlaybook } from '../../client/play';
import { labInventory, onHost, testSettings, withWorker } from './helpers';

// A play in the shape Galaxy roles are written for (test/fixtures/roles-play): pre_tasks, a role
// with a dependency, defaults, vars, a template, files, an imported task file with a loop,
// handlers flushed after each section; through Temporal on two lab hosts, then again unchanged.

const settings = testSettings();
const HOSTS = ['node1', 'node2'];
const ROOT = '/tmp/cf-roles-test';
const site = path.join(__dirname, '../fixtures/roles-play/site.yml');

async function run(client: import('@temporalio/client').Client, n: number): Promise<PlayResult> {
  const input = loadPlaybook(site, labInventory(), {
    check: false,
    diff: false,
    tags: [],
    forks: 10,
    cluster: 'lab',
    limit: HOSTS,
  });
  const handle = await client.workflow.start('play', {
    taskQueue: settings.taskQueue,
    workflowId: `test-roles/${Date.now()}-${n}`,
    args: [input],
  });
  return handle.result();
}

describe('roles on lab hosts', () => {
  beforeAll(() => HOSTS.forEach((h) => onHost(h, `rm -rf ${ROOT}`)));
  afterAll(() => HOSTS.forEach((h) => onHost(h, `rm -rf ${ROOT}`)));

  it('converge the role and its dependency, run each section’s handlers after it, and change nothing the second time', async () => {
    const [first, second] = await withWorker(settings, async (client) => [
      await run(client, 1),
      await run(client, 2),
    ]);
    for (const h of HOSTS) {
      expect(first.recap[h]).toMatchObject({ failed: 0, unreachable: 0 });
      expect(onHost(h, `cat ${ROOT}/motd`)).toBe('owner clusterflow\na\nb');
      expect(onHost(h, `cat ${ROOT}/base.txt`)).toBe("from cf_base's files/");
      expect(onHost(h, `cat ${ROOT}/line-a ${ROOT}/line-b ${ROOT}/play.txt`)).toBe('a\nb\nplay');
      expect(onHost(h, `stat -c %a ${ROOT}/base.txt`)).toBe('644');
      // The pre_tasks' handler ran before the role; the role's handler after the tasks.
      expect(onHost(h, `cat ${ROOT}/handled`)).toBe('pre\nmotd');
    }
    const handlers = first.tasks.filter((t) => t.handler).map((t) => t.task);
    expect(handlers).toEqual(['pre handler', 'motd changed']);
    for (const h of HOSTS) expect(second.recap[h]).toMatchObject({ changed: 0, failed: 0 });
    expect(second.tasks.some((t) => t.handler)).toBe(false);
  });
});
