import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { FailureTypes, nonRetryableFailureTypes } from '../common/errors';
import {
  addToRecap,
  overFailureBudget,
  serialBatches,
  statusOf,
  taskSelected,
  type BatchResult,
  type HostRecap,
  type HostTaskResult,
  type PlayHost,
  type PlayInput,
  type PlayResult,
  type PlaySpec,
  type PlayTask,
} from '../common/play';
import { Phase } from '../common/search-attributes';

const { runTask } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 seconds',
  retry: {
    maximumAttempts: 3,
    initialInterval: '1 second',
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

export interface PlayProgress {
  play: string;
  batch: number;
  batches: number;
  task?: string;
}

export const playProgressQuery = defineQuery<PlayProgress | undefined>('progress');

export interface PlayBatchInput {
  play: Omit<PlaySpec, 'hosts'>;
  hosts: PlayHost[];
  check: boolean;
  diff: boolean;
  tags: string[];
}

/**
 * Runs an Ansible-style play: batch after batch (`serial`), each batch a child workflow so that a
 * play over many hosts keeps every history small; a failure budget stops the remaining batches.
 */
export async function play(input: PlayInput): Promise<PlayResult> {
  const result: PlayResult = { cluster: input.cluster, tasks: [], recap: {} };
  let progress: PlayProgress | undefined;
  setHandler(playProgressQuery, () => progress);
  for (const [p, spec] of input.plays.entries()) {
    const batches = serialBatches(spec.hosts, spec.serial);
    const play = { ...spec, hosts: undefined };
    for (const [b, hosts] of batches.entries()) {
      progress = { play: spec.name, batch: b + 1, batches: batches.length };
      upsertSearchAttributes([
        { key: Phase, value: `play ${p + 1}/${input.plays.length} batch ${b + 1}/${batches.length}` },
      ]);
      const batch = await executeChild(playBatch, {
        workflowId: `${workflowInfo().workflowId}/play-${p + 1}/batch-${b + 1}`,
        args: [{ play, hosts, check: input.check, diff: input.diff, tags: input.tags }],
      });
      result.tasks.push(...batch.tasks);
      for (const [host, recap] of Object.entries(batch.recap)) mergeRecap(result.recap, host, recap);
      const failed = hosts.filter(
        (h) => batch.recap[h.target.name]?.failed || batch.recap[h.target.name]?.unreachable,
      ).length;
      if (overFailureBudget(failed, hosts.length, spec.maxFailPercentage) && b < batches.length - 1) {
        result.aborted = `play "${spec.name}": ${failed} of ${hosts.length} hosts failed in batch ${b + 1}, over the failure budget (max_fail_percentage ${spec.maxFailPercentage ?? 'unset: all hosts'}); ${batches.length - b - 1} batch(es) not run`;
        break;
      }
    }
    if (result.aborted) break;
  }
  upsertSearchAttributes([{ key: Phase, value: result.aborted ? 'aborted' : 'done' }]);
  return result;
}

function mergeRecap(into: Record<string, HostRecap>, host: string, add: HostRecap): void {
  const r = (into[host] ??= { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 });
  for (const k of Object.keys(add) as (keyof HostRecap)[]) r[k] += add[k];
}

/** One batch: every task on every live host (at most `forks` at once), then the notified handlers. */
export async function playBatch(input: PlayBatchInput): Promise<BatchResult> {
  const { play, check, diff } = input;
  const out: BatchResult = { tasks: [], recap: {} };
  let live = input.hosts;
  for (const h of live)
    out.recap[h.target.name] = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 };
  const notified = new Map<string, Set<string>>();

  const runOnHosts = async (task: PlayTask, hosts: PlayHost[], handler: boolean) => {
    const results = await mapWithLimit(hosts, play.forks, (h) => runOne(task, h, check, diff));
    out.tasks.push({ play: play.name, task: task.name, handler, hosts: results });
    for (const r of results) {
      addToRecap(out.recap, r.host, r.status);
      if (r.status === 'changed')
        for (const n of task.notify)
          (notified.get(r.host) ?? notified.set(r.host, new Set()).get(r.host)!).add(n);
    }
    const dropped = new Set(
      results
        .filter((r) => r.status === 'unreachable' || (r.status === 'failed' && !task.ignoreErrors))
        .map((r) => r.host),
    );
    live = live.filter((h) => !dropped.has(h.target.name));
  };

  for (const task of play.tasks.filter((t) => taskSelected(t, input.tags))) {
    if (live.length === 0) break;
    await runOnHosts(task, live, false);
  }
  // Handlers run once per host at the end of its batch, in the order they are defined.
  for (const handler of play.handlers) {
    const hosts = live.filter((h) => notified.get(h.target.name)?.has(handler.name));
    if (hosts.length) await runOnHosts(handler, hosts, true);
  }
  return out;
}

async function runOne(
  task: PlayTask,
  host: PlayHost,
  check: boolean,
  diff: boolean,
): Promise<HostTaskResult> {
  const name = host.target.name;
  try {
    const result = await runTask({
      host: host.target,
      module: task.module,
      args: task.args,
      vars: host.vars,
      check,
      diff,
      become: task.become,
    });
    return { host: name, status: task.ignoreErrors && result.failed ? 'ok' : statusOf(result), result };
  } catch (err) {
    // A cancelled play stops here; the activity has already killed the remote command.
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return { host: name, status: type === FailureTypes.HostUnreachable ? 'unreachable' : 'failed', reason };
  }
}
