import type { MemberState, Topology } from './db';
import { errantGtids } from './gtid';

/** What a member has binlogged, in the form errant-transaction checks compare. */
export function positionForErrantCheck(m: MemberState): string {
  return (m.flavour === 'mariadb' ? m.gtidBinlogState : m.gtidExecuted) ?? '';
}

/** What a member's own transactions carry: server_id (MariaDB) or server_uuid (MySQL). */
export function originOf(m: MemberState): string | undefined {
  return m.flavour === 'mysql' ? m.serverUuid : m.serverId !== undefined ? String(m.serverId) : undefined;
}

/**
 * Who is primary, who replicates from whom, and what is wrong, from probes of every member.
 * The primary is the one writable member; failing that, the one member others replicate from
 * that replicates from nobody (then a problem says it is read-only).
 */
export function analyseTopology(cluster: string, members: MemberState[]): Topology {
  const reachable = members.filter((m) => m.reachable);
  const byAddress = new Map(members.map((m) => [m.address, m.name]));
  const writable = reachable.filter((m) => m.readOnly === false).map((m) => m.name);
  const problems: string[] = [];
  for (const m of members)
    if (!m.reachable) problems.push(`${m.name} is unreachable: ${m.error ?? 'no answer'}`);
  if (writable.length > 1) problems.push(`several members are writable: ${writable.join(', ')}`);

  let primary: string | undefined;
  if (writable.length === 1) primary = writable[0];
  else {
    const sources = new Set(
      reachable.map((m) => (m.replica ? byAddress.get(m.replica.sourceHost) : undefined)).filter(Boolean),
    );
    const roots = reachable.filter((m) => !m.replica && sources.has(m.name));
    if (roots.length === 1) primary = roots[0].name;
    if (writable.length === 0 && reachable.length) {
      problems.push(primary ? `the primary ${primary} is read-only` : 'no member is writable');
    }
  }
  const primaryState = members.find((m) => m.name === primary);
  if (primaryState?.replica) problems.push(`the writable member ${primary} is itself a replica`);

  const replicas = reachable
    .filter((m) => m.name !== primary)
    .map((m) => {
      const source = m.replica ? (byAddress.get(m.replica.sourceHost) ?? m.replica.sourceHost) : undefined;
      const errant =
        primaryState?.reachable && m.flavour
          ? errantGtids(
              m.flavour,
              positionForErrantCheck(m),
              positionForErrantCheck(primaryState),
              originOf(primaryState),
            )
          : [];
      if (!m.replica) problems.push(`${m.name} does not replicate`);
      else {
        if (primary && source !== primary)
          problems.push(`${m.name} replicates from ${source}, not ${primary}`);
        if (m.replica.ioState !== 'running' || !m.replica.sqlRunning) {
          const why = m.replica.lastIoError || m.replica.lastSqlError;
          problems.push(
            `${m.name}: replication io ${m.replica.ioState}, sql ${m.replica.sqlRunning ? 'running' : 'stopped'}${why ? `: ${why}` : ''}`,
          );
        }
      }
      if (errant.length) problems.push(`${m.name} has errant transactions: ${errant.join(', ')}`);
      return {
        name: m.name,
        source,
        ioState: m.replica?.ioState,
        sqlRunning: m.replica?.sqlRunning,
        lagSeconds: m.replica?.lagSeconds,
        errant,
      };
    });
  return { cluster, primary, writable, members, replicas, problems };
}
