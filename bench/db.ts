/**
 * Replication benchmark on real MariaDB lab hosts (bdb1..bdb3), through Temporal:
 *   switchover  under a steady writer of numbered inserts that re-resolves the primary on error:
 *               the writer-blocked window (longest gap between two acknowledged commits) and
 *               acknowledged commits missing afterwards (lost);
 *   failover    from killing the primary (its mysqld; and separately the whole lab host) to a
 *               writable new primary, and to all replicas repointed and verified; lost commits with
 *               async replication and with semi-sync.
 *   npm run bench:db [-- --runs 3] [--only switchover,mysqld,host,semisync]
 * Writes bench/results/db.json. Figures are printed as they come.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startDbOperation, type DbCommand } from '../client/db';
import { temporalSettings } from '../client/connection';
import { databaseInput, loadSpec } from '../client/spec';
import { endpointOf, type DatabaseInput, type Topology } from '../common/db';
import { startDevServer, stopDevServer } from '../lab/devserver';
import { down, labFiles, sshArgs, stop, up } from '../lab/hosts';
import { REPO_ROOT } from '../lab/paths';
import { startBenchWorker } from './worker';
import type { DbOperationResult } from '../workflows/db';
import { missingIds, steadyWriter } from '../test/fixtures/db-load';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '3'));
/** Which parts to run: switchover, mysqld, host, semisync. */
const ONLY = arg('only', 'switchover,mysqld,host,semisync').split(',');
const HOSTS = ['bdb1', 'bdb2', 'bdb3'];
const secrets = {
  CF_BENCH_DB_ADMIN: 'bench-admin',
  CF_BENCH_DB_REPL: 'bench-repl',
  CF_BENCH_DB_APP: 'bench-app',
};
Object.assign(process.env, secrets);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-bench-db-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

