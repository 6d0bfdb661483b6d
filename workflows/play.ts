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
import { ansibleFacts, withModuleFacts } from '../common/ansible-facts';
import { BlockTracker } from '../common/blocks';
import { registeredValue } from '../common/task-control';
import type { HostTarget } from '../common/hosts';
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
      if (batch.endPlay) break;
      if (batch.fatal) {
        result.aborted = `play "${spec.name}": ${batch.fatal}; the play stopped on every host`;
        break;
      }
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

  /** The run's own variables for a task: the batch's hosts, and hostvars when the play reads them. */
  const runVars = (): Record<string, unknown> => {
    const extra: Record<string, unknown> = {};
    if (play.reads?.includes('ansible_play_hosts')) extra.ansible_play_hosts = live.map((h) => h.target.name);
    if (play.reads?.includes('ansible_play_batch')) extra.ansible_play_batch = live.map((h) => h.target.name);
    if (play.hostvars) {
      const hv: Record<string, unknown> = { ...play.hostvars };
      // As ansible-core's hostvars: inventory, magic and extra vars (from the client), then what
      // the host learned (facts, set_fact, registered); never the play's or a role's vars.
      for (const h of input.hosts)
        hv[h.target.name] = { ...play.hostvars[h.target.name], ...learned.get(h.target.name) };
      extra.hostvars = hv;
    }
    return extra;
  };
  const onceRan = new Map<PlayTask, HostTaskResult>();
  const runOnHosts = async (task: PlayTask, hosts: PlayHost[], handler: boolean, tracker = blocks) => {
    // run_once: the first host runs it; what it registers and sets is every host's (under
    // strategy free, the first host to get there).
    const ran = task.runOnce ? onceRan.get(task) : undefined;
    if (ran) {
      for (const h of hosts) learn(learned, task, { ...ran, host: h.target.name });
      return;
    }
    const runners = task.runOnce ? hosts.slice(0, 1) : hosts;
    const extra = runVars();
    const results = await mapWithLimit(runners, play.forks, (h) =>
      runOne(task, h, { ...extra, ...learned.get(h.target.name) }, check, diff, play.delegateTargets),
    );
    // A host that a templated include's condition skipped never included this file: not reported.
    const shown = task.guards
      ? results.filter(
          (r) => !(r.status === 'skipped' && task.guards!.includes(String(r.result?.data?.false_condition))),
        )
      : results;
    if (shown.length)
      out.tasks.push({
        play: play.name,
        task: task.name,
        handler,
        hosts: shown,
        module: task.module,
        ...(task.path ? { path: task.path } : {}),
      });
    if (task.runOnce && results[0]) {
      onceRan.set(task, results[0]);
      for (const h of hosts.slice(1)) learn(learned, task, { ...results[0], host: h.target.name });
    }
    for (const r of results) {
      learn(learned, task, r);
      if (shown === results || shown.includes(r)) addToRecap(out.recap, r.host, r.status, r.ignored);
      if (r.status === 'changed')
        for (const n of task.notify)
          (notified.get(r.host) ?? notified.set(r.host, new Set()).get(r.host)!).add(n);
    }
    // A failed host leaves the play, unless a block around the task takes it to its rescue.
    const failed = results.filter(
      (r) => r.status === 'failed' && !task.ignoreErrors && tracker.fail(r.host, task.blocks),
    );
    // A rescue sees what failed, as ansible-core gives it: ansible_failed_task and _result.
    if (task.blocks?.length)
      for (const r of results.filter((x) => x.status === 'failed' && !task.ignoreErrors))
        learned.set(r.host, {
          ...learned.get(r.host),
          ansible_failed_task: { name: task.name, action: task.module },
          ansible_failed_result: r.result
            ? registeredValue(r.result)
            : { failed: true, changed: false, msg: r.reason },
        });
    const dropped = new Set(
      [...results.filter((r) => r.status === 'unreachable' && !task.ignoreUnreachable), ...failed].map(
        (r) => r.host,
      ),
    );
    live = live.filter((h) => !dropped.has(h.target.name));
    // meta: end_host ends the host's play (not failed); end_batch the batch; end_play the play.
    for (const r of results) {
      const action = r.status === 'ok' && !r.result?.skipped ? r.result?.data?.meta : undefined;
      if (action === 'end_host') live = live.filter((h) => h.target.name !== r.host);
      if (action === 'end_batch' || action === 'end_play') live = [];
      if (action === 'end_play') out.endPlay = true;
    }
    // any_errors_fatal: one host's failure ends the play for all of them.
    if (task.anyErrorsFatal && failed.length) {
      out.fatal = `"${task.name}" failed on ${failed.map((r) => r.host).join(', ')} (any_errors_fatal)`;
      live = [];
    }
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
  const flush = async (only?: string) => {
    const mine = () => (only === undefined ? live : live.filter((h) => h.target.name === only));
    for (const handler of play.handlers) {
      const hosts = mine().filter((h) => notified.get(h.target.name)?.has(handler.name));
      if (hosts.length) await runOnHosts(handler, hosts, true);
    }
    if (only === undefined) notified.clear();
    else notified.delete(only);
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
  /** The play's tasks for some hosts (all of them, or one under `strategy: free`), in order. */
  const runTasks = async (only: string | undefined, tracker: BlockTracker) => {
    const mine = () => (only === undefined ? live : live.filter((h) => h.target.name === only));
    const names = () => mine().map((h) => h.target.name);
    for (const [i, task] of play.tasks.entries()) {
      if (taskSelected(task, input.tags)) {
        settle(tracker.advance(task.blocks, names()));
        if (mine().length === 0) break;
        const hosts = task.blocks ? mine().filter((h) => tracker.runs(h.target.name, task.blocks)) : mine();
        if (hosts.length) await runOnHosts(task, hosts, false, tracker);
      }
      if (play.flushAfter?.includes(i)) await flush(only);
    }
    settle(tracker.finish(names()));
  };
  if (play.strategy === 'free') {
    // Each host goes through the tasks as fast as it can, never waiting for the others.
    await mapWithLimit(live, play.forks, (h) =>
      runTasks(h.target.name, new BlockTracker(play.tasks.map((t) => t.blocks))),
    );
  } else await runTasks(undefined, blocks);
  await flush();
  return out;
}

/** A host's registered result and set facts, for its later tasks. */
function learn(learned: Map<string, Record<string, unknown>>, task: PlayTask, r: HostTaskResult): void {
  const register = task.control?.register;
  const facts = r.result?.ansibleFacts;
  if (!register && !facts) return;
  const mine = learned.get(r.host) ?? {};
  if (facts) Object.assign(mine, withModuleFacts(mine, task.module, facts));
  if (register)
    mine[register] = r.result
      ? registeredValue(r.result)
      : { failed: true, changed: false, unreachable: r.status === 'unreachable', msg: r.reason };
  learned.set(r.host, mine);
}

/** Where a task runs for a host: the host, or the one it delegates to, as the task's remote_user. */
function targetOf(task: PlayTask, host: PlayHost, delegates: PlaySpec['delegateTargets']): HostTarget {
  const delegate = task.delegates?.[host.target.name];
  const target = delegate && delegates?.[delegate] ? delegates[delegate] : host.target;
  return task.remoteUser && target.connection !== 'local' ? { ...target, user: task.remoteUser } : target;
}

async function runOne(
  task: PlayTask,
  host: PlayHost,
  learned: Record<string, unknown> | undefined,
  check: boolean,
  diff: boolean,
  delegates?: PlaySpec['delegateTargets'],
): Promise<HostTaskResult> {
  const name = host.target.name;
  try {
    const result = await runTask({
      host: targetOf(task, host, delegates),
      module: task.module,
      args: task.args,
      vars: host.vars,
      ...(learned && Object.keys(learned).length ? { learned } : {}),
      check: task.check ?? check,
      diff: task.diff ?? diff,
      become: task.become,
      ...(task.becomeUser ? { becomeUser: task.becomeUser } : {}),
      ...(task.becomeMethod ? { becomeMethod: task.becomeMethod } : {}),
      ...(task.environment ? { environment: task.environment } : {}),
      ...(task.control ? { control: task.control } : {}),
    });
    // pause: the module said how long; the wait is the workflow's, a timer that survives a restart.
    const pauseMs = task.module === 'pause' ? Number(result.data?.pause_ms ?? 0) : 0;
    if (pauseMs > 0 && !result.failed && !result.skipped) await sleep(pauseMs);
    if (task.ignoreErrors && result.failed) return { host: name, status: 'ok', result, ignored: true };
    return { host: name, status: statusOf(result), result };
  } catch (err) {
    // A cancelled play stops here; the activity has already killed the remote command.
    if (isCancellation(err)) throw err;
    const { status, reason } = hostOutcomeOf(err);
    return { host: name, status, reason };
  }
}
