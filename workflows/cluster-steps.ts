import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatabaseInput } from '../common/db';
import { innermostCause, nonRetryableFailureTypes } from '../common/errors';
import type { NodesInput } from '../common/lb';
import type { LicenseInput } from '../common/license';
import { emptyRecap, type HostRecap, type PlayInput } from '../common/play';
import { entriesTable, type ProgressEntry, type ResultEnvelope } from '../common/progress';
import type { StorageInput } from '../common/storage';
import type { NodeJoinInput } from './node-operations';
import { answerProgress } from './progress';
import { showPhase } from './ui';

// What cluster-setup is made of: its input and result, the activity options of the steps it runs
// itself, and the book of its steps (each a progress entry, shown in the UI, recorded per host).

export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '10 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

export interface ClusterSetupInput {
  cluster: string;
  storage?: StorageInput;
  database?: DatabaseInput;
  /** Every node and the LB; `joins[0]` is the first node (the reference), the rest join in parallel. */
  nodes?: NodesInput & { joins: NodeJoinInput[]; joinConcurrency: number };
  /** Installs the LB itself (its frontend and an empty pool) before the members go in. */
  lbInstall?: PlayInput;
  license?: LicenseInput;
}

export type StepStatus = 'pending' | 'running' | 'ok' | 'changed' | 'failed' | 'skipped';

export interface SetupStep {
  step: string;
  status: StepStatus;
  /** The child workflow that did it, to open in the UI. */
  workflowId?: string;
  /** One line: what the step did. */
  summary: string;
  /** How long it took (workflow time). */
  ms?: number;
}

export interface Verification {
  check: string;
  ok: boolean;
  detail: string;
}

export interface ClusterSetupResult extends ResultEnvelope {
  operation: 'cluster-setup';
  ok: boolean;
  changed: boolean;
  steps: SetupStep[];
  /** Ansible-style, per host, over every step: changes counted one each, an untouched step as one ok. */
  recap: Record<string, HostRecap>;
  verification: Verification[];
  failures: string[];
}

/** A step as a progress entry: pending and running are where it is, the rest how it ended. */
function stepEntry(s: SetupStep): ProgressEntry {
  const finished = s.status !== 'pending' && s.status !== 'running';
  return {
    name: s.step,
    phase: finished ? 'finished' : s.status,
    outcome: finished ? s.status : undefined,
    changes: [],
    timings: s.ms === undefined ? {} : { totalMs: s.ms },
    summary: s.summary || undefined,
  };
}

export class Setup {
  readonly result: ClusterSetupResult;
  constructor(input: ClusterSetupInput, names: string[]) {
    this.result = {
      cluster: input.cluster,
      operation: 'cluster-setup',
      ok: true,
      changed: false,
      entries: [],
      steps: names.map((step) => ({ step, status: 'pending', summary: '' })),
      recap: {},
      verification: [],
      failures: [],
    };
    answerProgress(() => ({
      operation: 'cluster-setup',
      cluster: input.cluster,
      phase: this.phase,
      entries: this.result.steps.map(stepEntry),
      log: this.log,
      steps: this.result.steps,
    }));
  }

  step(name: string): SetupStep {
    return this.result.steps.find((s) => s.step === name) as SetupStep;
  }

  private phase = 'starting';
  private readonly log: string[] = [];

  show(phase: string): void {
    if (phase !== this.phase) this.log.push(phase);
    this.phase = phase;
    this.result.entries = this.result.steps.map(stepEntry);
    showPhase(phase, [
      entriesTable(this.result.entries, 'step', [{ head: 'what it did', cell: (e) => e.summary }]),
    ]);
  }

  /** One host's part in one step: `changes` counted as changed, none as one ok. */
  host(name: string, changes: number, failed = false): void {
    const r = (this.result.recap[name] ??= emptyRecap());
    if (failed) r.failed++;
    else if (changes) r.changed += changes;
    else r.ok++;
  }

  /** Runs one step; a failure is recorded, not thrown, so the recap shows how far the cluster got. */
  async run(
    name: string,
    childId: string | undefined,
    work: (s: SetupStep) => Promise<{ changed: boolean; summary: string; failed?: string }>,
  ): Promise<boolean> {
    const s = this.step(name);
    s.status = 'running';
    s.workflowId = childId;
    this.show(name);
    const started = Date.now();
    try {
      const r = await work(s);
      s.summary = r.summary;
      if (r.failed) throw new Error(r.failed);
      s.status = r.changed ? 'changed' : 'ok';
      if (r.changed) this.result.changed = true;
      return true;
    } catch (err) {
      // A cancelled setup ends cancelled (children cancelled, lock released), not "failed".
      if (isCancellation(err)) throw err;
      s.status = 'failed';
      const message = causeOf(err);
      s.summary ||= message;
      this.result.failures.push(`${name}: ${message}`);
      this.result.ok = false;
      return false;
    } finally {
      s.ms = Date.now() - started;
      this.result.entries = this.result.steps.map(stepEntry);
    }
  }

  skipRest(): void {
    for (const s of this.result.steps) if (s.status === 'pending') s.status = 'skipped';
    this.result.entries = this.result.steps.map(stepEntry);
  }
}

/** The innermost cause's message: a child's failure arrives wrapped as ChildWorkflowFailure. */
export const causeOf = (err: unknown): string => innermostCause(err).message;
