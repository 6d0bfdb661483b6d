import type { Client, WorkflowHandle } from '@temporalio/client';
import { buildClusterSetup } from '../../client/cluster';
import { startOperation, type TemporalSettings } from '../../client/connection';
import { startDbOperation } from '../../client/db';
import { buildLicenseOperation } from '../../client/license';
import { buildNodeOperation, type StartableOperation } from '../../client/nodes';
import { databaseInput, loadSpec } from '../../client/spec';
import { buildStorageOperation } from '../../client/storage';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { DbOperationResult } from '../../workflows/db';
import type { LicenseResult } from '../../workflows/license';
import type { NodeOperationResult, RollingResult } from '../../workflows/node-operations';
import type { StorageResult } from '../../workflows/storage';
import { onHost } from '../../test/integration/helpers';
import { up } from '../../lab/hosts';
import { Phase } from '../../common/search-attributes';
import { dbState, fenceOf, lbMembers } from './invariants';
import { APPS, DBS, FILE_SERVERS, freshHosts, hostAddress, MOUNT_POINT, SPARE, type ChaosLab } from './lab';
import { message } from './matrix';

// The operations of the matrix, one table entry each: how the cluster is brought to the
// operation's starting point, how it is started, and how its own result is checked against the
// hosts. The cluster-wide invariants (invariants.ts) are checked after every run of every entry.

export interface OperationContext {
  lab: ChaosLab;
  client: Client;
  settings: TemporalSettings;
  /** Runs an operation a preparation needs (on a worker of its own) and returns its result. */
  settle(start: () => Promise<WorkflowHandle>): Promise<unknown>;
}

/** What `prepare` found or set up, for `start` and the checks (e.g. the switchover's candidate). */
export type Prepared = Record<string, string>;

export interface ChaosOperation {
  name: string;
  /** How the cluster is brought back between runs, for the report. */
  reset: string;
  prepare(ctx: OperationContext): Promise<Prepared>;
  start(ctx: OperationContext, prep: Prepared): Promise<WorkflowHandle>;
  /** Where the operation's own result and the hosts disagree (empty: they agree). */
  resultMatches(result: unknown, ctx: OperationContext, prep: Prepared): Promise<string[]>;
  /**
   * Runs it again on the converged cluster: what that run changed (empty: nothing), optionally with
   * what it did instead (a refusal) for the report; or why n/a.
   */
  rerun:
    | ((ctx: OperationContext, prep: Prepared) => Promise<string[] | { changes: string[]; detail: string }>)
    | { notApplicable: string };
  /** The host whose network the netcut fault takes away mid-run. */
  netcutTarget(prep: Prepared): string;
  /** What the run reported beyond plain success (failed nodes, an abort), for the table's note. */
  summary?(result: unknown): string;
  /** Nodes the operation reported as deliberately left out of the LB, with the reason. */
  leftOut?(result: unknown): Record<string, string>;
  /** Whether nodes are drained (the lbreload fault only makes sense then). */
  drains: boolean;
  /** Database members the operation leaves fenced by design (a failover's old primary). */
  fenced?(prep: Prepared): string[];
  /** The cluster's nodes once the operation is done (default: the demo's three). */
  nodes?(prep: Prepared): string[];
  /** After the checks: back to the demo's shape, so the next operation's checks start from it. */
  restore?(ctx: OperationContext): Promise<void>;
}

const startSpec = (ctx: OperationContext, op: StartableOperation) =>
  startOperation(ctx.client, ctx.settings, op) as Promise<WorkflowHandle>;

const execute = async <T>(ctx: OperationContext, prep: Prepared, op: ChaosOperation): Promise<T> =>
  (await (await op.start(ctx, prep)).result()) as T;

