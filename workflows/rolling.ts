import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DbFailureTypes } from '../common/db';
import { nonRetryableFailureTypes } from '../common/errors';
import type { NodeInfo, NodesInput } from '../common/lb';
import type { LicenseInput } from '../common/license';
import type { StorageInput } from '../common/storage';
import { nonRetryableLbFailures } from '../common/lb';
import {
  emptyRecap,
  serialBatches,
  type BatchResult,
  type HostRecap,
  type PlayInput,
  type PlaySpec,
} from '../common/play';
import { Phase } from '../common/search-attributes';
import { msUntilWindow } from '../common/window';
import { licenseActivation, licenseDeactivate } from './license';
import { play, playBatch } from './play';
import { storageNode } from './storage';
import { approveSignal } from './db';
import { withClusterLock, type UnderLock } from './lock';
import { detailsTable, showPhase } from './ui';

// Rolling maintenance behind a load balancer: per node, out of every LB, sessions drained, the
// work done, proven healthy, back in — batch by batch. Whatever happens (failure, abort,
// cancellation, a worker killed mid-drain), a node we took out goes back in, unless the operator's
// policy says to leave a failed node out, and then the result says so.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [
      ...nonRetryableFailureTypes,
      ...nonRetryableLbFailures,
      'CommandFailed',
      'ModuleFailed',
      'LbNotUp',
    ],
  },
});

export type NodePhase =
  | 'waiting'
  | 'pre-check'
  | 'draining'
  | 'disabling'
  | 'maintenance'
  | 'health-gate'
  | 'enabling'
  | 'finished';

export type NodeOutcome = 'done' | 'failed' | 'skipped' | 'left-drained' | 'not-run';

export interface NodeReport {
  node: string;
  batch: number;
  phase: NodePhase;
  outcome?: NodeOutcome;
  reason?: string;
  /** Sessions the LBs and the node still reported at the last drain poll. */
  sessionsLeft?: number;
  changes: string[];
  /** Milliseconds spent: whole node, waiting for sessions, the action, health checks, LB changes. */
  timings: { totalMs: number; drainMs: number; actionMs: number; healthMs: number; lbMs: number };
}

export interface RollingProgress {
  operation: string;
  batch: number;
  batches: number;
  paused: boolean;
  aborting: boolean;
  /** What the run waits for before its next batch: the window or an approval. */
  waitingFor?: string;
  nodes: NodeReport[];
  log: string[];
}

export interface RollingResult {
  cluster: string;
  operation: string;
  nodes: NodeReport[];
  /** Nodes deliberately left out of the LB (policy leave-drained): a human must look at them. */
  leftDrained: string[];
  aborted?: string;
  recap: Record<string, HostRecap>;
  notes: string[];
}

export interface RollingInput extends NodesInput {
  /** The maintenance action, run on one node at a time while it is out of the LB. */
  action?: PlayInput;
}

export const rollingProgressQuery = defineQuery<RollingProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const abortSignal = defineSignal<[string?]>('abort');
export const skipSignal = defineSignal<[string]>('skip');

const messageOf = (err: unknown) =>
  (err as { cause?: Error })?.cause?.message ?? (err instanceof Error ? err.message : String(err));

/** The sessions a node still holds, counted on the node when the LB cannot (nginx). */
function sessionsCommand(input: NodesInput): string | undefined {
  if (input.settings.sessions) return input.settings.sessions.command;
  if (input.loadBalancer?.kind === 'nginx')
    return `ss -Htn state established '( sport = :${input.settings.port} )' | wc -l`;
  return undefined;
}

/**
 * One node's trip out of the LB and back, shared by rolling maintenance, join and removal. Holds
 * the progress the query shows; the caller decides what happens around it.
 */
class NodeRunner {
  readonly progress: RollingProgress;
  readonly skipped = new Set<string>();
  private readonly started = Date.now();

  constructor(
    private readonly input: RollingInput,
    operation: string,
  ) {
    this.progress = { operation, batch: 0, batches: 0, paused: false, aborting: false, nodes: [], log: [] };
    setHandler(rollingProgressQuery, () => this.progress);
  }

