import { executeChild, isCancellation, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { hostOutcomeOf, nonRetryableFailureTypes } from '../common/errors';
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
import { ansibleFacts } from '../common/ansible-facts';
import { BlockTracker } from '../common/blocks';
import { registeredValue } from '../common/task-control';
import { ProgressBook } from './progress';

const { gatherFacts } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    maximumAttempts: 3,
    initialInterval: '1 second',
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

const { runTask } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 seconds',
  retry: {
    maximumAttempts: 3,
    initialInterval: '1 second',
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

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
  const names = [...new Set(input.plays.flatMap((p) => p.hosts.map((h) => h.target.name)))];
  const book = new ProgressBook('play', input.cluster, names);
  const result: PlayResult = { ...book.envelope(false), tasks: [], recap: {} };
  for (const [p, spec] of input.plays.entries()) {
    const batches = serialBatches(spec.hosts, spec.serial);
    const play = { ...spec, hosts: undefined };
    for (const [b, hosts] of batches.entries()) {
      for (const h of hosts)
        book.at(h.target.name, `${spec.name}: batch ${b + 1}/${batches.length}`).outcome = undefined;
      book.phase(`play ${p + 1}/${input.plays.length} batch ${b + 1}/${batches.length}`);
      const batch = await executeChild(playBatch, {
        workflowId: `${workflowInfo().workflowId}/play-${p + 1}/batch-${b + 1}`,
        args: [{ play, hosts, check: input.check, diff: input.diff, tags: input.tags }],
      });
      result.tasks.push(...batch.tasks);
      for (const [host, recap] of Object.entries(batch.recap)) mergeRecap(result.recap, host, recap);
      recordBatch(book, batch);
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
  result.changed = Object.values(result.recap).some((r) => r.changed > 0);
  book.phase(result.aborted ? 'aborted' : 'done');
  return result;
}

/** A finished batch in the progress: what changed on each host, and how the host stands. */
function recordBatch(book: ProgressBook, batch: BatchResult): void {
  for (const t of batch.tasks)
    for (const h of t.hosts) if (h.status === 'changed') book.changed(h.host, t.task);
  for (const [host, r] of Object.entries(batch.recap))
    book.finish(host, r.failed ? 'failed' : r.unreachable ? 'unreachable' : r.changed ? 'changed' : 'ok');
}

function mergeRecap(into: Record<string, HostRecap>, host: string, add: HostRecap): void {
  const r = (into[host] ??= { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 });
  for (const k of Object.keys(add) as (keyof HostRecap)[]) r[k] = (r[k] ?? 0) + (add[k] ?? 0);
}

/** One batch: every task on every live host (at most `forks` at once), then the notified handlers. */
export async function playBatch(input: PlayBatchInput): Promise<BatchResult> {
  const { play, check, diff } = input;
  const out: BatchResult = { tasks: [], recap: {} };
  let live = input.hosts;
  for (const h of live)
    out.recap[h.target.name] = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 };
  const notified = new Map<string, Set<string>>();
  // What each host's tasks registered and set (set_fact): seen by its later tasks, above play and
  // inventory vars as in Ansible. Rebuilt from the activities' results when history replays.
  const learned = new Map<string, Record<string, unknown>>();
  const blocks = new BlockTracker(play.tasks.map((t) => t.blocks));

  const runOnHosts = async (task: PlayTask, hosts: PlayHost[], handler: boolean) => {
    const results = await mapWithLimit(hosts, play.forks, (h) =>
      runOne(task, h, learned.get(h.target.name), check, diff),
    );
    out.tasks.push({ play: play.name, task: task.name, handler, hosts: results });
    for (const r of results) {
      learn(learned, task, r);
      addToRecap(out.recap, r.host, r.status);
      if (r.status === 'changed')
        for (const n of task.notify)
          (notified.get(r.host) ?? notified.set(r.host, new Set()).get(r.host)!).add(n);
    }
    // A failed host leaves the play, unless a block around the task takes it to its rescue.
    const dropped = new Set(
      results
        .filter(
          (r) =>
            r.status === 'unreachable' ||
            (r.status === 'failed' && !task.ignoreErrors && blocks.fail(r.host, task.blocks)),
        )
        .map((r) => r.host),
    );
    live = live.filter((h) => !dropped.has(h.target.name));
  };
  /** Blocks that ended: hosts no rescue recovered leave; recovered ones count as rescued, not failed. */
  const settle = (s: { failed: string[]; rescued: string[] }) => {
    for (const h of s.rescued) {
      const r = out.recap[h];
      r.failed--;
      r.rescued = (r.rescued ?? 0) + 1;
    }
    live = live.filter((h) => !s.failed.includes(h.target.name));
  };

  // Notified handlers run once per host, in the order they are defined: at the end of the batch,
  // and where the play flushes them (after pre_tasks, after tasks, at meta: flush_handlers).
  const flush = async () => {
    for (const handler of play.handlers) {
      const hosts = live.filter((h) => notified.get(h.target.name)?.has(handler.name));
      if (hosts.length) await runOnHosts(handler, hosts, true);
    }
    notified.clear();
  };
  if (play.gatherFacts) {
    // Ansible's "Gathering Facts": the facts of each host, as ansible_* variables for its tasks.
    const results = await mapWithLimit(live, play.forks, async (h): Promise<HostTaskResult> => {
      const name = h.target.name;
      try {
        learned.set(name, ansibleFacts(await gatherFacts(h.target)));
        return { host: name, status: 'ok' };
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { status, reason } = hostOutcomeOf(err);
        return { host: name, status, reason };
      }
    });
    out.tasks.push({ play: play.name, task: 'Gathering Facts', handler: false, hosts: results });
    for (const r of results) addToRecap(out.recap, r.host, r.status);
    live = live.filter((h) => results.find((r) => r.host === h.target.name)?.status === 'ok');
  }
  const names = () => live.map((h) => h.target.name);
  for (const [i, task] of play.tasks.entries()) {
    if (taskSelected(task, input.tags)) {
      settle(blocks.advance(task.blocks, names()));
      if (live.length === 0) break;
      const hosts = task.blocks ? live.filter((h) => blocks.runs(h.target.name, task.blocks)) : live;
      if (hosts.length) await runOnHosts(task, hosts, false);
    }
    if (play.flushAfter?.includes(i)) await flush();
  }
  settle(blocks.finish(names()));
  await flush();
  return out;
}

/** A host's registered result and set facts, for its later tasks. */
function learn(learned: Map<string, Record<string, unknown>>, task: PlayTask, r: HostTaskResult): void {
  const register = task.control?.register;
  const facts = r.result?.ansibleFacts;
  if (!register && !facts) return;
  const mine = learned.get(r.host) ?? {};
  if (facts) Object.assign(mine, facts);
  if (register)
    mine[register] = r.result
      ? registeredValue(r.result)
      : { failed: true, changed: false, unreachable: r.status === 'unreachable', msg: r.reason };
  learned.set(r.host, mine);
}

async function runOne(
  task: PlayTask,
  host: PlayHost,
  learned: Record<string, unknown> | undefined,
  check: boolean,
  diff: boolean,
): Promise<HostTaskResult> {
  const name = host.target.name;
  try {
    const result = await runTask({
      host: host.target,
      module: task.module,
      args: task.args,
      vars: learned ? { ...host.vars, ...learned } : host.vars,
      check,
      diff,
      become: task.become,
      ...(task.control ? { control: task.control } : {}),
    });
    // pause: the module said how long; the wait is the workflow's, a timer that survives a restart.
    const pauseMs = task.module === 'pause' ? Number(result.data?.pause_ms ?? 0) : 0;
    if (pauseMs > 0 && !result.failed && !result.skipped) await sleep(pauseMs);
    return { host: name, status: task.ignoreErrors && result.failed ? 'ok' : statusOf(result), result };
  } catch (err) {
    // A cancelled play stops here; the activity has already killed the remote command.
    if (isCancellation(err)) throw err;
    const { status, reason } = hostOutcomeOf(err);
    return { host: name, status, reason };
  }
}
