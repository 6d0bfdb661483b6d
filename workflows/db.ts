import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DbFailureTypes,
  endpointOf,
  nonRetryableDbFailures,
  type DatabaseInput,
  type DbEndpoint,
  type DbMember,
  type MemberState,
  type Topology,
} from '../common/db';
import { analyseTopology, originOf, positionForErrantCheck } from '../common/db-topology';
import { nonRetryableFailureTypes } from '../common/errors';
import { errantGtids, mostAdvanced } from '../common/gtid';
import { Phase } from '../common/search-attributes';
import { withClusterLock, type UnderLock } from './lock';

// Replication operations. Each step is one activity against one member; the order of steps is
// what keeps "at most one writable member" true at every moment, so it is spelled out here.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Short, so that a worker killed mid-step is noticed within seconds and the step re-run elsewhere.
  heartbeatTimeout: '8 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [
      ...nonRetryableFailureTypes,
      ...nonRetryableDbFailures,
      'CommandFailed',
      'ModuleFailed',
      'ReplicationBroken',
      'WorkerMisconfigured',
    ],
  },
});

/** Probes never fail (an unreachable member is a state), so one attempt each, quickly. */
const probeActs = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 2, initialInterval: '200 milliseconds' },
});

export interface DbProgress {
  operation: string;
  phase: string;
  /** What happened so far, oldest first: the operator's running log. */
  log: string[];
}

export const dbProgressQuery = defineQuery<DbProgress>('progress');
export const approveSignal = defineSignal('approve');
export const acknowledgeSignal = defineSignal('acknowledge');

export interface DbOperationResult {
  cluster: string;
  operation: string;
  primary?: string;
  previousPrimary?: string;
  changed: boolean;
  /** Per member: what was changed on it (empty: nothing). */
  hosts: Record<string, string[]>;
  notes: string[];
  /** Milliseconds from the start of the workflow at which key moments happened. */
  timings: Record<string, number>;
  topology?: Topology;
}

function tracker(operation: string, cluster: string, members: DbMember[]) {
  const progress: DbProgress = { operation, phase: 'starting', log: [] };
  setHandler(dbProgressQuery, () => progress);
  const started = Date.now();
  const result: DbOperationResult = {
    cluster,
    operation,
    changed: false,
    hosts: Object.fromEntries(members.map((m) => [m.name, []])),
    notes: [],
    timings: {},
  };
  return {
    progress,
    result,
    phase(name: string) {
      progress.phase = name;
      progress.log.push(`${name}`);
      upsertSearchAttributes([{ key: Phase, value: name }]);
    },
    changed(host: string, what: string) {
      (result.hosts[host] ??= []).push(what);
      result.changed = true;
      progress.log.push(`${host}: ${what}`);
    },
    note(text: string) {
      result.notes.push(text);
      progress.log.push(text);
    },
    mark(moment: string) {
      result.timings[moment] = Date.now() - started;
    },
  };
}

function secretRefs(input: DatabaseInput): { field: string; ref: string }[] {
  return [
    { field: 'database.admin.password', ref: input.settings.admin.password },
    { field: 'database.replication.password', ref: input.settings.replication.password },
    ...input.applications.map((a, i) => ({ field: `database.applications[${i}].password`, ref: a.password })),
  ];
}

function memberNamed(input: DatabaseInput, name: string): DbMember {
  return input.members.find((m) => m.name === name) as DbMember;
}

function endpointFor(input: DatabaseInput, name: string): DbEndpoint {
  return endpointOf(memberNamed(input, name), input.settings);
}

async function probeAll(input: DatabaseInput, timeoutMs?: number, skip?: string): Promise<MemberState[]> {
  return Promise.all(
    input.members
      .filter((m) => m.name !== skip)
      .map((m) => probeActs.dbProbe(endpointOf(m, input.settings), { timeoutMs })),
  );
}

function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, DbFailureTypes.Refused);
}

function precheckFailed(problems: string[]): never {
  throw ApplicationFailure.nonRetryable(
    `pre-checks failed, nothing was changed:\n- ${problems.join('\n- ')}`,
    DbFailureTypes.PrecheckFailed,
  );
}