const rolling: ChaosOperation = {
  name: 'rolling-maintenance',
  reset: 'none: the run leaves the cluster converged',
  prepare: async () => ({ since: String(Math.floor(Date.now() / 1000) - 1) }),
  start: (ctx) => startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.spec), 'rolling-maintenance')),
  // A node the run failed (e.g. unreachable through a netcut) is a truthful report, not a broken
  // one: what must hold is that "done" and "not-run" say what the hosts show.
  async resultMatches(result, _ctx, prep) {
    const r = result as RollingResult;
    const problems: string[] = [];
    // the maintenance play stamps the time on each node it ran on
    for (const n of r.nodes) {
      const stamp = Number(onHost(n.node, 'cat /var/lib/cfapp-last-maintenance 2>/dev/null || echo 0'));
      const ran = stamp >= Number(prep.since);
      if (n.outcome === 'done' && !ran) problems.push(`${n.node} reported done but its action did not run`);
      if (n.outcome === 'not-run' && ran) problems.push(`${n.node} reported not-run but its action ran`);
    }
    return problems;
  },
  summary: (result) => {
    const r = result as RollingResult;
    const notDone = r.nodes.filter((n) => n.outcome !== 'done');
    return [
      ...notDone.map((n) => `${n.node} ${n.outcome ?? n.phase}${n.reason ? ` (${n.reason})` : ''}`),
      ...(r.aborted ? [`aborted: ${r.aborted}`] : []),
    ].join('; ');
  },
  rerun: { notApplicable: 'the maintenance action runs on every run by design' },
  netcutTarget: () => APPS[1],
  leftOut: (result) =>
    Object.fromEntries(
      (result as RollingResult).leftDrained.map((n) => [
        n,
        (result as RollingResult).nodes.find((x) => x.node === n)?.reason ?? 'left drained',
      ]),
    ),
  drains: true,
};

const switchoverInput = (ctx: OperationContext, candidate: string) => ({
  ...databaseInput(loadSpec(ctx.lab.spec)),
  candidate,
});

const switchover: ChaosOperation = {
  name: 'db-switchover',
  reset: 'none: each run switches to the member that is a replica now, so runs alternate',
  async prepare() {
    const { writable } = dbState();
    if (writable.length !== 1) throw new Error(`no single primary to switch from: [${writable.join(', ')}]`);
    return { primary: writable[0], candidate: DBS.find((d) => d !== writable[0]) as string };
  },
  start: (ctx, prep) =>
    startDbOperation(ctx.client, ctx.settings, 'switchover', switchoverInput(ctx, prep.candidate)),
  async resultMatches(result) {
    const r = result as DbOperationResult;
    const { writable } = dbState();
    return writable.length === 1 && writable[0] === r.primary
      ? []
      : [`result says primary ${r.primary}, hosts show writable [${writable.join(', ')}]`];
  },
  // the same switchover again: the candidate is already the primary
  async rerun(ctx, prep) {
    const handle = await startDbOperation(
      ctx.client,
      ctx.settings,
      'switchover',
      switchoverInput(ctx, prep.candidate),
    );
    const r = (await handle.result()) as DbOperationResult;
    return r.changed ? Object.entries(r.hosts).flatMap(([h, c]) => c.map((x) => `${h}: ${x}`)) : [];
  },
  netcutTarget: (prep) => prep.candidate,
  drains: false,
};

const storageExport: ChaosOperation = {
  name: 'storage-export',
  reset: `${APPS[2]} unmounted and its fstab entry removed, so each run has a client to mount`,
  async prepare() {
    onHost(APPS[2], `umount ${MOUNT_POINT} 2>/dev/null; sed -i '\\# ${MOUNT_POINT} #d' /etc/fstab`);
    return {};
  },
  start: (ctx) => startSpec(ctx, buildStorageOperation(loadSpec(ctx.lab.spec), 'storage-export')),
  async resultMatches(result) {
    const r = result as StorageResult;
    const problems = r.failures.map((f) => `failure: ${f}`);
    for (const app of APPS) {
      const mounted = onHost(app, `findmnt -n -o FSTYPE ${MOUNT_POINT} || true`) === 'fuse.glusterfs';
      if (r.clients[app]?.mounted !== mounted)
        problems.push(`${app}: result says mounted=${r.clients[app]?.mounted}, host says ${mounted}`);
    }
    return problems;
  },
  async rerun(ctx, prep) {
    return (await execute<StorageResult>(ctx, prep, storageExport)).changes;
  },
  netcutTarget: () => FILE_SERVERS[1],
  drains: false,
};