function onHost(host: string, command: string): string {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout}${r.stderr}`.trim();
}

function spec(semiSync: boolean): DatabaseInput {
  const file = path.join(scratch, `spec-${semiSync}.yml`);
  writeFileSync(
    file,
    stringify({
      cluster: 'bench',
      inventory: labFiles.inventory,
      database: {
        primary: HOSTS[0],
        replicas: HOSTS.slice(1),
        admin: { password: 'env:CF_BENCH_DB_ADMIN' },
        // semi-sync: wait for a replica's acknowledgement for up to 10 s before falling back to async
        replication: { password: 'env:CF_BENCH_DB_REPL', semiSync },
        applications: [
          { user: 'bench', password: 'env:CF_BENCH_DB_APP', database: 'benchdb', from: ['10.77.0.1'] },
        ],
        // benchmark runs fail over repeatedly; production keeps the default hour
        failover: { antiFlappingSeconds: 1 },
      },
    }),
  );
  return databaseInput(loadSpec(file));
}

async function main(): Promise<void> {
  const settings = temporalSettings({ taskQueue: `bench-db-${process.pid}` });
  const server = await startDevServer();
  console.log(`dev server: ${server.address}`);
  await down(HOSTS);
  await up(HOSTS);
  const { client, pool, stop: stopWorker } = await startBenchWorker(settings);
  const run = async (command: DbCommand, input: DatabaseInput & { candidate?: string; member?: string }) =>
    (await (await startDbOperation(client, settings, command, input)).result()) as DbOperationResult &
      Topology;

  const results: Record<string, unknown> = { date: new Date().toISOString(), runs: RUNS };
  try {
    let input = spec(false);
    const ep = (name: string) =>
      endpointOf(
        input.members.find((m) => m.name === name) as DatabaseInput['members'][number],
        input.settings,
      );
    const writer = () =>
      steadyWriter({
        members: input.members,
        port: 3306,
        user: 'bench',
        password: secrets.CF_BENCH_DB_APP,
        database: 'benchdb',
      });
    const lost = async (primary: string, ids: number[]) => {
      await run('bootstrap', input); // waits until every replica is level (and repairs nothing else)
      return (await missingIds(pool, ep(primary), 'benchdb', ids)).length;
    };
    const t0 = Date.now();
    await run('bootstrap', input);
    console.log(`bootstrap of 3 fresh members: ${Date.now() - t0} ms`);
    results.bootstrapMs = Date.now() - t0;

    // --- switchover under load
    const switchovers: Record<string, number>[] = [];
    for (let i = 0; i < (ONLY.includes('switchover') ? RUNS * 2 : 0); i++) {
      const before = (await run('status', input)).primary as string;
      const w = writer();
      await sleep(2000);
      const started = Date.now();
      const r = await run('switchover', input);
      const wallMs = Date.now() - started;
      await sleep(2000);
      const load = await w.stop();
      const row = {
        blockedMs: load.longestGapMs,
        readOnlyToPromotedMs: (r.timings.promoted ?? 0) - (r.timings.readOnly ?? 0),
        workflowMs: wallMs,
        rate: load.ratePerSecond,
        acked: load.acked,
        lost: await lost(r.primary as string, load.ackedIds),
      };
      switchovers.push(row);
      console.log(`switchover ${before} -> ${r.primary}: ${JSON.stringify(row)}`);
    }
    results.switchover = {
      runs: switchovers,
      medianBlockedMs: median(switchovers.map((s) => s.blockedMs)),
      maxBlockedMs: Math.max(...switchovers.map((s) => s.blockedMs)),
      medianRate: median(switchovers.map((s) => s.rate)),
      lostTotal: switchovers.reduce((n, s) => n + s.lost, 0),
    };

    // --- failover
    const failovers = async (kind: 'mysqld' | 'host', semiSync: boolean) => {
      input = spec(semiSync);
      await run('bootstrap', input);
      const rows: Record<string, number | string>[] = [];
      for (let i = 0; i < RUNS; i++) {
        const old = (await run('status', input)).primary as string;
        const w = writer();
        await sleep(2000);
        const killedAt = Date.now();
        if (kind === 'mysqld') onHost(old, 'kill -9 $(pidof mariadbd); systemctl stop mariadb');
        else await stop([old]);
        const r = await run('failover', input);
        const doneMs = Date.now() - killedAt;
        await sleep(1000);
        const load = await w.stop();
        const writableAt = load.switchedAt.find((at) => at > killedAt);
        if (kind === 'host') await up([old]);
        await run('rejoin', { ...input, member: old });
        const row = {
          from: old,
          to: r.primary as string,
          toWritableMs: writableAt ? writableAt - killedAt : -1,
          toRepointedMs: doneMs,
          confirmedMs: r.timings.confirmed ?? -1,
          chosenMs: r.timings.chosen ?? -1,
          fencedMs: r.timings.caughtUpAndFenced ?? -1,
          promotedMs: r.timings.promoted ?? -1,
          acked: load.acked,
          lost: await lost(r.primary as string, load.ackedIds),
        };
        rows.push(row);
        console.log(`failover (${kind} killed${semiSync ? ', semi-sync' : ''}): ${JSON.stringify(row)}`);
      }
      return {
        runs: rows,
        medianToWritableMs: median(rows.map((r) => Number(r.toWritableMs))),
        medianToRepointedMs: median(rows.map((r) => Number(r.toRepointedMs))),
        lostTotal: rows.reduce((n, r) => n + Number(r.lost), 0),
      };
    };
    if (ONLY.includes('mysqld')) results.failoverMysqld = await failovers('mysqld', false);
    if (ONLY.includes('host')) results.failoverHost = await failovers('host', false);
    if (ONLY.includes('semisync')) results.failoverMysqldSemiSync = await failovers('mysqld', true);
  } finally {
    await stopWorker();
    if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(HOSTS);
    if (server.started) await stopDevServer();
  }
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  if (ONLY.length < 4) {
    console.log(JSON.stringify(results, null, 2));
    return; // a partial run does not replace the recorded figures
  }
  writeFileSync(path.join(REPO_ROOT, 'bench/results/db.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
