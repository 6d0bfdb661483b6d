import { CancellationScope, condition, isCancellation, setHandler } from '@temporalio/workflow';
import type { NodeInfo } from '../common/lb';
import { serialBatches } from '../common/play';
import { approvalDue, countsAsFailed, reasonToStop, rollingRecap } from '../common/rolling';
import { msUntilWindow } from '../common/window';
import { approveSignal } from './db';
import { withClusterLock } from './lock';
import {
  messageOf,
  pauseSignal,
  resumeSignal,
  abortSignal,
  skipSignal,
  type NodeReport,
  type RollingResult,
  type RollingInput,
} from './node-operations';
import { NodeRunner } from './node-runner';

// Rolling maintenance behind a load balancer: per node, out of every LB, sessions drained, the
// work done, proven healthy, back in — batch by batch. Whatever happens (failure, abort,
// cancellation, a worker killed mid-drain), a node we took out goes back in, unless the operator's
// policy says to leave a failed node out, and then the result says so.

/**
 * `rolling-maintenance`: batches by `serial`; per node health pre-check → drain in every LB →
 * sessions to 0 → disable → the action play → health gate → enable → seen up. Signals: pause,
 * resume, abort (finishes the nodes in hand), skip <node>, approve.
 */
export async function rollingMaintenance(input: RollingInput): Promise<RollingResult> {
  return withClusterLock(input, 'rolling-maintenance', () => roll(input, 'rolling-maintenance'));
}

