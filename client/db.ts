import Table from 'cli-table3';
import type { Client } from '@temporalio/client';
import type { DatabaseInput, Topology } from '../common/db';
import type { DbOperationResult } from '../workflows/db';
import { startOperation, type TemporalSettings } from './connection';

/** CLI operation name -> workflow type. */
export const DB_OPERATIONS = {
  bootstrap: { operation: 'replication-bootstrap', workflowType: 'replicationBootstrap' },
  status: { operation: 'db-topology', workflowType: 'dbTopology' },
  switchover: { operation: 'db-switchover', workflowType: 'dbSwitchover' },
  failover: { operation: 'db-failover', workflowType: 'dbFailover' },
  rejoin: { operation: 'db-rejoin', workflowType: 'dbRejoin' },
} as const;

export type DbCommand = keyof typeof DB_OPERATIONS;

export function startDbOperation(
  client: Client,
  settings: TemporalSettings,
  command: DbCommand,
  input: DatabaseInput & { candidate?: string; member?: string; canary?: 'auto' | 'always' },
) {
  const { operation, workflowType } = DB_OPERATIONS[command];
  const extra = [input.candidate, input.member].filter(Boolean);
  return startOperation(client, settings, {
    operation,
    workflowType,
    cluster: input.cluster,
    hosts: input.members.map((m) => m.name),
    input,
    summary: `${operation} on ${input.cluster}${extra.length ? ` (${extra.join(', ')})` : ''}: ${input.members.map((m) => m.name).join(', ')}`,
  });
}

export function renderTopology(t: Topology): string {
  const table = new Table({
    head: ['member', 'role', 'read_only', 'source', 'io', 'sql', 'lag', 'gtid', 'errant'],
  });
  for (const m of t.members) {
    const r = t.replicas.find((x) => x.name === m.name);
    table.push([
      m.name,
      !m.reachable ? 'UNREACHABLE' : m.name === t.primary ? 'primary' : m.replica ? 'replica' : '-',
      m.reachable ? (m.readOnly ? 'ON' : 'OFF') : '',
      r?.source ?? '',
      r?.ioState ?? '',
      r?.sqlRunning === undefined ? '' : r.sqlRunning ? 'running' : 'stopped',
      r?.lagSeconds === undefined || r.lagSeconds === null ? '' : `${r.lagSeconds}s`,
      m.gtidExecuted ?? '',
      r?.errant.join(', ') ?? '',
    ]);
  }
  const health = t.problems.length ? `problems:\n  ${t.problems.join('\n  ')}` : 'healthy';
  return `cluster ${t.cluster}: primary ${t.primary ?? 'NONE'}\n${table.toString()}\n${health}`;
}

/** The Ansible-style recap: what changed on each member, then notes and timings. */
export function renderDbResult(r: DbOperationResult): string {
  const lines = [
    `${r.operation} on ${r.cluster}: primary ${r.primary ?? '?'}${r.previousPrimary ? ` (was ${r.previousPrimary})` : ''}`,
  ];
  for (const [host, changes] of Object.entries(r.hosts)) {
    lines.push(`${host.padEnd(16)} ${changes.length ? `changed=${changes.length}` : 'ok'}`);
    for (const c of changes) lines.push(`  - ${c}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  const timings = Object.entries(r.timings);
  if (timings.length) lines.push(`timings: ${timings.map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  return lines.join('\n');
}
