import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ClusterName, Operation, Phase, TargetHosts } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUE } from '../common/task-queue';

/** Where Temporal is, from flags first and then the environment variables the temporal CLI uses. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
}

export function temporalSettings(flags: Partial<TemporalSettings> = {}): TemporalSettings {
  return {
    address: flags.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: flags.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: flags.taskQueue ?? process.env.CLUSTERFLOW_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    uiUrl: (flags.uiUrl ?? process.env.CLUSTERFLOW_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, ''),
  };
}

export class TemporalUnreachable extends Error {
  constructor(address: string, cause: unknown) {
    super(`cannot reach Temporal at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'TemporalUnreachable';
  }
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: settings.address, connectTimeout: 5000 });
    return new Client({ connection, namespace: settings.namespace });
  } catch (err) {
    throw new TemporalUnreachable(settings.address, err);
  }
}

/** The Web UI page of one workflow execution. */
export function workflowUiLink(settings: TemporalSettings, workflowId: string, runId?: string): string {
  const base = `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

/** Workflow IDs an operator can read in a list: `<operation>/<cluster>/<start time>`. */
export function workflowId(operation: string, cluster: string, at = new Date()): string {
  return `${operation}/${cluster}/${at.toISOString()}`;
}

/** Waits until some worker polls `taskQueue`, so a workflow started next is picked up at once. */
export async function waitForWorker(settings: TemporalSettings, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect({ address: settings.address });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue },
      });
      if (pollers.length > 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no worker polled task queue ${settings.taskQueue} within ${timeoutMs / 1000} s`);
  } finally {
    await connection.close();
  }
}

/**
 * Starts an operation the way every CLI command does: a readable workflow ID, the search
 * attributes operators filter by, and a one-line summary for the UI.
 */
export function startOperation<A>(
  client: Client,
  settings: TemporalSettings,
  op: {
    operation: string;
    workflowType: string;
    cluster: string;
    hosts: string[];
    input: A;
    summary: string;
  },
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return client.workflow.start(op.workflowType, {
    taskQueue: settings.taskQueue,
    workflowId: workflowId(op.operation, op.cluster),
    args: [op.input],
    typedSearchAttributes: [
      { key: ClusterName, value: op.cluster },
      { key: Operation, value: op.operation },
      { key: TargetHosts, value: op.hosts },
      { key: Phase, value: 'queued' },
    ],
    staticSummary: op.summary,
  });
}
