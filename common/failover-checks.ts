import type { DbMember, DbSettings, Flavour, MemberState } from './db';
import { positionForErrantCheck } from './db-topology';
import { errantGtids, mostAdvanced } from './gtid';

// The failover's decisions, from probes: who the primary is, whether it is down beyond doubt,
// and whom to promote. Pure: the workflow feeds them its probes and its clock.

/** Whom the replicas that answer replicate from: the primary, as they see it. */
export function primaryByReplicas(
  members: Pick<DbMember, 'name' | 'address'>[],
  states: MemberState[],
): string | undefined {
  const byAddress = new Map(members.map((m) => [m.address, m.name]));
  return states
    .flatMap((s) => (s.reachable && s.replica ? [byAddress.get(s.replica.sourceHost)] : []))
    .find(Boolean);
}

/** How long confirming the primary is down may take: seconds, and the checks they make. */
export function confirmationBudget(settings: {
  failover: Pick<DbSettings['failover'], 'checks' | 'intervalSeconds'>;
  replication: Pick<DbSettings['replication'], 'netTimeoutSeconds'>;
}): {
  seconds: number;
  checks: number;
} {
  const f = settings.failover;
  const seconds = f.checks * f.intervalSeconds + settings.replication.netTimeoutSeconds * 2 + 5;
  return { seconds, checks: Math.ceil(seconds / f.intervalSeconds) };
}

/** What the checks so far add up to. */
export interface Confirmation {
  /** Whom the replicas named as their source; undefined until one has. */
  knownPrimary?: string;
  /** The primary being confirmed down: the known one, or until then the spec's. */
  primary: string;
  checksMade: number;
  /** Checks made while no replica answered: they do not use up the budget. */
  checksWaiting: number;
  /** Since when no replica has answered (workflow clock, ms). */
  waitingSince?: number;
  /** Consecutive checks in which the worker missed the primary. */
  confirmations: number;
  /** Why the last check did not confirm: the refusal says it. */
  lastDoubt: string;
}

export interface ConfirmationRules {
  cluster: string;
  failover: Pick<DbSettings['failover'], 'checks' | 'replicaWaitSeconds'>;
  /** The budget in checks (confirmationBudget), and as a clock deadline for histories from before. */
  checksAllowed: number;
  deadline: number;
  /** patched('failover-confirm-budget-in-checks') */
  budgetInChecks: boolean;
  /** patched('failover-waits-for-a-replica') */
  waitsForReplica: boolean;
}

/** Before the first check: the primary the replicas name, or the spec's. */
export function startConfirmation(
  members: Pick<DbMember, 'name' | 'address'>[],
  states: MemberState[],
  specPrimary: string,
): Confirmation {
  const knownPrimary = primaryByReplicas(members, states);
  return {
    knownPrimary,
    primary: knownPrimary ?? specPrimary,
    checksMade: 0,
    checksWaiting: 0,
    confirmations: 0,
    lastDoubt: '',
  };
}

export type CheckVerdict =
  { verdict: 'confirmed' } | { verdict: 'check-again' } | { verdict: 'refuse'; message: string };

/**
 * One check of the primary, from one probe of every member at `now`: confirmed down, check
 * again, or refuse. `note` is for the operator's log, before the verdict is acted on.
 */
export function judgeCheck(
  before: Confirmation,
  states: MemberState[],
  members: Pick<DbMember, 'name' | 'address'>[],
  rules: ConfirmationRules,
  now: number,
): CheckVerdict & { confirmation: Confirmation; note?: string } {
  const f = rules.failover;
  const c: Confirmation = { ...before, checksMade: before.checksMade + 1 };
  if (rules.waitsForReplica && !c.knownPrimary) {
    c.knownPrimary = primaryByReplicas(members, states);
    if (c.knownPrimary) c.primary = c.knownPrimary;
  }
  const byAddress = new Map(members.map((m) => [m.address, m.name]));
  const old = states.find((s) => s.name === c.primary) as MemberState;
  if (old.reachable && old.readOnly === false)
    return {
      verdict: 'refuse',
      message: `refused: the primary ${c.primary} answers and is writable; use db switchover for a planned change`,
      confirmation: c,
    };
  const answering = states.filter((s) => s.reachable && s.name !== c.primary);
  if (rules.waitsForReplica && (!c.knownPrimary || !answering.length)) {
    c.waitingSince ??= now;
    if (now - c.waitingSince >= f.replicaWaitSeconds * 1000)
      return {
        verdict: 'refuse',
        message: `refused: no replica of ${rules.cluster} answered for ${f.replicaWaitSeconds} s (failover.replicaWaitSeconds); nobody to promote, nothing was changed`,
        confirmation: c,
      };
    // the worker's misses count again, from none, once a replica answers with it
    c.confirmations = 0;
    c.checksWaiting++;
    c.lastDoubt = 'no replica answers';
    return { verdict: 'check-again', confirmation: c };
  }
  const note =
    c.waitingSince !== undefined
      ? `no replica answered for ${Math.round((now - c.waitingSince) / 1000)} s; waited`
      : undefined;
  c.waitingSince = undefined;
  const stillConnected = states.filter(
    (s) =>
      s.reachable && s.replica?.ioState === 'running' && byAddress.get(s.replica.sourceHost) === c.primary,
  );
  // The worker must miss the primary in `checks` consecutive checks, and at the last of them
  // no replica may still receive from it: a primary only the worker cannot see is a
  // partition between the two, not a dead primary.
  if (old.reachable) {
    c.confirmations = 0;
    c.lastDoubt = `${c.primary} answers (read-only)`;
  } else c.confirmations++;
  if (stillConnected.length)
    c.lastDoubt = `${stillConnected.map((s) => s.name).join(', ')} still receive from ${c.primary}`;
  if (c.confirmations >= f.checks && !stillConnected.length)
    return { verdict: 'confirmed', confirmation: c, note };
  if (rules.budgetInChecks ? c.checksMade - c.checksWaiting >= rules.checksAllowed : now > rules.deadline)
    return {
      verdict: 'refuse',
      message: `refused: could not confirm ${c.primary} is down in ${c.checksMade} checks (${c.lastDoubt || `missed by ${c.confirmations} consecutive checks of the ${f.checks} needed`}); nothing was changed`,
      confirmation: c,
      note,
    };
  return { verdict: 'check-again', confirmation: c, note };
}

export type Choice = { newPrimary: string; flavour: Flavour; position: string } | { refused: string };

/**
 * Whom to promote among the replicas that answer, once they applied what they received: the most
 * advanced, or the operator's candidate if it lacks nothing the most advanced has. `position` is
 * the most advanced one's.
 */
export function chooseNewPrimary(ready: MemberState[], candidate?: string): Choice {
  const flavour = ready[0].flavour ?? 'mariadb';
  const ranked = ready.map((s) => ({ name: s.name, position: s.gtidExecuted ?? '' }));
  const best = mostAdvanced(flavour, ranked) as { name: string; position: string };
  if (!candidate || candidate === best.name)
    return { newPrimary: best.name, flavour, position: best.position };
  if (!ranked.some((r) => r.name === candidate))
    return { refused: `refused: ${candidate} is not a reachable replica` };
  const missing = errantGtids(
    flavour,
    positionForErrantCheck(ready.find((s) => s.name === best.name) as MemberState),
    positionForErrantCheck(ready.find((s) => s.name === candidate) as MemberState),
  );
  if (missing.length)
    return {
      refused: `refused: ${candidate} lacks ${missing.join(', ')} that ${best.name} has; promoting it would lose them`,
    };
  return { newPrimary: candidate, flavour, position: best.position };
}