async function updateAppConfig(
  input: DatabaseInput,
  primary: DbMember,
  t: ReturnType<typeof tracker>,
): Promise<void> {
  if (!input.appConfig.length) return;
  t.phase('app-config');
  for (const hook of input.appConfig) {
    await Promise.all(
      hook.hosts.map(async (host) => {
        const r = await acts.dbUpdateAppConfig({
          hook,
          host,
          primary: { name: primary.name, address: primary.address },
        });
        if (r.changed) t.changed(host.name, `${hook.path}: ${hook.key} -> ${primary.name}`);
      }),
    );
  }
}

/** After a promotion: every other member replicating from the new primary, app nodes told, recorded. */
async function verifyNewPrimary(
  input: DatabaseInput,
  newPrimary: string,
  others: string[],
  t: ReturnType<typeof tracker>,
): Promise<void> {
  t.phase('verify');
  const source = endpointFor(input, newPrimary).address;
  await Promise.all(
    others.map((name) =>
      acts.dbWaitReplicating({ endpoint: endpointFor(input, name), source, timeoutSeconds: 60 }),
    ),
  );
  t.mark('verified');
  await updateAppConfig(input, memberNamed(input, newPrimary), t);
  t.result.primary = newPrimary;
}

/** The seed's database procedure, idempotent: primary + replicas, accounts, initial copy, canary. */
export async function replicationBootstrap(
  input: DatabaseInput & UnderLock & { canary?: 'auto' | 'always' },
): Promise<DbOperationResult> {
  const t = tracker('replication-bootstrap', input.cluster, input.members);
  return withClusterLock(input, 'replication-bootstrap', async () => {
    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('mysqld');
    const admin = await Promise.all(
      input.members.map((m) =>
        acts.dbEnsureAdmin({ endpoint: ep(m.name), service: settings.config.service }),
      ),
    );
    admin.forEach(
      (a, i) => a.changed && t.changed(input.members[i].name, 'mysqld started, admin account ready'),
    );
    const flavours = new Set(admin.map((a) => a.flavour));
    if (flavours.size > 1)
      precheckFailed([
        `members run different servers: ${admin.map((a, i) => `${input.members[i].name} ${a.version}`).join(', ')}`,
      ]);
    if (settings.engine !== 'auto' && !flavours.has(settings.engine))
      precheckFailed([`database.engine is ${settings.engine} but the members run ${admin[0].version}`]);
    const service = (name: string) => admin[input.members.findIndex((m) => m.name === name)].service;

    // A topology already running with another primary (after a switchover or failover) is kept:
    // the spec's `primary` names where the cluster started, not where it must return.
    const before = analyseTopology(input.cluster, await probeAll(input));
    // Fresh servers are all writable; a running topology with two writable members is not ours to guess at.
    // A member that neither replicates nor feeds anyone is standalone (a new member): it may be writable.
    const linked = new Set(before.replicas.flatMap((r) => (r.source ? [r.name, r.source] : [])));
    if (before.writable.filter((w) => linked.has(w)).length > 1) precheckFailed(before.problems);
    let primaryName = input.primary;
    if (
      before.primary &&
      before.primary !== input.primary &&
      before.replicas.some((r) => r.source === before.primary)
    ) {
      primaryName = before.primary;
      t.note(`keeping the live primary ${primaryName} (the spec names ${input.primary})`);
    }
    const primary = input.members.find((m) => m.name === primaryName) as DbMember;
    const replicas = input.members.filter((m) => m.name !== primaryName);
    t.result.primary = primaryName;

    t.phase('configure');
    await Promise.all(
      input.members.map(async (m) => {
        const r = await acts.dbConfigure({
          endpoint: ep(m.name),
          serverId: m.serverId,
          settings,
          service: service(m.name),
        });
        if (r.restarted) t.changed(m.name, 'replication settings written, mysqld restarted');
      }),
    );
    // Replicas read-only before the primary takes writes: never two writable members.
    for (const r of replicas) {
      if ((await acts.dbSetReadOnly({ endpoint: ep(r.name), readOnly: true })).changed)
        t.changed(r.name, 'read_only on');
    }
    if ((await acts.dbSetReadOnly({ endpoint: ep(primaryName), readOnly: false })).changed)
      t.changed(primaryName, 'writable');

    t.phase('accounts');
    const passwords: Record<string, string> = {
      'database.replication.password': settings.replication.password,
    };
    const accounts = [
      ...input.members.map((m) => ({
        user: settings.replication.user,
        host: m.address,
        passwordField: 'database.replication.password',
        privileges: 'REPLICATION SLAVE',
        on: '*.*',
      })),
      ...input.applications.flatMap((a, i) => {
        passwords[`database.applications[${i}].password`] = a.password;
        return a.from.map((host) => ({
          user: a.user,
          host,
          passwordField: `database.applications[${i}].password`,
          privileges: a.privileges,
          on: `\`${a.database}\`.*`,
        }));
      }),
    ];
    await Promise.all(
      input.members.map(async (m) => {
        const r = await acts.dbEnsureAccounts({ endpoint: ep(m.name), accounts, passwords });
        for (const label of r.changed) t.changed(m.name, `account ${label}`);
      }),
    );
    const schemas = [...new Set(input.applications.map((a) => a.database))];
    if (schemas.length) {
      const r = await acts.dbEnsureSchemas({ endpoint: ep(primaryName), schemas });
      for (const s of r.created) t.changed(primaryName, `database ${s} created`);
    }

    t.phase('replicas');
    const states = await probeAll(input);
    const primaryState = states.find((s) => s.name === primaryName) as MemberState;
    const replication = settings.replication;
    await Promise.all(
      replicas.map(async (r) => {
        const state = states.find((s) => s.name === r.name) as MemberState;
        const link = state.replica;
        const source = { address: primary.address, port: settings.port };
        if (link && link.sourceHost === primary.address && link.ioState !== 'stopped' && link.sqlRunning) {
          // already replicating from the primary
        } else if (link && link.sourceHost === primary.address && state.gtidApplied && !link.lastSqlError) {
          // A stopped replica of ours with a position: start it again where it stopped.
          await acts.dbReplicate({ replica: ep(r.name), source, replication, mode: 'keep' });
          t.changed(r.name, 'replication restarted');
        } else if (!primaryState.userSchemas?.length) {
          if (replication.gtid) {
            await acts.dbReplicate({
              replica: ep(r.name),
              source,
              replication,
              mode: 'fresh',
              position: primaryState.gtidExecuted ?? '',
            });
          } else {
            const pos = await acts.dbBinlogPosition(ep(primaryName));
            await acts.dbReplicate({
              replica: ep(r.name),
              source,
              replication,
              mode: 'fresh',
              logFile: pos.file,
              logPos: pos.position,
            });
          }
          t.changed(r.name, `replicating from ${primaryName} (empty primary, from its current position)`);
        } else {
          // A replica already pointed at this primary without a position is an interrupted clone of
          // ours: cloning again (the dump drops and recreates each table) is safe.
          const interrupted = link?.sourceHost === primary.address;
          const own = state.userSchemas ?? [];
          if (own.length && !interrupted) {
            precheckFailed([
              `${r.name} already has databases (${own.join(', ')}) and does not replicate from ${primaryName}; clusterflow will not overwrite them`,
            ]);
          }
          const clone = await acts.dbCloneReplica({
            primary: ep(primaryName),
            replica: { replica: ep(r.name), source, replication, mode: 'fresh' },
            schemas: primaryState.userSchemas,
          });
          t.changed(r.name, `cloned from ${primaryName} (${clone.bytes} bytes streamed), replicating`);
        }
      }),
    );

    t.phase('verify');
    await Promise.all(
      replicas.map((r) =>
        acts.dbWaitReplicating({ endpoint: ep(r.name), source: primary.address, timeoutSeconds: 120 }),
      ),
    );
    if (replicas.length && (t.result.changed || input.canary === 'always')) {
      const canary = await acts.dbCanary({
        primary: ep(primaryName),
        replicas: replicas.map((r) => ep(r.name)),
        name: `clusterflow_canary_${uuid4().slice(0, 8)}`,
        timeoutSeconds: 60,
      });
      t.note(
        `canary database replicated to ${Object.entries(canary.replicatedMs)
          .map(([h, ms]) => `${h} in ${ms} ms`)
          .join(', ')} and dropped`,
      );
    }
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}

/** Who is primary, replicas, lag, positions, errant transactions: read-only, no lock. */
export async function dbTopology(input: DatabaseInput): Promise<Topology> {
  upsertSearchAttributes([{ key: Phase, value: 'probing' }]);
  const topology = analyseTopology(input.cluster, await probeAll(input));
  upsertSearchAttributes([{ key: Phase, value: 'done' }]);
  return topology;
}

function pickCandidate(topology: Topology, requested?: string): string | undefined {
  if (requested) return requested;
  const healthy = topology.replicas.filter(
    (r) => r.source === topology.primary && r.ioState === 'running' && r.sqlRunning && !r.errant.length,
  );
  return [...healthy].sort((a, b) => (a.lagSeconds ?? 1e9) - (b.lagSeconds ?? 1e9))[0]?.name;
}

/** Planned switchover: pre-checks, approval, then read-only → catch-up → promote → repoint. */
export async function dbSwitchover(
  input: DatabaseInput & { candidate?: string },
): Promise<DbOperationResult> {
  const t = tracker('db-switchover', input.cluster, input.members);
  let approved = false;
  setHandler(approveSignal, () => void (approved = true));
  return withClusterLock(input, 'db-switchover', async () => {
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const states = await probeAll(input);
    const topo = analyseTopology(input.cluster, states);
    const problems: string[] = [];
    for (const s of states) if (!s.reachable) problems.push(`${s.name} is unreachable: ${s.error}`);
    if (!topo.primary || topo.writable.length !== 1)
      problems.push(`no single writable primary (${topo.writable.join(', ') || 'none'})`);
    const oldName = topo.primary;
    const candidate = pickCandidate(topo, input.candidate);
    if (oldName && candidate === oldName) {
      t.note(`${candidate} is already the primary; nothing to do`);
      t.result.primary = candidate;
      t.phase('done');
      return t.result;
    }
    const cand = states.find((s) => s.name === candidate);
    const candLink = topo.replicas.find((r) => r.name === candidate);
    if (!candidate || !cand)
      problems.push(
        `no healthy replica to promote (${topo.replicas.map((r) => `${r.name}: source ${r.source}, io ${r.ioState}, sql ${r.sqlRunning ? 'running' : 'stopped'}, errant ${r.errant.join(' ') || 'none'}`).join('; ')})`,
      );
    else if (!candLink || candLink.source !== oldName)
      problems.push(`${candidate} is not a replica of the primary ${oldName}`);
    else {
      if (candLink.errant.length)
        problems.push(`${candidate} has errant transactions: ${candLink.errant.join(', ')}`);
      if (!cand.logBin || !cand.logReplicaUpdates)
        problems.push(`${candidate} needs log_bin and log_slave_updates to serve the others`);
    }
    for (const r of topo.replicas) {
      if (r.ioState !== 'running' || !r.sqlRunning) problems.push(`${r.name}: replication not running`);
      else if ((r.lagSeconds ?? Infinity) > settings.switchover.maxLagSeconds)
        problems.push(`${r.name} lags ${r.lagSeconds} s (max ${settings.switchover.maxLagSeconds})`);
    }
    const old = states.find((s) => s.name === oldName);
    if (old && (old.oldestTransactionSeconds ?? 0) > settings.switchover.maxTransactionAgeSeconds)
      problems.push(
        `${oldName} has a transaction open for ${old.oldestTransactionSeconds} s (max ${settings.switchover.maxTransactionAgeSeconds})`,
      );
    if (problems.length) precheckFailed(problems);
    const oldPrimary = oldName as string;
    const newPrimary = candidate as string;
    t.result.previousPrimary = oldPrimary;

    if (settings.switchover.approval.required) {
      t.phase('awaiting-approval');
      const ok = await condition(() => approved, settings.switchover.approval.timeoutSeconds * 1000);
      if (!ok && settings.switchover.approval.onTimeout === 'abort')
        refuse(`no approval within ${settings.switchover.approval.timeoutSeconds} s; nothing was changed`);
      t.note(ok ? 'approved by an operator' : 'approval timed out; proceeding as the spec says');
    }

    // From here until promotion, any failure puts the old primary back in charge.
    let promoted = false;
    try {
      t.phase('read-only');
      t.mark('readOnly');
      await acts.dbSetReadOnly({ endpoint: ep(oldPrimary), readOnly: true });
      t.changed(oldPrimary, 'read_only on');
      const killed = await acts.dbKillClients(ep(oldPrimary));
      if (killed.killed) t.note(`${oldPrimary}: ended ${killed.killed} client sessions`);
      const { gtid } = await acts.dbBinlogPosition(ep(oldPrimary));

      t.phase('catch-up');
      const wait = await acts.dbWaitForPosition({
        endpoint: ep(newPrimary),
        position: gtid,
        timeoutSeconds: settings.switchover.catchUpTimeoutSeconds,
      });
      if (!wait.reached)
        refuse(
          `${newPrimary} did not apply ${gtid} within ${settings.switchover.catchUpTimeoutSeconds} s; rolled back`,
        );
      t.note(`${newPrimary} caught up with ${oldPrimary} at ${gtid} in ${wait.waitedMs} ms`);

      t.phase('promote');
      await acts.dbPromote(ep(newPrimary));
      promoted = true;
      t.mark('promoted');
      t.changed(newPrimary, 'promoted: replication reset, writable');
    } catch (err) {
      if (!promoted) {
        await CancellationScope.nonCancellable(async () => {
          t.phase('rolling-back');
          await acts.dbSetReadOnly({ endpoint: ep(oldPrimary), readOnly: false });
          t.note(`rolled back: ${oldPrimary} is writable again; nothing else changed`);
        });
      }
      throw err;
    }

    // After promotion the new primary is authoritative: we roll forward, never back.
    t.phase('repoint');
    const others = input.members.filter((m) => m.name !== newPrimary);
    const source = { address: ep(newPrimary).address, port: settings.port };
    await Promise.all(
      others.map(async (m) => {
        await acts.dbReplicate({
          replica: ep(m.name),
          source,
          replication: settings.replication,
          mode: m.name === oldPrimary ? 'adopt' : 'keep',
        });
        t.changed(m.name, `replicates from ${newPrimary}`);
      }),
    );
    await verifyNewPrimary(
      input,
      newPrimary,
      others.map((m) => m.name),
      t,
    );
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}

/**
 * Unplanned failover: confirm the primary is gone (from the worker and from the replicas' IO
 * threads, several times), choose the most advanced replica, let the others catch up from it,
 * fence the old primary, promote, repoint.
 */
export async function dbFailover(input: DatabaseInput & { candidate?: string }): Promise<DbOperationResult> {
  const t = tracker('db-failover', input.cluster, input.members);
  let acknowledged = false;
  setHandler(acknowledgeSignal, () => void (acknowledged = true));
  return withClusterLock(input, 'db-failover', async () => {
    const { settings } = input;
    const f = settings.failover;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('anti-flapping');
    const recent = await acts.dbRecentFailovers({
      cluster: input.cluster,
      withinSeconds: f.antiFlappingSeconds,
      excludeWorkflowId: workflowInfo().workflowId,
    });
    if (recent.length) {
      t.note(
        `a failover of ${input.cluster} completed at ${recent[0].closedAt} (${recent[0].workflowId}); waiting for an operator to acknowledge`,
      );
      t.phase('awaiting-acknowledgement');
      if (!(await condition(() => acknowledged, f.acknowledgeTimeoutSeconds * 1000)))
        refuse(
          `refused: ${recent[0].workflowId} failed ${input.cluster} over within the last ${f.antiFlappingSeconds} s and nobody acknowledged`,
        );
      t.note('acknowledged by an operator');
    }

    t.phase('confirm-down');
    // The primary is whoever the replicas replicate from.
    // Failover probes give up quickly: a member that does not answer within this is down for now.
    const quick = Math.max(1000, Math.min(2000, f.intervalSeconds * 1000));
    let checkStarted = Date.now();
    let states = await probeAll(input, quick);
    const byAddress = new Map(input.members.map((m) => [m.address, m.name]));
    const sourceOf = (of: MemberState[]) =>
      of
        .flatMap((s) => (s.reachable && s.replica ? [byAddress.get(s.replica.sourceHost)] : []))
        .find(Boolean);
    let oldPrimary = sourceOf(states) ?? input.primary;
    t.result.previousPrimary = oldPrimary;
    const budgetSeconds = f.checks * f.intervalSeconds + settings.replication.netTimeoutSeconds * 2 + 5;
    const deadline = Date.now() + budgetSeconds * 1000;
    // The budget counts checks, not time: a worker that dies mid-confirmation costs the
    // workflow tens of seconds before the next one goes on, and a clock deadline would refuse a
    // failover the replicas would have confirmed in the next check (the chaos matrix, kill
    // points 4 and 5). Histories from before keep the clock.
    const inChecks = patched('failover-confirm-budget-in-checks');
    const checksAllowed = Math.ceil(budgetSeconds / f.intervalSeconds);
    // With no replica answering there is nobody to promote, nobody to ask whether the primary is
    // gone, and (at the start) nobody to say who the primary is: the spec's primary is a guess,
    // wrong after any switchover. A blip on the replicas' network (the chaos matrix cuts one for
    // 30 s) refused the failover and left the cluster without a writer. Now it waits for a
    // replica, within its own budget, and learns the primary from it. Histories from before
    // refuse as they did.
    const waitsForReplica = patched('failover-waits-for-a-replica');
    let primaryKnown = sourceOf(states) !== undefined;
    let checksMade = 1;
    let checksWaiting = 0;
    let waitingSince: number | undefined;
    let confirmations = 0;
    let lastDoubt = '';
    for (;;) {
      if (waitsForReplica && !primaryKnown) {
        const source = sourceOf(states);
        if (source) {
          oldPrimary = t.result.previousPrimary = source;
          primaryKnown = true;
        }
      }
      const old = states.find((s) => s.name === oldPrimary) as MemberState;
      if (old.reachable && old.readOnly === false)
        refuse(
          `refused: the primary ${oldPrimary} answers and is writable; use db switchover for a planned change`,
        );
      const answering = states.filter((s) => s.reachable && s.name !== oldPrimary);
      if (waitsForReplica && (!primaryKnown || !answering.length)) {
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince >= f.replicaWaitSeconds * 1000)
          refuse(
            `refused: no replica of ${input.cluster} answered for ${f.replicaWaitSeconds} s (failover.replicaWaitSeconds); nobody to promote, nothing was changed`,
          );
        // the worker's misses count again, from none, once a replica answers with it
        confirmations = 0;
        checksWaiting++;
        lastDoubt = 'no replica answers';
      } else {
        if (waitingSince !== undefined)
          t.note(`no replica answered for ${Math.round((Date.now() - waitingSince) / 1000)} s; waited`);
        waitingSince = undefined;
        const stillConnected = states.filter(
          (s) =>
            s.reachable &&
            s.replica?.ioState === 'running' &&
            byAddress.get(s.replica.sourceHost) === oldPrimary,
        );
        // The worker must miss the primary in `checks` consecutive checks, and at the last of them
        // no replica may still receive from it: a primary only the worker cannot see is a
        // partition between the two, not a dead primary.
        if (old.reachable) {
          confirmations = 0;
          lastDoubt = `${oldPrimary} answers (read-only)`;
        } else confirmations++;
        if (stillConnected.length)
          lastDoubt = `${stillConnected.map((s) => s.name).join(', ')} still receive from ${oldPrimary}`;
        if (confirmations >= f.checks && !stillConnected.length) break;
        if (inChecks ? checksMade - checksWaiting >= checksAllowed : Date.now() > deadline)
          refuse(
            `refused: could not confirm ${oldPrimary} is down in ${checksMade} checks (${lastDoubt || `missed by ${confirmations} consecutive checks of the ${f.checks} needed`}); nothing was changed`,
          );
      }
      // Checks start `intervalSeconds` apart however long the last one took (a dead host costs a timeout).
      const wait = checkStarted + f.intervalSeconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      checkStarted = Date.now();
      states = await probeAll(input, quick);
      checksMade++;
    }
    t.mark('confirmed');
    t.note(
      `${oldPrimary} confirmed down by ${f.checks} consecutive checks from the worker and by every replica`,
    );

    t.phase('choose');
    const replicas = states.filter((s) => s.reachable && s.name !== oldPrimary);
    if (!replicas.length) refuse('refused: no reachable replica to promote');
    await Promise.all(
      replicas.map((r) =>
        acts.dbWaitRelayApplied({ endpoint: ep(r.name), timeoutSeconds: f.relayApplyTimeoutSeconds }),
      ),
    );
    states = await probeAll(input, quick, oldPrimary);
    const ready = states.filter((s) => s.reachable);
    const flavour = ready[0].flavour ?? 'mariadb';
    const ranked = ready.map((s) => ({ name: s.name, position: s.gtidExecuted ?? '' }));
    const best = mostAdvanced(flavour, ranked) as { name: string; position: string };
    let newPrimary = best.name;
    if (input.candidate && input.candidate !== best.name) {
      const asked = ranked.find((r) => r.name === input.candidate);
      if (!asked) refuse(`refused: ${input.candidate} is not a reachable replica`);
      const missing = errantGtids(
        flavour,
        positionForErrantCheck(states.find((s) => s.name === best.name) as MemberState),
        positionForErrantCheck(states.find((s) => s.name === input.candidate) as MemberState),
      );
      if (missing.length)
        refuse(
          `refused: ${input.candidate} lacks ${missing.join(', ')} that ${best.name} has; promoting it would lose them`,
        );
      newPrimary = input.candidate;
    }
    t.note(`chose ${newPrimary} at ${best.position}`);
    t.mark('chosen');

    // The others catch up from the chosen one while the old primary is fenced; both finish
    // before anyone is made writable.
    t.phase('catch-up-and-fence');
    const source = { address: ep(newPrimary).address, port: settings.port };
    const others = ready.filter((s) => s.name !== newPrimary);
    const [fence] = await Promise.all([
      acts.dbFence({
        endpoint: ep(oldPrimary),
        mode: f.fence,
        service: settings.config.service ?? (flavour === 'mariadb' ? 'mariadb' : 'mysql'),
      }),
      ...others.map(async (s) => {
        await acts.dbReplicate({
          replica: ep(s.name),
          source,
          replication: settings.replication,
          mode: 'keep',
        });
        t.changed(s.name, `replicates from ${newPrimary}`);
      }),
    ]);
    t.mark('caughtUpAndFenced');
    t.note(`fence ${oldPrimary}: ${fence.how}`);
    if (fence.fenced) t.changed(oldPrimary, `fenced: ${fence.how}`);

    t.phase('promote');
    await acts.dbPromote(ep(newPrimary));
    t.mark('promoted');
    t.changed(newPrimary, 'promoted: replication reset, writable');

    await verifyNewPrimary(
      input,
      newPrimary,
      others.map((s) => s.name),
      t,
    );
    // The old primary was just found down; probing it again would only cost another timeout.
    t.result.topology = analyseTopology(input.cluster, [
      ...(await probeAll(input, quick, oldPrimary)),
      {
        name: oldPrimary,
        address: ep(oldPrimary).address,
        reachable: false,
        error: `failed over (${fence.how})`,
      },
    ]);
    t.note(`${oldPrimary} stays out until \`clusterflow db rejoin ${oldPrimary}\``);
    t.phase('done');
    return t.result;
  });
}

/** The old primary comes back as a replica of the current one; refused if it has errant transactions. */
export async function dbRejoin(input: DatabaseInput & { member: string }): Promise<DbOperationResult> {
  const t = tracker('db-rejoin', input.cluster, input.members);
  return withClusterLock(input, 'db-rejoin', async () => {
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);
    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const started = await acts.dbEnsureAdmin({
      endpoint: ep(input.member),
      service: settings.config.service,
    });
    if (started.changed) t.changed(input.member, 'mysqld started (read-only)');
    const states = await probeAll(input);
    const topo = analyseTopology(
      input.cluster,
      states.filter((s) => s.name !== input.member),
    );
    if (!topo.primary || topo.writable.length !== 1)
      precheckFailed([`no single writable primary among the others (${topo.writable.join(', ') || 'none'})`]);
    const primary = topo.primary as string;
    if (primary === input.member) precheckFailed([`${input.member} is the primary`]);
    const me = states.find((s) => s.name === input.member) as MemberState;
    const them = states.find((s) => s.name === primary) as MemberState;
    const errant = errantGtids(
      me.flavour ?? 'mariadb',
      positionForErrantCheck(me),
      positionForErrantCheck(them),
      originOf(them),
    );
    if (errant.length)
      refuse(
        `refused: ${input.member} has transactions ${primary} lacks (errant): ${errant.join(', ')}; rebuild it from ${primary} or reconcile them first`,
      );
    t.result.primary = primary;
    const source = { address: ep(primary).address, port: settings.port };
    if (
      me.replica?.sourceHost === source.address &&
      me.replica.ioState === 'running' &&
      me.replica.sqlRunning
    ) {
      t.note(`${input.member} already replicates from ${primary}`);
    } else {
      t.phase('rejoin');
      if ((await acts.dbSetReadOnly({ endpoint: ep(input.member), readOnly: true })).changed)
        t.changed(input.member, 'read_only on');
      await acts.dbReplicate({
        replica: ep(input.member),
        source,
        replication: settings.replication,
        mode: 'adopt',
      });
      t.changed(input.member, `replicates from ${primary}`);
    }
    t.phase('verify');
    await acts.dbWaitReplicating({ endpoint: ep(input.member), source: source.address, timeoutSeconds: 60 });
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}
