import { innermostCause } from '../common/errors';
import { entryLine, type OperationProgress } from '../common/progress';
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import Table from 'cli-table3';
import { ClusterName, Operation, Phase, TargetHosts } from '../common/search-attributes';

// `list` and `status`: what runs where, read from Temporal's visibility by the search attributes
// every clusterflow workflow carries (ClusterName, Operation, TargetHosts, Phase).

export interface WorkflowRow {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  started?: string;
  closed?: string;
  cluster?: string;
  operation?: string;
  phase?: string;
  hosts?: string[];
}

const SAFE = /^[A-Za-z0-9_.:/-]+$/;

/** A visibility query from filters; values are checked so they cannot change the query. */
export function listQuery(filters: { cluster?: string; operation?: string; running?: boolean }): string {
  const parts: string[] = [];
  for (const [attr, value] of [
    ['ClusterName', filters.cluster],
    ['Operation', filters.operation],
  ] as const) {
    if (value === undefined) continue;
    if (!SAFE.test(value))
      throw new Error(
        `--${attr === 'ClusterName' ? 'cluster' : 'operation'}: "${value}" has characters a name cannot have`,
      );
    parts.push(`${attr} = "${value}"`);
  }
  if (filters.running) parts.push('ExecutionStatus = "Running"');
  return parts.join(' AND ');
}

function row(info: Omit<WorkflowExecutionInfo, 'raw'>): WorkflowRow {
  const sa = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    started: info.startTime?.toISOString(),
    closed: info.closeTime?.toISOString(),
    cluster: sa.get(ClusterName),
    operation: sa.get(Operation),
    phase: sa.get(Phase),
    hosts: sa.get(TargetHosts),
  };
}

export async function listWorkflows(
  client: Client,
  filters: { cluster?: string; operation?: string; running?: boolean; limit?: number },
): Promise<WorkflowRow[]> {
  const rows: WorkflowRow[] = [];
  // Only clusterflow's own workflows carry an Operation: children and locks stay out of the list.
  const query = [listQuery(filters), 'Operation IS NOT NULL'].filter(Boolean).join(' AND ');
  for await (const info of client.workflow.list({ query })) {
    rows.push(row(info));
    if (rows.length >= (filters.limit ?? 50)) break;
  }
  return rows;
}

export interface WorkflowStatus extends WorkflowRow {
  summary?: string;
  /** A running operation's progress: the one shape every operation answers. */
  progress?: OperationProgress;
  result?: unknown;
  failure?: string;
}

export async function workflowStatus(client: Client, workflowId: string): Promise<WorkflowStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const d: WorkflowExecutionDescription = await handle.describe();
  const status: WorkflowStatus = { ...row(d), summary: await d.staticSummary() };
  if (d.status.name === 'RUNNING') {
    // Operations with live progress answer the `progress` query; others simply have none.
    status.progress = await handle.query<OperationProgress>('progress').catch(() => undefined);
  } else if (d.status.name === 'COMPLETED') {
    status.result = await handle.result();
  } else if (d.status.name === 'FAILED') {
    status.failure = await handle.result().then(
      () => undefined,
      (err: Error) => innermostCause(err).message,
    );
  }
  return status;
}

export function renderList(rows: WorkflowRow[]): string {
  if (rows.length === 0) return 'no workflows match';
  const table = new Table({ head: ['workflow ID', 'status', 'phase', 'started', 'hosts'], wordWrap: true });
  for (const r of rows)
    table.push([r.workflowId, r.status, r.phase ?? '', r.started ?? '', (r.hosts ?? []).join(', ')]);
  return table.toString();
}

export function renderStatus(s: WorkflowStatus): string {
  return [
    `${s.workflowId} (${s.type})`,
    `  status:  ${s.status}${s.phase ? `, phase ${s.phase}` : ''}`,
    s.summary ? `  summary: ${s.summary}` : '',
    `  started: ${s.started ?? ''}${s.closed ? `, closed ${s.closed}` : ''}`,
    s.hosts?.length ? `  hosts:   ${s.hosts.join(', ')}` : '',
    ...(s.progress?.entries
      ? [
          `  progress: ${s.progress.done}/${s.progress.total} ${s.progress.phase}`,
          ...s.progress.entries.map((e) => `    ${entryLine(e)}`),
        ]
      : []),
    s.failure ? `  failure: ${s.failure}` : '',
    s.result !== undefined ? `  result:  ${JSON.stringify(s.result).slice(0, 2000)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