async function roll(input: RollingInput, operation: string): Promise<RollingResult> {
  const m = input.settings.maintenance;
  const runner = new NodeRunner(input, operation);
  const { progress } = runner;
  let approvals = 0;
  setHandler(pauseSignal, () => void ((progress.paused = true), runner.log('paused by operator')));
  setHandler(resumeSignal, () => void ((progress.paused = false), runner.log('resumed by operator')));
  setHandler(abortSignal, (why?: string) => {
    progress.aborting = true;
    runner.log(`abort requested${why ? `: ${why}` : ''}; finishing the nodes in hand`);
  });
  setHandler(
    skipSignal,
    (node: string) => void (runner.skipped.add(node), runner.log(`${node}: skip requested`)),
  );
  setHandler(approveSignal, () => void approvals++);

  const result: RollingResult = {
    cluster: input.cluster,
    operation,
    changed: false,
    entries: progress.nodes,
    nodes: progress.nodes,
    leftDrained: [],
    recap: {},
    notes: [],
  };
  const batches = serialBatches(input.nodes, m.serial);
  progress.batches = batches.length;
  const reports = batches.map((nodes, b) => nodes.map((n) => runner.report(n, b + 1)));
  let failed = 0;

  for (const [b, nodes] of batches.entries()) {
    progress.batch = b + 1;
    // Between batches: the operator may pause, abort, hold for approval, or the window may close.
    for (;;) {
      if (progress.paused) {
        progress.waitingFor = 'resume';
        await condition(() => !progress.paused || progress.aborting);
      }
      if (progress.aborting) break;
      if (m.window) {
        const wait = msUntilWindow(Date.now(), m.window);
        if (wait > 0) {
          progress.waitingFor = `maintenance window (${m.window.start}-${m.window.end} ${m.window.timezone}), opens in ${Math.round(wait / 60_000)} min`;
          runner.runPhase(`waiting for the maintenance window before batch ${b + 1}`);
          runner.log(progress.waitingFor);
          await condition(() => progress.aborting || progress.paused, wait);
          continue;
        }
      }
      if (approvalDue(m.approve, b)) {
        const seen = approvals;
        progress.waitingFor = `approval of batch ${b + 1}/${batches.length} (signal approve)`;
        runner.runPhase(`waiting for approval of batch ${b + 1}`);
        const approved = await condition(
          () => approvals > seen || progress.aborting,
          m.approvalTimeoutSeconds * 1000,
        );
        if (progress.aborting) break;
        if (!approved) {
          if (m.onApprovalTimeout === 'abort') {
            result.aborted = `no approval for batch ${b + 1} within ${m.approvalTimeoutSeconds} s`;
            break;
          }
          runner.log(
            `no approval for batch ${b + 1} within ${m.approvalTimeoutSeconds} s; going on (policy)`,
          );
        }
      }
      break;
    }
    progress.waitingFor = undefined;
    if (progress.aborting && !result.aborted) result.aborted = 'aborted by operator';
    if (result.aborted) break;

    await Promise.all(nodes.map((node, i) => maintainNode(input, runner, node, reports[b][i], result)));
    failed += reports[b].filter((r) => countsAsFailed(r.outcome)).length;
    const stop = reasonToStop({
      batch: b,
      batches: batches.length,
      failed,
      nodes: input.nodes.length,
      maxFailPercentage: m.maxFailPercentage,
      aborting: progress.aborting,
    });
    if (stop) {
      result.aborted = stop;
      break;
    }
  }
  for (const r of result.nodes) if (!r.outcome) runner.finish(r, 'not-run');
  result.recap = rollingRecap(result.nodes);
  result.changed = result.nodes.some((n) => n.changes.length > 0);
  result.leftDrained = result.nodes.filter((r) => r.outcome === 'left-drained').map((r) => r.node);
  if (result.leftDrained.length)
    result.notes.push(`LEFT OUT OF THE LB (policy leave-drained): ${result.leftDrained.join(', ')}`);
  if (result.aborted) result.notes.push(`stopped early: ${result.aborted}`);
  runner.runPhase(
    [
      result.aborted ? 'stopped early' : 'done',
      result.leftDrained.length ? `LEFT DRAINED: ${result.leftDrained.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  );
  return result;
}

async function maintainNode(
  input: RollingInput,
  runner: NodeRunner,
  node: NodeInfo,
  r: NodeReport,
  result: RollingResult,
): Promise<void> {
  const m = input.settings.maintenance;
  const t = Date.now();
  let out = false; // taken out of the LB by us: must go back in
  let leaveOut = false;
  const fail = (reason: string) => {
    leaveOut = out && m.onFailure === 'leave-drained';
    runner.finish(r, leaveOut ? 'left-drained' : 'failed', reason);
  };
  try {
    if (runner.skipped.has(node.name)) return runner.finish(r, 'skipped', 'skipped by operator');
    runner.phase(r, 'pre-check');
    out = Boolean(input.loadBalancer); // from here a failure must put it back (idempotent if never out)
    const taken = await runner.takeOut(node, r);
    if (!taken.precheck.healthy) {
      out = false;
      return fail(`unhealthy before maintenance (${taken.precheck.last}); not taken out of the LB`);
    }
    runner.phase(r, 'draining');
    const drained = await runner.drain(node, r, m.drainTimeoutSeconds, 'disabled', taken.poll);
    if (drained === 'skipped') return runner.finish(r, 'skipped', 'skipped by operator while draining');
    if (drained === 'timeout') {
      const why = `${r.sessionsLeft} session(s) left after ${m.drainTimeoutSeconds} s`;
      if (m.onDrainTimeout === 'skip')
        return runner.finish(r, 'skipped', `${why}; put back untouched (policy skip)`);
      if (m.onDrainTimeout === 'abort') {
        result.aborted ??= `${node.name}: ${why} (policy abort)`;
        runner.progress.aborting = true;
        return runner.finish(r, 'failed', `${why}; put back untouched, run stopped (policy abort)`);
      }
      runner.log(`${node.name}: ${why}; going on (policy force)`);
      runner.phase(r, 'disabling');
      await runner.setState(node, r, 'disabled');
    }

    if (input.action?.plays.some((p) => p.hosts.some((h) => h.target.name === node.name))) {
      runner.phase(r, 'maintenance');
      const played = await runner.runAction(node, r, input.action);
      const recap = played.recap[node.name];
      if (recap?.changed) r.changes.push(`action: ${recap.changed} task(s) changed`);
      if (!recap || recap.failed || recap.unreachable) {
        const failedTask = played.tasks.flatMap((tk) =>
          tk.hosts
            .filter((h) => h.status === 'failed' || h.status === 'unreachable')
            .map((h) => `${tk.task}: ${h.reason ?? h.result?.msg ?? h.status}`),
        );
        return fail(`action failed: ${failedTask[0] ?? 'no task ran'}`);
      }
    }
    runner.phase(r, 'health-gate');
    const back = await runner.putBack(node, r);
    if (!back.gate.healthy) return fail(`health gate: ${back.gate.last} after ${back.gate.attempts} checks`);
    out = false;
    runner.finish(r, 'done');
  } catch (err) {
    if (isCancellation(err)) throw err;
    fail(messageOf(err));
  } finally {
    // Compensation: even when cancelled, a node we took out goes back unless policy keeps it out.
    if (out && !leaveOut) {
      await CancellationScope.nonCancellable(async () => {
        try {
          // Ready, not "seen up": an unhealthy node is kept from users by the LB's own checks.
          await runner.setState(node, r, 'ready');
          runner.log(`${node.name}: put back into the LB`);
        } catch (err) {
          r.reason = `${r.reason ?? ''}; could not put it back: ${messageOf(err)}`;
        }
      });
      r.phase = 'finished';
    }
    r.timings.totalMs = Date.now() - t;
  }
}