  report(node: NodeInfo, batch: number): NodeReport {
    const r: NodeReport = {
      node: node.name,
      batch,
      phase: 'waiting',
      changes: [],
      timings: { totalMs: 0, drainMs: 0, actionMs: 0, healthMs: 0, lbMs: 0 },
    };
    this.progress.nodes.push(r);
    return r;
  }

  log(text: string) {
    this.progress.log.push(`+${((Date.now() - this.started) / 1000).toFixed(1)}s ${text}`);
  }

  phase(r: NodeReport, phase: NodePhase) {
    r.phase = phase;
    this.log(`${r.node}: ${phase}`);
    const active = this.progress.nodes.filter((n) => n.phase !== 'waiting' && n.phase !== 'finished');
    showPhase(
      [
        this.progress.batches ? `batch ${this.progress.batch}/${this.progress.batches}` : '',
        active.map((n) => `${n.node} ${n.phase}`).join(', '),
      ]
        .filter(Boolean)
        .join(': '),
      [
        detailsTable(
          ['node', 'batch', 'phase', 'sessions left', 'outcome'],
          this.progress.nodes.map((n) => [n.node, n.batch, n.phase, n.sessionsLeft, n.outcome]),
        ),
      ],
    );
  }

  finish(r: NodeReport, outcome: NodeOutcome, reason?: string) {
    r.outcome = outcome;
    r.reason = reason;
    r.phase = 'finished';
    this.log(`${r.node}: ${outcome}${reason ? ` (${reason})` : ''}`);
  }

  gateArgs(node: NodeInfo) {
    const lb = this.input.loadBalancer;
    return {
      node: node.target,
      address: node.member.address,
      port: this.input.settings.port,
      from: lb?.hosts[0] ?? node.target,
      health: this.input.settings.health,
    };
  }

  private drainArgs(node: NodeInfo, onceDrained?: 'disabled') {
    const lb = this.input.loadBalancer as NonNullable<RollingInput['loadBalancer']>;
    const command = sessionsCommand(this.input);
    return {
      lb,
      member: node.member,
      node: node.target,
      sessionsCommand: command,
      onceDrained,
    };
  }

  /** The health pre-check and, if healthy, the first drain poll: one round trip. */
  async takeOut(node: NodeInfo, r: NodeReport) {
    const t = Date.now();
    const health = this.input.settings.health;
    const out = await acts.takeOut.executeWithOptions(
      { summary: `${node.name}: health pre-check, drain in every LB` },
      [
        {
          precheck: {
            ...this.gateArgs(node),
            successes: 1,
            timeoutSeconds: Math.max(5, health.intervalSeconds * 3),
          },
          drain: this.input.loadBalancer ? this.drainArgs(node, 'disabled') : undefined,
        },
      ],
    );
    r.timings.healthMs += out.precheck.ms;
    r.timings.drainMs += Date.now() - t - out.precheck.ms;
    return out;
  }

  /** The health gate and, if healthy, back into every LB and seen up: one round trip. */
  async putBack(node: NodeInfo, r: NodeReport) {
    const lb = this.input.loadBalancer;
    const back = await acts.putBack.executeWithOptions(
      { summary: `${node.name}: health gate, enable in every LB` },
      [
        {
          gate: this.gateArgs(node),
          enable: lb ? { lb, member: node.member, timeoutMs: 30_000 } : undefined,
        },
      ],
    );
    r.timings.healthMs += back.gate.ms;
    r.timings.lbMs += back.lbMs;
    this.changed(r, 'ready', back.enabled);
    return back;
  }

  private changed(r: NodeReport, what: string, hosts: string[]) {
    if (hosts.length) r.changes.push(`${what} on ${hosts.join(', ')}`);
  }

  async setState(node: NodeInfo, r: NodeReport, state: 'ready' | 'drain' | 'disabled') {
    const lb = this.input.loadBalancer;
    if (!lb) return;
    const t = Date.now();
    this.changed(r, state, await acts.lbSetState({ lb, member: node.member, state }));
    r.timings.lbMs += Date.now() - t;
  }

