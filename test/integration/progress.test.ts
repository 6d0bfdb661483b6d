import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labFiles } from '../../lab/hosts';
import type { OperationProgress } from '../../common/progress';
import { testSettings, withWorker } from './helpers';
import { rollingInput, startRolling, waitForProgress } from './rolling-suite';

// One progress model: what the `progress` query answers is what `status --json` prints and what
// `watch` follows, and the result ends with the same entries, finished.

const settings = testSettings();
const NODES = ['node1', 'node2'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-progress-'));
const cluster = `progress-${Date.now().toString(36)}`;
const file = path.join(dir, 'spec.yml');
writeFileSync(
  file,
  `cluster: ${cluster}
inventory: ${labFiles.inventory}
nodes:
  hosts: [${NODES.join(', ')}]
  service: ssh
  port: 22
  health: { tcp: {}, successes: 1, intervalSeconds: 0.2, timeoutSeconds: 5 }
  maintenance:
    serial: 1
    approve: first
    approvalTimeoutSeconds: 120
`,
);

function clusterflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['bin/clusterflow.js', ...args, '--task-queue', settings.taskQueue],
      { env: { ...process.env, TEMPORAL_ADDRESS: settings.address }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

describe('one progress model', () => {
  it('answers the query, status --json and watch in the same shape, and the result carries the entries finished', async () => {
    await withWorker(settings, async (client) => {
      const handle = await startRolling(client, settings, rollingInput(file));
      await waitForProgress(handle, (p) => Boolean(p.waitingFor), 'waiting for approval');

      const queried = await handle.query<OperationProgress>('progress');
      expect(queried).toMatchObject({ operation: 'rolling-maintenance', cluster, done: 0, total: 2 });
      expect(queried.entries.map((e) => [e.name, e.phase, e.outcome])).toEqual([
        ['node1', 'waiting', undefined],
        ['node2', 'waiting', undefined],
      ]);

      const status = await clusterflow('status', handle.workflowId, '--json');
      expect(status.code).toBe(0);
      const shown = JSON.parse(status.stdout) as { status: string; progress: OperationProgress };
      expect(shown.status).toBe('RUNNING');
      expect(shown.progress).toMatchObject({ operation: 'rolling-maintenance', cluster, total: 2, done: 0 });
      expect(shown.progress.entries.map((e) => e.name)).toEqual(NODES);

      const text = await clusterflow('status', handle.workflowId);
      expect(text.stdout).toMatch(/progress: 0\/2 /);
      expect(text.stdout).toMatch(/node1: waiting/);

      await handle.signal('approve');
      const watched = await clusterflow('watch', handle.workflowId, '--json');
      expect(watched.code).toBe(0);
      const { result } = JSON.parse(watched.stdout) as {
        result: {
          operation: string;
          cluster: string;
          changed: boolean;
          entries: OperationProgress['entries'];
        };
      };
      expect(result).toMatchObject({ operation: 'rolling-maintenance', cluster });
      expect(result.entries.map((e) => [e.name, e.outcome])).toEqual([
        ['node1', 'done'],
        ['node2', 'done'],
      ]);
      expect(result.entries.every((e) => e.timings.totalMs > 0)).toBe(true);
    });
  });
});
