import { down, up } from '../../lab/hosts';
import { testSettings, withWorker } from './helpers';
import { runPlaybook } from './play-helpers';

const settings = testSettings();
const HOSTS = Array.from({ length: 50 }, (_, i) => `scale${i + 1}`);

describe('a play over 50 lab hosts', () => {
  beforeAll(async () => {
    await up(HOSTS);
  }, 300_000);
  afterAll(async () => {
    await down(HOSTS);
  }, 300_000);

  it('converges all 50 in serial batches of child workflows, each history small', async () => {
    const plays = [
      {
        hosts: 'scale',
        serial: 10,
        tasks: [
          { copy: { dest: '/etc/cf-scale.conf', content: 'node={{ inventory_hostname }}\n' } },
          { lineinfile: { path: '/etc/cf-scale.lines', line: 'cluster=lab', create: true } },
        ],
      },
    ];
    await withWorker(settings, async (client) => {
      const first = await runPlaybook(client, settings, plays);
      expect(Object.keys(first.recap)).toHaveLength(50);
      for (const h of HOSTS) expect(first.recap[h]).toMatchObject({ changed: 2, failed: 0, unreachable: 0 });

      const second = await runPlaybook(client, settings, plays);
      for (const h of HOSTS) expect(second.recap[h]).toMatchObject({ ok: 2, changed: 0, failed: 0 });

      // One child per batch of 10: the parent's history grows per batch, a child's per host and task.
      const listed = client.workflow.list({
        query: `WorkflowType = 'playBatch' AND StartTime > '${new Date(Date.now() - 600_000).toISOString()}'`,
      });
      const sizes: number[] = [];
      for await (const wf of listed) {
        if (wf.taskQueue !== settings.taskQueue) continue;
        sizes.push(
          (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events?.length ?? 0,
        );
      }
      expect(sizes.length).toBe(10);
      expect(Math.max(...sizes)).toBeLessThan(200);
    });
  });
});
