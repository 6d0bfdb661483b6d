import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { escape as sqlEscape } from 'mysql2';
import type { DbContext } from './context';

/** Past failovers, from Temporal's visibility (anti-flapping). */
export function failoverHistoryActivities({ temporal }: DbContext) {
  return {
    /** Completed failovers of this cluster that closed within the window (anti-flapping). */
    async dbRecentFailovers(input: {
      cluster: string;
      withinSeconds: number;
      excludeWorkflowId: string;
    }): Promise<{ workflowId: string; closedAt: string }[]> {
      if (!temporal)
        throw ApplicationFailure.nonRetryable(
          'the worker has no Temporal client for visibility queries',
          FailureTypes.WorkerMisconfigured,
        );
      const since = new Date(Date.now() - input.withinSeconds * 1000).toISOString();
      const found: { workflowId: string; closedAt: string }[] = [];
      const query =
        `WorkflowType = 'dbFailover' AND ClusterName = ${sqlEscape(input.cluster)} ` +
        `AND ExecutionStatus = 'Completed' AND CloseTime > '${since}'`;
      for await (const wf of temporal.workflow.list({ query })) {
        if (wf.workflowId !== input.excludeWorkflowId)
          found.push({ workflowId: wf.workflowId, closedAt: wf.closeTime?.toISOString() ?? '' });
      }
      return found;
    },
  };
}
