import Table from 'cli-table3';
import type { Client } from '@temporalio/client';
import type { FactsInput, FactsResult, HostFactsOutcome } from '../common/facts';
import { startOperation, type TemporalSettings } from './connection';

export function startFacts(client: Client, settings: TemporalSettings, input: FactsInput) {
  return startOperation(client, settings, {
    operation: 'facts',
    workflowType: 'facts',
    cluster: input.cluster,
    hosts: input.hosts.map((h) => h.name),
    input,
    summary: `facts: ${input.hosts.length} host(s) of cluster ${input.cluster}`,
  });
}

/** Installed products in short form (`mariadb`, `glusterfs`), `*` marking a running service. */
function software(o: HostFactsOutcome): string {
  return Object.entries(o.facts?.software ?? {})
    .filter(([, s]) => s.installed)
    .map(([name, s]) => `${name.replace(/-(server|kernel-server)$/, '')}${s.active === 'active' ? '*' : ''}`)
    .filter((name, i, all) => all.indexOf(name) === i)
    .join(' ');
}

/** A per-host table: what an operator checks first. `*` marks a running service. */
export function renderFactsTable(result: FactsResult): string {
  const table = new Table({
    head: ['host', 'status', 'os', 'kernel', 'init', 'cpus', 'mem MB', 'addresses', 'installed (* running)'],
    wordWrap: true,
    colWidths: [null, null, null, null, null, null, null, null, 36],
    style: { head: [], border: [] },
  });
  for (const o of result.hosts) {
    if (o.facts) {
      const f = o.facts;
      table.push([
        o.host,
        o.status,
        `${f.os.id} ${f.os.versionId}`,
        f.kernel,
        f.initSystem,
        f.cpuCount,
        f.memoryMb,
        f.ipv4.join(' '),
        software(o),
      ]);
    } else {
      table.push([o.host, o.status, { colSpan: 7, content: o.reason ?? '' }]);
    }
  }
  const s = result.summary;
  return `${table.toString()}\n${result.cluster}: ok=${s.ok} unreachable=${s.unreachable} failed=${s.failed}`;
}
