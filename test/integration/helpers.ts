import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { temporalSettings, type TemporalSettings } from '../../client/connection';
import { loadInventory } from '../../client/inventory';
import { labFiles, sshArgs } from '../../lab/hosts';
import { SshPool } from '../../activities/ssh/pool';
import { createWorker } from '../../worker';

// Workers log warnings and errors only, so a test's own output stays readable.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by an earlier import in this process
}

/** Each test file polls its own task queue, so a demo worker running beside the tests never takes its tasks. */
export function testSettings(): TemporalSettings {
  return temporalSettings({ taskQueue: `test-${randomUUID()}` });
}

/** Runs a command on a lab host as root (the test's own view, not through clusterflow). */
export function onHost(host: string, command: string): string {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`);
  return r.stdout.trim();
}

export function labInventory() {
  return loadInventory(labFiles.inventory);
}

/** Runs `fn` while a real worker (real activities, real SSH) serves `settings.taskQueue`. */
export async function withWorker<T>(
  settings: TemporalSettings,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const nativeConnection = await NativeConnection.connect({ address: settings.address });
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const pool = new SshPool();
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      deps: { pool, temporal: client },
      // Bundled once per run by global setup (test/global-setup.ts).
      ...(process.env.CLUSTERFLOW_TEST_BUNDLE
        ? { workflowBundle: { codePath: process.env.CLUSTERFLOW_TEST_BUNDLE } }
        : {}),
    });
    return await worker.runUntil(fn(client));
  } finally {
    await pool.close();
    await connection.close();
    await nativeConnection.close();
  }
}

/**
 * A worker in its own process (test/fixtures/paused-worker.ts) that holds the activity named
 * `pauseBefore` before running it, so a test can SIGKILL the process at that step.
 */
export async function startPausedWorker(
  settings: TemporalSettings,
  pauseBefore: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'test/fixtures/paused-worker.ts'], {
    env: {
      ...process.env,
      CF_TASK_QUEUE: settings.taskQueue,
      TEMPORAL_ADDRESS: settings.address,
      CF_PAUSE_BEFORE: pauseBefore,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    child.stdout?.on('data', (d) => String(d).includes('ready') && resolve()),
  );
  return child;
}

/** Every string and payload (bytes decoded as UTF-8) of a workflow's history, to search it. */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(history);
  return out.join('\n');
}
