import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { SshPool } from '../../activities/ssh/pool';
import type { TemporalSettings } from '../../client/connection';
import { createWorker } from '../../worker';

// The two kinds of worker a chaos run uses: the hooked one in a process of its own
// (test/fixtures/chaos-worker.ts), which dies at the chosen boundary, and the product's own worker
// (createWorker) that takes over and finishes the run. Both load one workflow bundle built once.

const ROOT = path.join(__dirname, '../..');

export async function buildBundle(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  const file = path.join(dir, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

export interface HookedWorker {
  child: ChildProcess;
  /** Resolves with the signal (SIGKILL: the hook fired) once the process is gone. */
  exited: Promise<NodeJS.Signals | null>;
  stop(): Promise<void>;
}

/** The hooked worker; `env` carries CF_CHAOS_KILL / CF_CHAOS_RECORD. */
export async function startHookedWorker(
  settings: TemporalSettings,
  bundle: string,
  env: Record<string, string>,
): Promise<HookedWorker> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'test/fixtures/chaos-worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      CF_TASK_QUEUE: settings.taskQueue,
      TEMPORAL_ADDRESS: settings.address,
      CF_WORKFLOW_BUNDLE: bundle,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
  await Promise.race([
    new Promise<void>((resolve) => child.stdout?.on('data', (d) => String(d).includes('ready') && resolve())),
    exited.then((s) => {
      throw new Error(`chaos worker exited before it was ready (${s})`);
    }),
  ]);
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The product's worker in this process, on the same task queue. */
export async function startProductWorker(settings: TemporalSettings, bundle: string, client: Client) {
  const native = await NativeConnection.connect({ address: settings.address });
  const pool = new SshPool();
  const worker = await createWorker({
    connection: native,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    deps: { pool, temporal: client },
    workflowBundle: { codePath: bundle },
  });
  const running = worker.run();
  return {
    async stop(): Promise<void> {
      worker.shutdown();
      await running.catch(() => undefined);
      await pool.close();
      await native.close();
    },
  };
}
