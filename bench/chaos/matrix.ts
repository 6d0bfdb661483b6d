import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporalSettings, type TemporalSettings } from '../../client/connection';
import type { DevServerConfig } from '../../lab/devserver';
import { lbReloadDuringDrain, netcut, serverOutage, type Fault } from './faults';
import { activationCounts, clusterChecks, type Check } from './invariants';
import { APPS, type ChaosLab } from './lab';
import type { ChaosOperation, OperationContext } from './operations';
import { startHookedWorker, startProductWorker } from './workers';

// One chaos run: the operation brought to its start, started under the fault, finished by a
// product worker, then every invariant checked from the hosts. A clean run first records the
// activity boundaries a kill can be placed at.

export type Point = `${'start' | 'complete'}:${number}`;

export interface RunRow {
  operation: string;
  fault: Fault | 'none';
  /** kill: the boundary (start:K / complete:K); otherwise what the fault did. */
  point: string;
  held: boolean;
  seconds: number;
  outcome: string;
  checks: Check[];
  /** Where a kill point was not reached (run-to-run differences such as drain polls). */
  note?: string;
}

const RUN_TIMEOUT_MS = 6 * 60_000;
/**
 * When a timed fault strikes, as a fraction of the clean run's time: early, since a warm
 * in-process worker finishes a short operation (a switchover) in half the clean run's time.
 */
const FAULT_AT = 0.2;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not finished in ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const message = (err: unknown): string => {
  const parts: string[] = [];
  for (let e = err as (Error & { cause?: unknown }) | undefined; e; e = e.cause as typeof e)
    parts.push(e.message);
  return parts.join(' <- ');
};

export class Matrix {
  private constructor(
    private readonly lab: ChaosLab,
    private readonly bundle: string,
    private readonly client: Client,
    private readonly address: string,
    /** A dev server of the matrix's own: only then can the server fault run. */
    private readonly server?: DevServerConfig,
  ) {}

  static async open(lab: ChaosLab, bundle: string, server?: DevServerConfig): Promise<Matrix> {
    const settings = temporalSettings(server ? { address: `${server.ip}:${server.port}` } : {});
    const connection = await Connection.connect({ address: settings.address });
    return new Matrix(
      lab,
      bundle,
      new Client({ connection, namespace: settings.namespace }),
      settings.address,
      server,
    );
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }

  /** Each run gets a task queue of its own, so no poller of an earlier run takes its tasks. */
  private context(): OperationContext {
    const settings: TemporalSettings = temporalSettings({
      address: this.address,
      taskQueue: `chaos-${randomUUID()}`,
    });
    return {
      lab: this.lab,
      client: this.client,
      settings,
      // a preparation that needs an operation of its own runs it on a product worker, to the end
      settle: async (start) => {
        const worker = await startProductWorker(settings, this.bundle, this.client);
        try {
          return await withTimeout((await start()).result(), RUN_TIMEOUT_MS, 'preparation');
        } finally {
          await worker.stop();
        }
      },
    };
  }

