import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { labFiles } from '../../lab/hosts';
import { testSettings, withWorker } from './helpers';
import { rollingInput, startRolling, waitForProgress } from './rolling-suite';

// The operator's controls of a rolling maintenance — approval, pause/resume, skip, abort, the
// maintenance window, one operation per cluster — through the dev server on lab hosts without a
// load balancer (a cluster may have none; the node's SSH port is its health check here).

const settings = testSettings();
const NODES = ['node1', 'node2', 'node3'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-control-'));

function spec(name: string, maintenance = ''): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `cluster: ctl-${name}-${Date.now().toString(36)}
inventory: ${labFiles.inventory}
nodes:
  hosts: [${NODES.join(', ')}]
  service: ssh
  port: 22
  health: { tcp: {}, successes: 1, intervalSeconds: 0.2, timeoutSeconds: 5 }
  maintenance:
    serial: 1
${maintenance}`,
  );
  return file;
}

const action = path.join(dir, 'work.yml');
writeFileSync(action, '- hosts: all\n  tasks:\n    - name: some work\n      command: { cmd: sleep 1 }\n');

const outcomes = (r: { nodes: { node: string; outcome?: string }[] }) =>
  r.nodes.map((n) => `${n.node}:${n.outcome}`);

describe('rolling maintenance controls', () => {
  it('waits for approval before the first batch, then runs every node', async () => {
    const input = rollingInput(spec('approve', '    approve: first\n    approvalTimeoutSeconds: 60\n'));
    const result = await withWorker(settings, async (client) => {
      const handle = await startRolling(client, settings, input);
      const p = await waitForProgress(handle, (x) => Boolean(x.waitingFor), 'waiting for approval');
      expect(p.waitingFor).toMatch(/approval of batch 1\/3/);
      expect(p.nodes.every((n) => n.phase === 'waiting')).toBe(true);
      await handle.signal('approve');
      return handle.result();
    });
    expect(outcomes(result)).toEqual(['node1:done', 'node2:done', 'node3:done']);
  });

  it('stops without touching a node when no approval comes in time (policy abort)', async () => {
    const input = rollingInput(spec('noapprove', '    approve: each\n    approvalTimeoutSeconds: 1\n'));
    const result = await withWorker(settings, async (client) =>
      (await startRolling(client, settings, input)).result(),
    );
    expect(result.aborted).toBe('no approval for batch 1 within 1 s');
    expect(outcomes(result)).toEqual(['node1:not-run', 'node2:not-run', 'node3:not-run']);
  });

  it('pauses between nodes until resumed, and skips a node the operator names', async () => {
    const input = rollingInput(spec('pause'), action);
    const result = await withWorker(settings, async (client) => {
      const handle = await startRolling(client, settings, input);
      await waitForProgress(handle, (p) => p.nodes[0].phase === 'maintenance', 'node1 at work');
      await handle.signal('pause');
      await handle.signal('skip', 'node2');
      await waitForProgress(
        handle,
        (p) => p.nodes[0].outcome === 'done' && p.waitingFor === 'resume',
        'paused after node1',
      );
      await new Promise((r) => setTimeout(r, 1500));
      const held = await waitForProgress(handle, () => true, 'progress');
      expect(held.nodes.map((n) => n.phase)).toEqual(['finished', 'waiting', 'waiting']);
      await handle.signal('resume');
      return handle.result();
    });
    expect(outcomes(result)).toEqual(['node1:done', 'node2:skipped', 'node3:done']);
  });

  it('waits durably for a closed maintenance window and can be aborted while waiting', async () => {
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const now = Date.now();
    const closed = `    window: { timezone: UTC, start: '${hhmm(new Date(now + 2 * 3600_000))}', end: '${hhmm(new Date(now + 3 * 3600_000))}' }\n`;
    const input = rollingInput(spec('window', closed));
    const result = await withWorker(settings, async (client) => {
      const handle = await startRolling(client, settings, input);
      const p = await waitForProgress(handle, (x) => Boolean(x.waitingFor), 'waiting for the window');
      expect(p.waitingFor).toMatch(/maintenance window .* UTC\), opens in 1[12]\d min/);
      const attrs = (await handle.describe()).searchAttributes;
      expect(String(attrs.Phase)).toMatch(/waiting for the maintenance window/);
      await handle.signal('abort', 'not tonight');
      return handle.result();
    });
    expect(result.aborted).toBe('aborted by operator');
    expect(outcomes(result)).toEqual(['node1:not-run', 'node2:not-run', 'node3:not-run']);

    const open = `    window: { timezone: UTC, start: '${hhmm(new Date(now - 3600_000))}', end: '${hhmm(new Date(now + 3600_000))}' }\n`;
    const inside = await withWorker(settings, async (client) =>
      (await startRolling(client, settings, rollingInput(spec('open', open)))).result(),
    );
    expect(outcomes(inside)).toEqual(['node1:done', 'node2:done', 'node3:done']);
  });

  it('refuses a second operation on the same cluster while one runs', async () => {
    const input = rollingInput(spec('busy', '    approve: first\n'));
    await withWorker(settings, async (client) => {
      const first = await startRolling(client, settings, input);
      await waitForProgress(first, (x) => Boolean(x.waitingFor), 'first holds the lock');
      const second = await startRolling(client, settings, input);
      await expect(second.result()).rejects.toThrow(WorkflowFailedError);
      const failure = await second.result().catch((e: WorkflowFailedError) => e.cause?.message);
      expect(failure).toMatch(new RegExp(`cluster ${input.cluster} is busy`));
      await first.signal('abort');
      await first.result();
    });
  });
});