const licenseActivation: ChaosOperation = {
  name: 'license-activation',
  reset: `${APPS[1]} and ${APPS[2]} deactivated (seats freed), so each run activates two nodes`,
  async prepare() {
    for (const app of APPS.slice(1)) onHost(app, '/usr/local/bin/cfapp-license deactivate >/dev/null');
    return {};
  },
  start: (ctx) => startSpec(ctx, buildLicenseOperation(loadSpec(ctx.lab.spec), 'license-activation')),
  async resultMatches(result) {
    const r = result as LicenseResult;
    const problems: string[] = [];
    for (const app of APPS) {
      const active =
        onHost(app, '/usr/local/bin/cfapp-license check >/dev/null && echo yes || echo no') === 'yes';
      const said = r.nodes.find((n) => n.node === app)?.outcome;
      const saidActive = said === 'activated' || said === 'already-active';
      if (saidActive !== active) problems.push(`${app}: result says ${said}, host says active=${active}`);
    }
    return problems;
  },
  async rerun(ctx, prep) {
    const r = await execute<LicenseResult>(ctx, prep, licenseActivation);
    return r.nodes.filter((n) => n.outcome !== 'already-active').map((n) => `${n.node}: ${n.outcome}`);
  },
  netcutTarget: () => APPS[2],
  drains: false,
};

const clusterSetup: ChaosOperation = {
  name: 'cluster-setup',
  reset: 'really fresh hosts: every cx host removed and created again',
  async prepare(ctx) {
    await freshHosts(ctx.lab.licensing);
    return {};
  },
  start: (ctx) => startSpec(ctx, buildClusterSetup(loadSpec(ctx.lab.spec))),
  async resultMatches(result) {
    const r = result as ClusterSetupResult;
    return [
      ...r.failures.map((f) => `failure: ${f}`),
      ...r.verification.filter((v) => !v.ok).map((v) => `verification ${v.check}: ${v.detail}`),
    ];
  },
  async rerun(ctx, prep) {
    const r = await execute<ClusterSetupResult>(ctx, prep, clusterSetup);
    return r.steps.filter((s) => s.status !== 'ok').map((s) => `${s.step}: ${s.status}`);
  },
  netcutTarget: () => DBS[1],
  drains: false,
};

const startJoin = (ctx: OperationContext) =>
  startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.spec), 'node-join', { node: SPARE }));
const startRemove = (ctx: OperationContext) =>
  startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.specWithSpare), 'node-remove', { node: SPARE }));
const nodeChanges = (r: unknown) => (r as NodeOperationResult).changes;

const nodeJoin: ChaosOperation = {
  name: 'node-join',
  reset: `${SPARE} removed again by node-remove after the checks`,
  async prepare(ctx) {
    await up([SPARE]);
    if (SPARE in lbMembers()) await ctx.settle(() => startRemove(ctx));
    return {};
  },
  start: (ctx) => startJoin(ctx),
  async resultMatches(result) {
    const r = result as NodeOperationResult;
    const active = onHost(SPARE, 'systemctl is-active cfapp || true');
    return r.node === SPARE && active === 'active' ? [] : [`${r.node} joined, ${SPARE}'s cfapp is ${active}`];
  },
  rerun: async (ctx) => nodeChanges(await (await startJoin(ctx)).result()),
  netcutTarget: () => SPARE,
  drains: false,
  nodes: () => [...APPS, SPARE],
  restore: async (ctx) => void (await ctx.settle(() => startRemove(ctx))),
};

