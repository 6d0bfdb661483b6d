import type { Client, WorkflowHandle } from '@temporalio/client';
import { startOperation, type TemporalSettings } from '../../../client/connection';
import type { StartableOperation } from '../../../client/nodes';
import type { ChaosLab } from '../lab';

// What every entry of the matrix provides (prepare, start, check, re-run, restore) and what it is
// given to do so, with the two ways of starting an operation the entries share.

export interface OperationContext {
  lab: ChaosLab;
  client: Client;
  settings: TemporalSettings;
  /** Runs an operation a preparation needs (on a worker of its own) and returns its result. */
  settle(start: () => Promise<WorkflowHandle>): Promise<unknown>;
}

/** What `prepare` found or set up, for `start` and the checks (e.g. the switchover's candidate). */
export type Prepared = Record<string, string>;

export interface ChaosOperation {
  name: string;
  /** How the cluster is brought back between runs, for the report. */
  reset: string;
  prepare(ctx: OperationContext): Promise<Prepared>;
  start(ctx: OperationContext, prep: Prepared): Promise<WorkflowHandle>;
  /** Where the operation's own result and the hosts disagree (empty: they agree). */
  resultMatches(result: unknown, ctx: OperationContext, prep: Prepared): Promise<string[]>;
  /**
   * Runs it again on the converged cluster: what that run changed (empty: nothing), optionally with
   * what it did instead (a refusal) for the report; or why n/a.
   */
  rerun:
    | ((ctx: OperationContext, prep: Prepared) => Promise<string[] | { changes: string[]; detail: string }>)
    | { notApplicable: string };
  /** The host whose network the netcut fault takes away mid-run. */
  netcutTarget(prep: Prepared): string;
  /** What the run reported beyond plain success (failed nodes, an abort), for the table's note. */
  summary?(result: unknown): string;
  /** Nodes the operation reported as deliberately left out of the LB, with the reason. */
  leftOut?(result: unknown): Record<string, string>;
  /** Whether nodes are drained (the lbreload fault only makes sense then). */
  drains: boolean;
  /** Database members the operation leaves fenced by design (a failover's old primary). */
  fenced?(prep: Prepared): string[];
  /** The cluster's nodes once the operation is done (default: the demo's three). */
  nodes?(prep: Prepared): string[];
  /** After the checks: back to the demo's shape, so the next operation's checks start from it. */
  restore?(ctx: OperationContext): Promise<void>;
}

export const startSpec = (ctx: OperationContext, op: StartableOperation) =>
  startOperation(ctx.client, ctx.settings, op) as Promise<WorkflowHandle>;

export const execute = async <T>(ctx: OperationContext, prep: Prepared, op: ChaosOperation): Promise<T> =>
  (await (await op.start(ctx, prep)).result()) as T;