  /** Back in every LB, and seen up there. */
  async enable(node: NodeInfo, r: NodeReport) {
    const lb = this.input.loadBalancer;
    if (!lb) return;
    const t = Date.now();
    this.changed(r, 'ready', await acts.lbEnable({ lb, member: node.member, timeoutMs: 30_000 }));
    r.timings.lbMs += Date.now() - t;
  }

  /**
   * Drains the node in every LB and waits for its sessions to end. Each poll re-asserts the drain,
   * so an LB reload in the middle does not quietly put the node back.
   */
  async drain(
    node: NodeInfo,
    r: NodeReport,
    timeoutSeconds: number,
    onceDrained?: 'disabled',
    firstPoll?: Awaited<ReturnType<typeof acts.drainPoll>>,
  ): Promise<'drained' | 'timeout' | 'skipped'> {
    const lb = this.input.loadBalancer;
    if (!lb) return 'drained';
    const t = Date.now();
    const deadline = t + timeoutSeconds * 1000;
    try {
      for (let first = true; ; first = false) {
        const poll =
          first && firstPoll
            ? firstPoll
            : await acts.drainPoll.executeWithOptions({ summary: `${node.name}: drain poll` }, [
                this.drainArgs(node, onceDrained),
              ]);
        if (first) this.changed(r, 'drain', poll.reasserted);
        else if (poll.reasserted.length) {
          const note = `${node.name}: drain re-asserted on ${poll.reasserted.join(', ')} (the LB had lost it, e.g. a reload)`;
          r.changes.push(note);
          this.log(note);
        }
        if (poll.stale?.length) {
          // Apache's Busy can stick above 0 (activities/lb/stale-busy.ts): say so once per node.
          const note = `${node.name}: ${poll.stale.map((s) => `${s.lb} counted ${s.counted}`).join(', ')} with no connection on the node: a stale LB count, taken as 0`;
          if (!r.changes.includes(note)) {
            r.changes.push(note);
            this.log(note);
          }
        }
        r.sessionsLeft = poll.total;
        this.changed(r, onceDrained ?? '', poll.then);
        if (poll.total === 0) return 'drained';
        if (this.skipped.has(node.name)) return 'skipped';
        if (Date.now() >= deadline) return 'timeout';
        await condition(() => this.skipped.has(node.name), lb.pollSeconds * 1000);
      }
    } finally {
      r.timings.drainMs += Date.now() - t;
    }
  }

  /**
   * The action on one node: each play of it that names the node, as one batch of one host. A
   * batch child directly (not a whole `play` workflow) keeps the per-node cost to one child.
   */
  async runAction(node: NodeInfo, r: NodeReport, action: PlayInput): Promise<BatchResult> {
    const t = Date.now();
    const out: BatchResult = { tasks: [], recap: { [node.name]: emptyRecap() } };
    try {
      for (const [i, p] of action.plays.entries()) {
        const hosts = p.hosts.filter((h) => h.target.name === node.name);
        if (!hosts.length) continue;
        const batch = await executeChild(playBatch, {
          workflowId: `${workflowInfo().workflowId}/${node.name}/action-${i + 1}`,
          args: [
            {
              play: withoutHosts(p),
              hosts,
              check: action.check,
              diff: action.diff,
              tags: action.tags,
            },
          ],
        });
        out.tasks.push(...batch.tasks);
        const recap = batch.recap[node.name];
        for (const k of Object.keys(recap) as (keyof HostRecap)[]) out.recap[node.name][k] += recap[k];
        if (recap.failed || recap.unreachable) break; // as a play stops a failed host
      }
      return out;
    } finally {
      r.timings.actionMs += Date.now() - t;
    }
  }
}