const nodeRemove: ChaosOperation = {
  name: 'node-remove',
  reset: `${SPARE} joined by node-join first`,
  async prepare(ctx) {
    await up([SPARE]);
    if (!(SPARE in lbMembers())) await ctx.settle(() => startJoin(ctx));
    return {};
  },
  start: (ctx) => startRemove(ctx),
  async resultMatches(result) {
    const r = result as NodeOperationResult;
    const active = onHost(SPARE, 'systemctl is-active cfapp || true');
    return r.node === SPARE && active !== 'active'
      ? []
      : [`${r.node} removed, ${SPARE}'s cfapp is ${active}`];
  },
  rerun: async (ctx) => nodeChanges(await (await startRemove(ctx)).result()),
  netcutTarget: () => SPARE,
  drains: true,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

const dbInput = (ctx: OperationContext) => databaseInput(loadSpec(ctx.lab.spec));

const dbChanges = (r: DbOperationResult) =>
  Object.entries(r.hosts).flatMap(([h, c]) => c.map((x) => `${h}: ${x}`));

const replicatesFrom = (source: string, primary: string) =>
  source === primary || source === hostAddress(primary);

/**
 * The operator's answer to anti-flapping: `acknowledge`, sent once the failover says it waits for
 * one (its Phase search attribute, readable while no worker runs), never before, so every run
 * after the first really goes through the refusal path. Detached: it ends with the workflow; its
 * timers are unref'd so it never keeps the matrix's process alive.
 */
function acknowledgeWhenAsked(handle: WorkflowHandle): void {
  const until = Date.now() + 15 * 60_000;
  void (async () => {
    while (Date.now() < until) {
      const d = await handle.describe().catch(() => undefined);
      if (d && d.status.name !== 'RUNNING') return;
      if (d?.typedSearchAttributes.get(Phase) === 'awaiting-acknowledgement') {
        await handle.signal('acknowledge');
        return;
      }
      await sleep(250);
    }
  })().catch(() => undefined);
}

const startFailover = async (ctx: OperationContext) => {
  const handle = await startDbOperation(ctx.client, ctx.settings, 'failover', dbInput(ctx));
  acknowledgeWhenAsked(handle);
  return handle;
};

const startRejoin = (ctx: OperationContext, member: string) =>
  startDbOperation(ctx.client, ctx.settings, 'rejoin', { ...dbInput(ctx), member });

/** A primary that stays down, as db.test.ts makes one: SIGKILL, then the unit stopped so systemd does not restart it. */
function killPrimary(db: string): void {
  onHost(db, 'kill -9 $(pidof mariadbd); systemctl stop mariadb');
}

/**
 * Both members in replication, whatever an earlier run left: a failover that ended without a
 * primary (the old one down, nobody promoted) is finished by a failover of our own, and a member
 * out of replication (fenced, stopped) is rejoined. Each through the product, on a worker of its own.
 */
async function bothReplicating(ctx: OperationContext): Promise<{ primary: string; replica: string }> {
  if (dbState().writable.length === 0) await ctx.settle(() => startFailover(ctx));
  const { writable, replicas } = dbState();
  if (writable.length !== 1) throw new Error(`no single primary to start from: [${writable.join(', ')}]`);
  const primary = writable[0];
  const replica = DBS.find((d) => d !== primary) as string;
  const r = replicas[replica];
  if (!r || !r.running || !replicatesFrom(r.source, primary))
    await ctx.settle(() => startRejoin(ctx, replica));
  return { primary, replica };
}

const failover: ChaosOperation = {
  name: 'db-failover',
  reset:
    'both members replicating first (a member an earlier run left out is rejoined); prepare SIGKILLs mysqld on the primary and stops its unit (as db.test.ts); after the checks the fenced old primary is rejoined. Anti-flapping keeps its default 3600 s window, so every failover after the first waits for an operator: the matrix sends `acknowledge` once the workflow asks (Phase awaiting-acknowledgement), never before; the re-run is not acknowledged and must be refused by it',
  async prepare(ctx) {
    const { primary, replica } = await bothReplicating(ctx);
    killPrimary(primary);
    return { primary, replica };
  },
  start: (ctx) => startFailover(ctx),
  async resultMatches(result, _ctx, prep) {
    const r = result as DbOperationResult;
    const { writable } = dbState();
    const problems: string[] = [];
    if (r.previousPrimary !== prep.primary)
      problems.push(
        `result says previous primary ${r.previousPrimary}, mysqld was killed on ${prep.primary}`,
      );
    if (writable.length !== 1 || writable[0] !== r.primary)
      problems.push(`result says primary ${r.primary}, hosts show writable [${writable.join(', ')}]`);
    const fence = fenceOf(prep.primary);
    const saidFenced = (r.hosts[prep.primary] ?? []).some((c) => c.startsWith('fenced'));
    if (saidFenced !== fence.fenced)
      problems.push(`${prep.primary}: result says fenced=${saidFenced}, host shows ${fence.how}`);
    return problems;
  },
  // The same failover again at once, and nobody acknowledges: anti-flapping must refuse it (the
  // run just failed the cluster over) without touching a member. A short acknowledge timeout,
  // so the refusal comes in seconds rather than the default hour.
  async rerun(ctx, prep) {
    const before = dbState().writable;
    const input = dbInput(ctx);
    input.settings.failover.acknowledgeTimeoutSeconds = 5;
    const handle = await startDbOperation(ctx.client, ctx.settings, 'failover', input);
    const end = await handle.result().then(
      (r) => ({ ok: true as const, r: r as DbOperationResult }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const changes: string[] = [];
    let detail = '';
    if (end.ok) changes.push(`not refused: failed over again to ${end.r.primary}`, ...dbChanges(end.r));
    else if (/nobody acknowledged/.test(message(end.e)))
      detail = `0 changes: refused by anti-flapping (${message(end.e).replace(/^.*?refused: /, '')})`;
    else changes.push(`failed, but not by the anti-flapping refusal: ${message(end.e)}`);
    const after = dbState().writable;
    if (after.join() !== before.join())
      changes.push(`writable was [${before.join(', ')}], now [${after.join(', ')}]`);
    const fence = fenceOf(prep.primary);
    if (!fence.fenced) changes.push(`${prep.primary} no longer fenced: ${fence.how}`);
    return { changes, detail };
  },
  netcutTarget: (prep) => prep.replica,
  fenced: (prep) => [prep.primary],
  summary: (result) =>
    (result as DbOperationResult).notes.some((n) => n === 'acknowledged by an operator')
      ? 'anti-flapping asked, acknowledged'
      : '',
  drains: false,
  restore: async (ctx) => void (await bothReplicating(ctx)),
};

const rejoin: ChaosOperation = {
  name: 'db-rejoin',
  reset:
    'prepare fails the primary over first (mysqld killed, the failover acknowledged when it asks, on a worker of its own), so the old primary is fenced and there is a member to rejoin; the run itself leaves both members replicating',
  async prepare(ctx) {
    const { primary } = await bothReplicating(ctx);
    killPrimary(primary);
    const r = (await ctx.settle(() => startFailover(ctx))) as DbOperationResult;
    if (r.previousPrimary !== primary || !r.primary)
      throw new Error(
        `the preparing failover went from ${r.previousPrimary} to ${r.primary}, not from ${primary}`,
      );
    return { member: primary, primary: r.primary };
  },
  start: (ctx, prep) => startRejoin(ctx, prep.member),
  async resultMatches(result, _ctx, prep) {
    const r = result as DbOperationResult;
    const { writable, replicas } = dbState();
    const problems: string[] = [];
    if (writable.length !== 1 || writable[0] !== r.primary)
      problems.push(`result says primary ${r.primary}, hosts show writable [${writable.join(', ')}]`);
    const m = replicas[prep.member];
    const said = (r.hosts[prep.member] ?? []).includes(`replicates from ${r.primary}`);
    const does = Boolean(m && r.primary && m.running && replicatesFrom(m.source, r.primary));
    if (!said || !does)
      problems.push(
        `${prep.member}: result says replicates from ${r.primary}=${said}, host shows ${m ? `source ${m.source}, running=${m.running}` : 'no replication'}`,
      );
    return problems;
  },
  rerun: async (ctx, prep) =>
    dbChanges((await (await startRejoin(ctx, prep.member)).result()) as DbOperationResult),
  netcutTarget: (prep) => prep.member,
  drains: false,
};

/** Every operation the matrix knows; adding one is adding an entry here. */
export const OPERATIONS: Record<string, ChaosOperation> = Object.fromEntries(
  [
    rolling,
    switchover,
    failover,
    rejoin,
    storageExport,
    licenseActivation,
    nodeJoin,
    nodeRemove,
    clusterSetup,
  ].map((op) => [op.name, op]),
);