  /** The clean run: its row, the ordered boundaries, and its time (the netcut fault's timing). */
  async record(op: ChaosOperation): Promise<{ row: RunRow; points: Point[] }> {
    const file = path.join(this.lab.dir, `record-${op.name}.jsonl`);
    rmSync(file, { force: true });
    const row = await this.run(op, 'none', 'clean', { CF_CHAOS_RECORD: file });
    // a run that failed before its first activity recorded nothing
    const points = (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: 'start' | 'complete'; n: number })
      .map((e) => `${e.event}:${e.n}` as Point);
    return { row, points };
  }

  kill(op: ChaosOperation, point: Point): Promise<RunRow> {
    return this.run(op, 'kill', point, { CF_CHAOS_KILL: point });
  }

  fault(op: ChaosOperation, fault: Exclude<Fault, 'kill'>, cleanSeconds: number): Promise<RunRow> {
    return this.run(op, fault, '', {}, cleanSeconds);
  }

  private async run(
    op: ChaosOperation,
    fault: Fault | 'none',
    point: string,
    hookEnv: Record<string, string>,
    cleanSeconds = 0,
  ): Promise<RunRow> {
    const ctx = this.context();
    const prep = await op.prepare(ctx);
    const activationsBefore = await activationCounts(this.lab);
    const started = Date.now();
    let outcome = 'completed';
    let result: unknown;
    let note: string | undefined;
    let failed = false;
    const hooked =
      fault === 'kill' || fault === 'none'
        ? await startHookedWorker(ctx.settings, this.bundle, hookEnv)
        : undefined;
    let product: Awaited<ReturnType<typeof startProductWorker>> | undefined;
    try {
      if (!hooked) product = await startProductWorker(ctx.settings, this.bundle, this.client);
      const handle: WorkflowHandle = await op.start(ctx, prep);
      const finished = handle.result().then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      if (fault === 'kill' && hooked) {
        const first = await withTimeout(
          Promise.race([hooked.exited.then((s) => ({ killed: s })), finished]),
          RUN_TIMEOUT_MS,
          op.name,
        );
        if (!('killed' in first)) note = 'point not reached: the run finished without the kill';
      } else if (fault === 'netcut')
        point = await netcut(handle, op.netcutTarget(prep), cleanSeconds * 1000 * FAULT_AT);
      else if (fault === 'lbreload') point = await lbReloadDuringDrain(handle);
      else if (fault === 'server') {
        if (!this.server)
          throw new Error('the server fault needs a dev server of its own (CF_CHAOS_OWN_SERVER)');
        point = await serverOutage(handle, this.server, cleanSeconds * 1000 * FAULT_AT);
      }
      // the clean run is the hooked worker's alone (its recording must hold every boundary);
      // after a fault, a product worker finishes the run
      if (fault === 'none') await withTimeout(finished, RUN_TIMEOUT_MS, op.name);
      if (!product) product = await startProductWorker(ctx.settings, this.bundle, this.client);
      const end = await withTimeout(finished, RUN_TIMEOUT_MS, op.name);
      if (end.ok) {
        result = end.r;
        const summary = op.summary?.(result);
        if (summary) outcome = `completed: ${summary}`;
      } else {
        failed = true;
        outcome = `failed: ${message(end.e)}`;
      }
    } catch (err) {
      failed = true;
      outcome = `error: ${message(err)}`;
    } finally {
      await hooked?.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    const checks: Check[] = [];
    try {
      if (!failed) {
        const mismatch = await op.resultMatches(result, ctx, prep);
        checks.push({
          invariant: "the operation's result matches the hosts",
          held: mismatch.length === 0,
          detail: mismatch.join('; ') || 'matches',
        });
      } else if (fault === 'kill' || fault === 'none')
        // after a worker kill the run must still finish
        checks.push({ invariant: 'the operation finished', held: false, detail: outcome });
      checks.push(
        ...(await clusterChecks(this.lab, {
          activationsBefore,
          nodes: op.nodes?.(prep) ?? APPS,
          leftOut: result && op.leftOut ? op.leftOut(result) : {},
          fenced: op.fenced?.(prep) ?? [],
        })),
      );
      if ('notApplicable' in op.rerun)
        checks.push({
          invariant: 're-run = 0 changes',
          held: true,
          detail: `n/a: ${op.rerun.notApplicable}`,
        });
      else {
        const again = await withTimeout(op.rerun(ctx, prep), RUN_TIMEOUT_MS, `${op.name} re-run`);
        const { changes, detail } = Array.isArray(again) ? { changes: again, detail: '' } : again;
        checks.push({
          invariant: 're-run = 0 changes',
          held: changes.length === 0,
          detail: changes.join('; ') || detail || '0 changes',
        });
      }
    } catch (err) {
      checks.push({ invariant: 'invariants could be checked', held: false, detail: message(err) });
    } finally {
      await product?.stop();
    }
    await op.restore?.(ctx);
    return {
      operation: op.name,
      fault,
      point,
      held: checks.every((c) => c.held),
      seconds: Math.round(seconds * 10) / 10,
      outcome,
      checks,
      ...(note ? { note } : {}),
    };
  }
}

/**
 * `n` points spread evenly over the recorded activities, taking starts and completions in turn
 * (all of them for 'all').
 */
export function samplePoints(points: readonly Point[], n: number | 'all'): Point[] {
  if (n === 'all' || n >= points.length) return [...points];
  const starts = points.filter((p) => p.startsWith('start'));
  const completes = points.filter((p) => p.startsWith('complete'));
  return Array.from({ length: n }, (_, i) => {
    const from = i % 2 === 0 || completes.length === 0 ? starts : completes;
    return from[Math.floor(((i + 0.5) * from.length) / n)];
  });
}
