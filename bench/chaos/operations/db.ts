import type { WorkflowHandle } from '@temporalio/client';
import { startDbOperation } from '../../../client/db';
import { databaseInput, loadSpec } from '../../../client/spec';
import type { DbOperationResult } from '../../../workflows/db';
import { onHost } from '../../../test/integration/helpers';
import { Phase } from '../../../common/search-attributes';
import { dbState, fenceOf } from '../invariants';
import { DBS, hostAddress } from '../lab';
import { message } from '../matrix';
import type { ChaosOperation, OperationContext } from './operation';

// The database operations: switchover, failover (with the operator's acknowledgement that
// anti-flapping asks for) and rejoin, and how the two members are brought back to replicating.

const switchoverInput = (ctx: OperationContext, candidate: string) => ({
  ...databaseInput(loadSpec(ctx.lab.spec)),
  candidate,
});

export const switchover: ChaosOperation = {
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

export const failover: ChaosOperation = {
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

export const rejoin: ChaosOperation = {
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