/** A play's settings without its host list: each batch child gets only its own hosts. */
function withoutHosts(p: PlaySpec): Omit<PlaySpec, 'hosts'> {
  return Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'hosts')) as Omit<PlaySpec, 'hosts'>;
}

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
          upsertSearchAttributes([
            { key: Phase, value: `waiting for the maintenance window before batch ${b + 1}` },
          ]);
          runner.log(progress.waitingFor);
          await condition(() => progress.aborting || progress.paused, wait);
          continue;
        }
      }
      if (m.approve === 'each' || (m.approve === 'first' && b === 0)) {
        const seen = approvals;
        progress.waitingFor = `approval of batch ${b + 1}/${batches.length} (signal approve)`;
        upsertSearchAttributes([{ key: Phase, value: `waiting for approval of batch ${b + 1}` }]);
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
    failed += reports[b].filter((r) => r.outcome === 'failed' || r.outcome === 'left-drained').length;
    if ((failed / input.nodes.length) * 100 > m.maxFailPercentage && b < batches.length - 1) {
      result.aborted = `${failed} of ${input.nodes.length} nodes failed, over the failure budget (maxFailPercentage ${m.maxFailPercentage})`;
      break;
    }
    if (progress.aborting && b < batches.length - 1) {
      result.aborted = 'aborted by operator';
      break;
    }
  }
  for (const r of result.nodes) if (!r.outcome) runner.finish(r, 'not-run');
  for (const r of result.nodes) {
    const recap = (result.recap[r.node] ??= emptyRecap());
    if (r.outcome === 'failed' || r.outcome === 'left-drained') recap.failed++;
    else if (r.outcome === 'skipped' || r.outcome === 'not-run') recap.skipped++;
    else recap.ok++;
    recap.changed += r.changes.length;
  }
  result.leftDrained = result.nodes.filter((r) => r.outcome === 'left-drained').map((r) => r.node);
  if (result.leftDrained.length)
    result.notes.push(`LEFT OUT OF THE LB (policy leave-drained): ${result.leftDrained.join(', ')}`);
  if (result.aborted) result.notes.push(`stopped early: ${result.aborted}`);
  upsertSearchAttributes([
    {
      key: Phase,
      value: [
        result.aborted ? 'stopped early' : 'done',
        result.leftDrained.length ? `LEFT DRAINED: ${result.leftDrained.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    },
  ]);
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

export interface NodeOperationResult {
  cluster: string;
  operation: string;
  node: string;
  changed: boolean;
  changes: string[];
  notes: string[];
}

function opResult(input: NodesInput, operation: string, node: string): NodeOperationResult {
  return { cluster: input.cluster, operation, node, changed: false, changes: [], notes: [] };
}

export interface NodeJoinInput extends NodesInput, UnderLock {
  /** The node to add; not (yet) one of `nodes`. */
  joining: NodeInfo;
  /** Installs the application on the joining node. */
  install?: PlayInput;
  /** The shared storage, when the node is one of its clients: mounted before the app is installed. */
  storage?: StorageInput;
  /** The node's license, when the spec licenses it: activated once it serves. */
  license?: LicenseInput;
  /**
   * Leave the LB alone: cluster-setup joins nodes in parallel and then adds every member in one
   * step, since parallel joins would all edit the same LB config at once.
   */
  skipLoadBalancer?: boolean;
}

/** node-remove: the same sections, undone: license seat freed, storage unmounted. */
export interface NodeRemoveInput extends NodesInput {
  removing: string;
  storage?: StorageInput;
  license?: LicenseInput;
}

/**
 * `node-join`, seed 000's "further nodes": the pre-cluster test (every problem at once), then
 * packages, service user, the app, its config derived from the reference node, start, health, and
 * into every LB — disabled first, enabled only once healthy.
 */
export async function nodeJoin(input: NodeJoinInput): Promise<NodeOperationResult> {
  const { joining: node, settings } = input;
  const result = opResult(input, 'node-join', node.name);
  const did = (what: string, changed: boolean | string[] | number) => {
    if (Array.isArray(changed) ? changed.length : changed) {
      result.changes.push(Array.isArray(changed) ? `${what} on ${changed.join(', ')}` : what);
      result.changed = true;
    }
  };
  const phase = (p: string) => upsertSearchAttributes([{ key: Phase, value: `${node.name}: ${p}` }]);
  return withClusterLock(input, 'node-join', async () => {
    phase('pre-cluster test');
    const reference = input.nodes.find((n) => n.name === input.reference) as NodeInfo;
    const problems = await acts.joinPrecheck({
      node: node.target,
      nodeName: node.name,
      reference: reference.target,
      peers: [...input.nodes.filter((n) => n.name !== node.name), ...(input.loadBalancer?.hosts ?? [])].map(
        (p) => ({ name: p.name, address: 'member' in p ? p.member.address : p.address }),
      ),
      port: settings.port,
      service: settings.service,
      user: settings.user,
      database: input.database,
    });
    if (problems.length)
      throw ApplicationFailure.nonRetryable(
        `${node.name} cannot join:\n  ${problems.join('\n  ')}`,
        DbFailureTypes.PrecheckFailed,
        problems,
      );

    phase('packages and service user');
    const task = (module: 'package' | 'group' | 'user' | 'service', args: unknown) =>
      acts.runTask({ host: node.target, module, args, vars: {}, check: false, diff: false });
    const must = async (what: string, module: 'package' | 'group' | 'user' | 'service', args: unknown) => {
      const r = await task(module, args);
      if (r.failed) throw ApplicationFailure.nonRetryable(`${node.name}: ${what}: ${r.msg}`, 'ModuleFailed');
      did(what, r.changed);
    };
    if (settings.packages.length)
      await must(`packages ${settings.packages.join(' ')}`, 'package', { name: settings.packages });
    if (settings.user) {
      const u = settings.user;
      await must(`group ${u.group ?? u.name}`, 'group', { name: u.group ?? u.name, gid: u.gid });
      await must(`user ${u.name}`, 'user', { name: u.name, uid: u.uid, group: u.group ?? u.name });
    }
    if (input.storage) {
      phase('shared storage');
      const attached = await executeChild(storageNode, {
        workflowId: `${workflowInfo().workflowId}/storage`,
        args: [{ ...input.storage, node: node.target, detach: false }],
      });
      did(`shared storage: ${attached.changes.join('; ')}`, attached.changed);
      if (!attached.ok)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: shared storage: ${attached.failures.join('; ')}`,
          'StorageUnavailable',
        );
    }
    if (input.install) {
      phase('installing');
      const played = await executeChild(play, {
        workflowId: `${workflowInfo().workflowId}/install`,
        args: [input.install],
      });
      const recap = played.recap[node.name];
      if (!recap || recap.failed || recap.unreachable)
        throw ApplicationFailure.nonRetryable(`${node.name}: the install play failed`, 'ModuleFailed');
      did(`install play: ${recap.changed} task(s) changed`, recap.changed);
    }
    let configChanged = false;
    // The first node of a new cluster is its own reference: its config comes from its install play.
    if (settings.config && reference.name !== node.name) {
      phase('server config');
      configChanged = await acts.deriveConfig({
        reference: reference.target,
        node: node.target,
        address: node.member.address,
        config: settings.config,
      });
      did(`${settings.config.path} derived from ${reference.name}`, configChanged);
    }
    phase('starting');
    await must(`${settings.service} ${configChanged ? 'restarted' : 'started'}`, 'service', {
      name: settings.service,
      state: configChanged ? 'restarted' : 'started',
      enabled: true,
    });
    phase('health');
    const gate = await acts.healthGate({
      node: node.target,
      address: node.member.address,
      port: settings.port,
      from: input.loadBalancer?.hosts[0] ?? node.target,
      health: settings.health,
    });
    if (!gate.healthy)
      throw ApplicationFailure.nonRetryable(
        `${node.name} is not healthy after the join (${gate.last}); it was not added to the LB`,
        'Unhealthy',
      );
    const lb = input.skipLoadBalancer ? undefined : input.loadBalancer;
    if (lb) {
      phase('into the load balancer');
      did(
        'added to the LB (disabled)',
        await acts.lbAddMember({ lb, member: node.member, state: 'disabled' }),
      );
      did('enabled in the LB', await acts.lbEnable({ lb, member: node.member, timeoutMs: 30_000 }));
    }
    if (input.license) {
      phase('license');
      const lic = await executeChild(licenseActivation, {
        workflowId: `${workflowInfo().workflowId}/license`,
        args: [{ ...input.license, force: false }],
      });
      const n = lic.nodes[0];
      if (!lic.ok)
        throw ApplicationFailure.nonRetryable(`${node.name}: license: ${n?.reason}`, 'LicenseFailed');
      did(`license activated (expires ${n?.expires ?? 'unknown'})`, lic.changed);
    }
    phase('done');
    return result;
  });
}

