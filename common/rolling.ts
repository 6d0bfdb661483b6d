import type { Maintenance } from './lb';
import { emptyRecap, overFailureBudget, type HostRecap } from './play';

// Rolling maintenance's policy between batches: when to hold for an approval, when to stop, how a
// node's outcome counts. Pure; the workflow keeps the clock, the signals and the nodes.

/** A node that failed, also when policy left it out of the LB: both use up the failure budget. */
export const countsAsFailed = (outcome?: string): boolean =>
  outcome === 'failed' || outcome === 'left-drained';

/** Whether batch `batch` (from 0) waits for the operator's approve signal before it starts. */
export function approvalDue(approve: Maintenance['approve'], batch: number): boolean {
  return approve === 'each' || (approve === 'first' && batch === 0);
}

/**
 * Why the run stops after batch `batch` (from 0) of `batches`, or undefined to go on. The budget
 * counts the nodes failed so far against every node of the run; after the last batch there is
 * nothing left to stop.
 */
export function reasonToStop(after: {
  batch: number;
  batches: number;
  failed: number;
  nodes: number;
  maxFailPercentage: number;
  aborting: boolean;
}): string | undefined {
  if (after.batch >= after.batches - 1) return undefined;
  if (overFailureBudget(after.failed, after.nodes, after.maxFailPercentage))
    return `${after.failed} of ${after.nodes} nodes failed, over the failure budget (maxFailPercentage ${after.maxFailPercentage})`;
  if (after.aborting) return 'aborted by operator';
  return undefined;
}

/** The recap operators read first: per node ok, failed or skipped (not run counts as skipped), and its changes. */
export function rollingRecap(
  nodes: readonly { node: string; outcome?: string; changes: readonly string[] }[],
): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  for (const r of nodes) {
    const h = (recap[r.node] ??= emptyRecap());
    if (countsAsFailed(r.outcome)) h.failed++;
    else if (r.outcome === 'skipped' || r.outcome === 'not-run') h.skipped++;
    else h.ok++;
    h.changed += r.changes.length;
  }
  return recap;
}
