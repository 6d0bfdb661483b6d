import { condition, executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { Phase } from '../common/search-attributes';
import type { NodeInfo } from '../common/lb';
import { emptyRecap, type BatchResult, type HostRecap, type PlayInput, type PlaySpec } from '../common/play';
import { playBatch } from './play';
import { entriesTable } from '../common/progress';
import { answerProgress } from './progress';
import { showPhase } from './ui';
import {
  acts,
  sessionsCommand,
  type NodePhase,
  type NodeOutcome,
  type NodeReport,
  type RollingProgress,
  type RollingInput,
} from './node-operations';

/** A play's settings without its host list: each batch child gets only its own hosts. */
function withoutHosts(p: PlaySpec): Omit<PlaySpec, 'hosts'> {
  return Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'hosts')) as Omit<PlaySpec, 'hosts'>;
}

/**
 * One node's trip out of the LB and back, shared by rolling maintenance, join and removal. Holds
 * the progress the query shows; the caller decides what happens around it.
 */
export class NodeRunner {
  readonly progress: Omit<RollingProgress, 'entries' | 'done' | 'total'>;
  readonly skipped = new Set<string>();
  private readonly started = Date.now();

  constructor(
    private readonly input: RollingInput,
    operation: string,
  ) {
    this.progress = {
      operation,
      cluster: input.cluster,
      phase: 'starting',
      batch: 0,
      batches: 0,
      paused: false,
      aborting: false,
      nodes: [],
      log: [],
    };
    answerProgress(() => ({ ...this.progress, entries: this.progress.nodes }));
  }

  report(node: NodeInfo, batch: number): NodeReport {
    const r: NodeReport = {
      name: node.name,
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
    this.progress.phase = [
      this.progress.batches ? `batch ${this.progress.batch}/${this.progress.batches}` : '',
      active.map((n) => `${n.node} ${n.phase}`).join(', '),
    ]
      .filter(Boolean)
      .join(': ');
    showPhase(this.progress.phase, [
      entriesTable(this.progress.nodes, 'node', [
        { head: 'batch', cell: (n) => (n as NodeReport).batch },
        { head: 'sessions left', cell: (n) => (n as NodeReport).sessionsLeft },
        { head: 'changes', cell: (n) => n.changes.length },
      ]),
    ]);
  }

  /** The run's own phase (waiting, done): the Phase attribute and the progress say the same. */
  runPhase(value: string) {
    this.progress.phase = value;
    upsertSearchAttributes([{ key: Phase, value }]);
  }

  finish(r: NodeReport, outcome: NodeOutcome, reason?: string) {
    r.outcome = outcome;
    r.reason = reason;
    r.summary = reason;
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
        for (const k of Object.keys(recap) as (keyof HostRecap)[])
          out.recap[node.name][k] = (out.recap[node.name][k] ?? 0) + (recap[k] ?? 0);
        if (recap.failed || recap.unreachable) break; // as a play stops a failed host
      }
      return out;
    } finally {
      r.timings.actionMs += Date.now() - t;
    }
  }
}