/** `node-remove`: drain, disable, stop, out of every LB, report. */
export async function nodeRemove(input: NodeRemoveInput): Promise<NodeOperationResult> {
  const result = opResult(input, 'node-remove', input.removing);
  const node = input.nodes.find((n) => n.name === input.removing) as NodeInfo;
  return withClusterLock(input, 'node-remove', async () => {
    const runner = new NodeRunner(input, 'node-remove');
    const r = runner.report(node, 1);
    const lb = input.loadBalancer;
    const inLb = lb ? (await acts.lbMemberViews({ lb, member: node.member })).some((v) => v.present) : false;
    if (lb && inLb) {
      runner.phase(r, 'draining');
      const drained = await runner.drain(node, r, input.settings.maintenance.drainTimeoutSeconds);
      if (drained !== 'drained' && input.settings.maintenance.onDrainTimeout !== 'force') {
        await runner.enable(node, r);
        throw ApplicationFailure.nonRetryable(
          `${node.name}: ${r.sessionsLeft} session(s) left after ${input.settings.maintenance.drainTimeoutSeconds} s; put back, nothing removed (set onDrainTimeout: force to remove anyway)`,
          'DrainTimeout',
        );
      }
      runner.phase(r, 'disabling');
      await runner.setState(node, r, 'disabled');
    }
    const stopped = await acts.runTask({
      host: node.target,
      module: 'service',
      args: { name: input.settings.service, state: 'stopped', enabled: false },
      vars: {},
      check: false,
      diff: false,
    });
    if (stopped.failed)
      throw ApplicationFailure.nonRetryable(
        `${node.name}: stopping ${input.settings.service}: ${stopped.msg}`,
        'ModuleFailed',
      );
    if (stopped.changed) r.changes.push(`${input.settings.service} stopped and disabled`);
    if (lb) {
      const removed = await acts.lbRemoveMember({ lb, member: node.member });
      if (removed.length) r.changes.push(`removed from the LB on ${removed.join(', ')}`);
    }
    if (input.license) {
      const lic = await executeChild(licenseDeactivate, {
        workflowId: `${workflowInfo().workflowId}/license`,
        args: [input.license],
      });
      if (!lic.ok)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: license: ${lic.nodes[0]?.reason}`,
          'LicenseFailed',
        );
      if (lic.changed) r.changes.push('license deactivated (seat freed)');
    }
    if (input.storage) {
      const detached = await executeChild(storageNode, {
        workflowId: `${workflowInfo().workflowId}/storage`,
        args: [{ ...input.storage, node: node.target, detach: true }],
      });
      if (detached.changed) r.changes.push(...detached.changes);
    }
    result.changes = r.changes;
    result.changed = r.changes.length > 0;
    upsertSearchAttributes([{ key: Phase, value: 'done' }]);
    return result;
  });
}

/** `config-drift`: the app config across nodes against the reference, node-specific keys ignored; `fix` converges. */
export async function configDrift(input: NodesInput & { fix: boolean }) {
  const config = input.settings.config;
  if (!config)
    throw ApplicationFailure.nonRetryable(
      'nodes.config: the spec names no server config to compare',
      'BadInput',
    );
  const run = () =>
    acts.compareConfigs({ nodes: input.nodes, reference: input.reference, config, fix: input.fix });
  const drift = input.fix ? await withClusterLock(input, 'config-drift', run) : await run();
  const drifted = Object.entries(drift)
    .filter(([, d]) => d.length)
    .map(([n]) => n);
  upsertSearchAttributes([
    {
      key: Phase,
      value: drifted.length ? `${input.fix ? 'fixed' : 'drift on'} ${drifted.join(', ')}` : 'no drift',
    },
  ]);
  return {
    cluster: input.cluster,
    reference: input.reference,
    fixed: input.fix,
    drift,
    notes:
      input.fix && drifted.length
        ? [`restart ${input.settings.service} on ${drifted.join(', ')} to apply: run rolling-maintenance`]
        : [],
  };
}
