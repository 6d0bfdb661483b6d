import type { DbSettings, Topology } from './db';

// The switchover's pre-checks: from one probe of every member, whom to promote and everything
// that stands in the way. Pure, so the workflow reads as the runbook and the rules as tests.

/** The operator's choice, or the least-lagging replica of the primary that is healthy and clean. */
export function pickCandidate(topology: Topology, requested?: string): string | undefined {
  if (requested) return requested;
  const healthy = topology.replicas.filter(
    (r) => r.source === topology.primary && r.ioState === 'running' && r.sqlRunning && !r.errant.length,
  );
  return [...healthy].sort((a, b) => (a.lagSeconds ?? 1e9) - (b.lagSeconds ?? 1e9))[0]?.name;
}

export interface SwitchoverPlan {
  oldPrimary?: string;
  candidate?: string;
  /** The candidate is the primary already: nothing to do, nothing to check. */
  alreadyPrimary: boolean;
  /** Everything that blocks the switchover, in the operator's words; empty when it may go ahead. */
  problems: string[];
}

/** Whom to promote and what blocks it; `topology` is analyseTopology of the probes. */
export function switchoverPlan(
  topology: Topology,
  limits: Pick<DbSettings['switchover'], 'maxLagSeconds' | 'maxTransactionAgeSeconds'>,
  requestedCandidate?: string,
): SwitchoverPlan {
  const states = topology.members;
  const problems: string[] = [];
  for (const s of states) if (!s.reachable) problems.push(`${s.name} is unreachable: ${s.error}`);
  if (!topology.primary || topology.writable.length !== 1)
    problems.push(`no single writable primary (${topology.writable.join(', ') || 'none'})`);
  const oldPrimary = topology.primary;
  const candidate = pickCandidate(topology, requestedCandidate);
  if (oldPrimary && candidate === oldPrimary)
    return { oldPrimary, candidate, alreadyPrimary: true, problems: [] };

  const cand = states.find((s) => s.name === candidate);
  const candLink = topology.replicas.find((r) => r.name === candidate);
  if (!candidate || !cand)
    problems.push(
      `no healthy replica to promote (${topology.replicas.map((r) => `${r.name}: source ${r.source}, io ${r.ioState}, sql ${r.sqlRunning ? 'running' : 'stopped'}, errant ${r.errant.join(' ') || 'none'}`).join('; ')})`,
    );
  else if (!candLink || candLink.source !== oldPrimary)
    problems.push(`${candidate} is not a replica of the primary ${oldPrimary}`);
  else {
    if (candLink.errant.length)
      problems.push(`${candidate} has errant transactions: ${candLink.errant.join(', ')}`);
    if (!cand.logBin || !cand.logReplicaUpdates)
      problems.push(`${candidate} needs log_bin and log_slave_updates to serve the others`);
  }
  for (const r of topology.replicas) {
    if (r.ioState !== 'running' || !r.sqlRunning) problems.push(`${r.name}: replication not running`);
    else if ((r.lagSeconds ?? Infinity) > limits.maxLagSeconds)
      problems.push(`${r.name} lags ${r.lagSeconds} s (max ${limits.maxLagSeconds})`);
  }
  const old = states.find((s) => s.name === oldPrimary);
  if (old && (old.oldestTransactionSeconds ?? 0) > limits.maxTransactionAgeSeconds)
    problems.push(
      `${oldPrimary} has a transaction open for ${old.oldestTransactionSeconds} s (max ${limits.maxTransactionAgeSeconds})`,
    );
  return { oldPrimary, candidate, alreadyPrimary: false, problems };
}
