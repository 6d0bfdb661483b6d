import { ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import Table from 'cli-table3';
import { ClusterName, Operation, Phase, TargetHosts } from '../common/search-attributes';
import type { TemporalSettings } from './connection';
import type { StartableOperation } from './nodes';
import type { ConfigDriftResult } from '../workflows/config-drift';

// Temporal Schedules for recurring operations (rolling maintenance on Sunday nights). The workflow
// input is resolved from the spec when the schedule is created, so every run does what
// `describe` shows; after editing the spec, create the schedule again.

export interface ScheduleOptions {
  cron: string;
  timezone: string;
  /** How long after a missed time (Temporal down) a run may still start. */
  catchupWindow: string;
  note?: string;
  id?: string;
}

export function scheduleIdFor(op: StartableOperation): string {
  return `${op.operation}/${op.cluster}`;
}

export async function createSchedule(
  client: Client,
  settings: TemporalSettings,
  op: StartableOperation,
  options: ScheduleOptions,
): Promise<string> {
  const scheduleId = options.id ?? scheduleIdFor(op);
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: [options.cron], timezone: options.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: op.workflowType,
      taskQueue: settings.taskQueue,
      // Temporal appends the scheduled time, keeping IDs readable: rolling-maintenance/prod/2026-11-29T02:00:00Z
      workflowId: scheduleId,
      args: [op.input],
      typedSearchAttributes: [
        { key: ClusterName, value: op.cluster },
        { key: Operation, value: op.operation },
        { key: TargetHosts, value: op.hosts },
        { key: Phase, value: 'queued' },
      ],
      staticSummary: `${op.summary} (scheduled)`,
    },
    policies: {
      // A maintenance still running when the next one is due: skip the new one, never overlap.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: options.catchupWindow as Duration,
      // A failed maintenance stops the schedule until a human has looked (unpause).
      pauseOnFailure: true,
    },
    state: { note: options.note ?? `created by clusterflow for ${op.cluster}` },
    // Temporal turns the cron line into calendar specs; keep the operator's own words for describe.
    memo: { cron: options.cron },
  });
  return scheduleId;
}

export interface ScheduleSummary {
  id: string;
  operation?: string;
  cluster?: string;
  paused: boolean;
  note?: string;
  next?: string;
  cron?: string;
  timezone?: string;
  recent: { scheduledAt: string; workflowId: string }[];
  /**
   * config-drift schedules (the sync): per node, the newest time a run found or made it equal to
   * the reference, from the recent runs' results.
   */
  lastSynchronized?: Record<string, string>;
}

export function summarize(d: ScheduleDescription): ScheduleSummary {
  const action = d.action as { workflowId?: string };
  return {
    id: d.scheduleId,
    operation: action.workflowId?.split('/')[0],
    cluster: action.workflowId?.split('/')[1],
    paused: d.state.paused,
    note: d.state.note,
    next: d.info.nextActionTimes[0]?.toISOString(),
    cron: (d.memo as { cron?: string } | undefined)?.cron,
    timezone: d.spec.timezone,
    recent: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

/** The summary, with each node's last synchronized time for a config-drift schedule. */
export async function describeSchedule(client: Client, id: string): Promise<ScheduleSummary> {
  const s = summarize(await client.schedule.getHandle(id).describe());
  if (s.operation !== 'config-drift') return s;
  s.lastSynchronized = {};
  // Newest first; a run still going or failed says nothing about when a node was last in step.
  for (const r of [...s.recent].reverse()) {
    const handle = client.workflow.getHandle(r.workflowId);
    if ((await handle.describe()).status.name !== 'COMPLETED') continue;
    const result = (await handle.result()) as ConfigDriftResult;
    for (const [node, at] of Object.entries(result.synchronized ?? {}))
      if (!s.lastSynchronized[node]) s.lastSynchronized[node] = at;
  }
  return s;
}

export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    out.push(summarize(await client.schedule.getHandle(s.scheduleId).describe()));
  }
  return out;
}

export function renderSchedules(list: ScheduleSummary[]): string {
  if (!list.length) return 'no schedules';
  const table = new Table({ head: ['schedule', 'state', 'cron', 'next run', 'note'] });
  for (const s of list)
    table.push([
      s.id,
      s.paused ? 'PAUSED' : 'active',
      `${s.cron ?? '?'} ${s.timezone ?? 'UTC'}`,
      s.next ?? '-',
      s.note ?? '',
    ]);
  return table.toString();
}

export function renderSchedule(s: ScheduleSummary): string {
  return [
    `schedule ${s.id}: ${s.paused ? 'PAUSED' : 'active'}`,
    `  operation: ${s.operation ?? '?'} on ${s.cluster ?? '?'}`,
    `  cron:      ${s.cron ?? '?'} (${s.timezone ?? 'UTC'})`,
    `  next run:  ${s.next ?? '-'}`,
    `  note:      ${s.note ?? ''}`,
    `  recent runs:${s.recent.length ? '' : ' none'}`,
    ...s.recent.map((r) => `    ${r.scheduledAt}  ${r.workflowId}`),
    ...(s.lastSynchronized
      ? [
          `  last synchronized:${Object.keys(s.lastSynchronized).length ? '' : ' never'}`,
          ...Object.entries(s.lastSynchronized).map(([node, at]) => `    ${node}  ${at}`),
        ]
      : []),
  ].join('\n');
}
