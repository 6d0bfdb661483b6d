import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { withSql } from '../../activities/db/sql';
import { SshPool } from '../../activities/ssh/pool';
import { startDbOperation, type DbCommand } from '../../client/db';
import { databaseInput, loadSpec } from '../../client/spec';
import { endpointOf, type DatabaseInput, type Topology } from '../../common/db';
import { down, hostAddress, labFiles, sshArgs, up, vethOf } from '../../lab/hosts';
import type { DbOperationResult } from '../../workflows/db';
import { missingIds, steadyWriter, watchWritable } from '../fixtures/db-load';
import { startPausedWorker, testSettings, withWorker } from './helpers';

// Replication end to end: real MariaDB 10.11 on lab hosts, real workflows on the dev server.
// The hosts are created fresh for this file and removed after it.

const DB_HOSTS = ['dbt1', 'dbt2', 'dbt3'];
const APP_HOST = 'node1';
const secrets = {
  CF_TEST_DB_ADMIN: 'adm-Pa55-word',
  CF_TEST_DB_REPL: "repl-'quoted'-pw",
  CF_TEST_DB_APP: 'app-Pa55-word',
};
const APP_PROPERTIES = '/etc/cfapp.properties';
// A cluster name of its own per run: the dev server keeps history (anti-flapping looks at it).
const CLUSTER = `dbtest-${Date.now().toString(36)}`;

function onHost(host: string, command: string): { code: number; out: string } {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}

const dir = mkdtempSync(path.join(tmpdir(), 'cf-db-'));

function writeSpec(name: string, database: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    stringify({
      cluster: CLUSTER,
      inventory: labFiles.inventory,
      database: {
        admin: { password: 'env:CF_TEST_DB_ADMIN' },
        replication: { password: 'env:CF_TEST_DB_REPL' },
        ...database,
      },
    }),
  );
  return file;
}

const fullDatabase = {
  primary: 'dbt1',
  replicas: ['dbt2', 'dbt3'],
  applications: [
    { user: 'cfapp', password: 'env:CF_TEST_DB_APP', database: 'appdb', from: [APP_HOST, '10.77.0.1'] },
  ],
  appConfig: [{ hosts: APP_HOST, path: APP_PROPERTIES, key: 'database.host' }],
};

const settings = testSettings();
const pool = new SshPool();

async function run(
  client: Client,
  command: DbCommand,
  input: DatabaseInput & { candidate?: string; member?: string },
): Promise<DbOperationResult & Topology> {
  const handle = await startDbOperation(client, settings, command, input);
  return (await handle.result()) as DbOperationResult & Topology;
}

function failureMessage(err: unknown): string {
  let e = err as Error & { cause?: Error };
  const parts = [e.message];
  while (e.cause) {
    e = e.cause as Error & { cause?: Error };
    parts.push(e.message);
  }
  return parts.join(' <- ');
}

const inputOf = (database: Record<string, unknown>) => databaseInput(loadSpec(writeSpec('spec', database)));
const full = () => inputOf(fullDatabase);
const ep = (input: DatabaseInput, name: string) =>
  endpointOf(input.members.find((m) => m.name === name) as DatabaseInput['members'][number], input.settings);

async function readOnlyOf(input: DatabaseInput): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const m of input.members) {
    out[m.name] = await withSql(
      pool,
      ep(input, m.name),
      async (sql) => Number((await sql.one('SELECT @@GLOBAL.read_only AS ro'))?.ro) === 1,
    );
  }
  return out;
}

beforeAll(async () => {
  Object.assign(process.env, secrets);
  await down(DB_HOSTS); // fresh datadirs: this file starts from never-configured servers
  await up([...DB_HOSTS, APP_HOST]);
}, 120_000);

afterAll(async () => {
  await pool.close();
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(DB_HOSTS);
});

describe('replication on MariaDB lab hosts', () => {
  it('fails on an unresolvable password reference before touching any host', async () => {
    const input = inputOf({
      primary: 'dbt1',
      replicas: ['dbt2'],
      replication: { password: 'env:CF_TEST_UNSET' },
    });
    delete process.env.CF_TEST_UNSET;
    const err = await withWorker(settings, (client) =>
      run(client, 'bootstrap', input).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureMessage(err)).toContain(
      'database.replication.password: environment variable CF_TEST_UNSET is not set on the worker',
    );
    // mysqld was never started, so nothing on the hosts changed
    expect(onHost('dbt1', 'systemctl is-active mariadb').out).toBe('inactive');
  });

  it("bootstraps an empty primary and a replica from the primary's GTID position, then runs the canary", async () => {
    const input = inputOf({ primary: 'dbt1', replicas: ['dbt2'] });
    const result = await withWorker(settings, (client) => run(client, 'bootstrap', input));
    expect(result.primary).toBe('dbt1');
    expect(result.hosts.dbt2).toContain('replicating from dbt1 (empty primary, from its current position)');
    expect(result.notes.join('\n')).toMatch(/canary database replicated to dbt2 in \d+ ms/);
    expect(result.topology?.problems).toEqual([]);
    // persisted: a restart keeps server-id, binlog and read_only
    expect(onHost('dbt2', 'cat /etc/mysql/mariadb.conf.d/60-clusterflow.cnf').out).toMatch(
      /server_id\s*=\s*2[\s\S]*read_only\s*=\s*ON/,
    );
    expect(await readOnlyOf(input)).toEqual({ dbt1: false, dbt2: true });
  });

  it('adds a replica and an application later: the primary has data, so the new replica is cloned over SSH', async () => {
    const input = full();
    await withSql(pool, ep(input, 'dbt1'), async (sql) => {
      await sql.exec('CREATE DATABASE IF NOT EXISTS seeded');
      await sql.exec('CREATE TABLE IF NOT EXISTS seeded.t (id INT PRIMARY KEY, v VARCHAR(20))');
      await sql.exec("REPLACE INTO seeded.t VALUES (1, 'before dbt3')");
    });
    const result = await withWorker(settings, (client) => run(client, 'bootstrap', input));
    expect(result.hosts.dbt3.join('\n')).toMatch(/cloned from dbt1 \(\d+ bytes streamed\), replicating/);
    expect(result.hosts.dbt1).toContain('database appdb created');
    expect(result.topology?.problems).toEqual([]);
    const row = await withSql(pool, ep(input, 'dbt3'), (sql) =>
      sql.one('SELECT v FROM seeded.t WHERE id = 1'),
    );
    expect(row?.v).toBe('before dbt3');
    // the application account exists on every member, for the app node and the worker's address
    for (const m of DB_HOSTS) {
      const grants = await withSql(pool, ep(input, m), (sql) =>
        sql.rows("SHOW GRANTS FOR 'cfapp'@'10.77.0.1'"),
      );
      expect(JSON.stringify(grants)).toContain('GRANT ALL PRIVILEGES ON `appdb`.* TO `cfapp`@`10.77.0.1`');
    }
    // the secret never reached the workflow history
    const history = JSON.stringify(
      await withWorker(settings, async (client) => {
        const handle = await startDbOperation(client, settings, 'status', input);
        await handle.result();
        return handle.fetchHistory();
      }),
    );
    expect(history).not.toContain(secrets.CF_TEST_DB_ADMIN);
  });

  it('changes nothing when run again on the converged cluster', async () => {
    const result = await withWorker(settings, (client) => run(client, 'bootstrap', full()));
    expect(result.changed).toBe(false);
    expect(Object.values(result.hosts).flat()).toEqual([]);
  });

  it('reports the topology through the CLI as JSON', async () => {
    const file = writeSpec('cli', fullDatabase);
    const out = await withWorker(settings, async () => {
      const child = spawn(process.execPath, ['bin/clusterflow.js', 'db', 'status', '-f', file, '--json'], {
        env: {
          ...process.env,
          CLUSTERFLOW_TASK_QUEUE: settings.taskQueue,
          TEMPORAL_ADDRESS: settings.address,
        },
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      return { code, stdout };
    });
    expect(out.code).toBe(0);
    const topology = JSON.parse(out.stdout) as Topology;
    expect(topology.primary).toBe('dbt1');
    expect(topology.replicas.map((r) => [r.name, r.source, r.ioState, r.lagSeconds])).toEqual([
      ['dbt2', 'dbt1', 'running', 0],
      ['dbt3', 'dbt1', 'running', 0],
    ]);
  });

  it('switches over under a steady writer: never two writable members, no acknowledged commit lost, app config repointed', async () => {
    const input = { ...full(), candidate: 'dbt2' };
    const watch = watchWritable(
      pool,
      input.members.map((m) => ep(input, m.name)),
    );
    const writer = steadyWriter({
      members: input.members,
      port: 3306,
      user: 'cfapp',
      password: secrets.CF_TEST_DB_APP,
      database: 'appdb',
    });
    await new Promise((r) => setTimeout(r, 1500));
    const result = await withWorker(settings, (client) => run(client, 'switchover', input));
    await new Promise((r) => setTimeout(r, 1500));
    const load = await writer.stop();
    const watched = await watch.stop();

    expect(result.primary).toBe('dbt2');
    expect(result.previousPrimary).toBe('dbt1');
    expect(watched.rounds).toBeGreaterThan(20);
    expect(watched.violations).toEqual([]);
    expect(load.acked).toBeGreaterThan(200);
    expect(load.switches).toEqual(['dbt1', 'dbt2']);
    await withWorker(settings, (client) => run(client, 'bootstrap', full())); // waits for replicas to be level
    for (const m of DB_HOSTS)
      expect(await missingIds(pool, ep(input, m), 'appdb', load.ackedIds)).toEqual([]);
    expect(onHost(APP_HOST, `cat ${APP_PROPERTIES}`).out).toContain(
      `database.host=${ep(input, 'dbt2').address}`,
    );
    expect(await readOnlyOf(input)).toEqual({ dbt1: true, dbt2: false, dbt3: true });
  });

  it('refuses a switchover to a member that does not replicate from the primary, changing nothing', async () => {
    await withSql(pool, ep(full(), 'dbt3'), (sql) => sql.exec('STOP SLAVE'));
    try {
      const err = await withWorker(settings, (client) =>
        run(client, 'switchover', { ...full(), candidate: 'dbt3' }).catch((e: unknown) => e),
      );
      expect(failureMessage(err)).toMatch(
        /pre-checks failed, nothing was changed:[\s\S]*dbt3: replication not running/,
      );
      expect(await readOnlyOf(full())).toEqual({ dbt1: true, dbt2: false, dbt3: true });
    } finally {
      await withSql(pool, ep(full(), 'dbt3'), (sql) => sql.exec('START SLAVE'));
    }
  });

  it('rolls back when the candidate cannot catch up in time, after an operator approved', async () => {
    const input = inputOf({
      ...fullDatabase,
      switchover: { catchUpTimeoutSeconds: 2, approval: { required: true, timeoutSeconds: 120 } },
    });
    const blocker = new SshPool();
    // A lock held on the candidate stalls its SQL thread on the next replicated write, until the
    // switchover has ended (a fixed time was too short for a loaded machine to reach catch-up).
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
      setTimeout(r, 90_000).unref();
    });
    const held = withSql(blocker, ep(input, 'dbt1'), async (sql) => {
      await sql.exec('LOCK TABLES appdb.ledger WRITE');
      await released;
    });
    await new Promise((r) => setTimeout(r, 300));
    await withSql(pool, ep(input, 'dbt2'), (sql) =>
      sql.exec('INSERT INTO appdb.ledger (id) VALUES (999999)'),
    );
    const outcome = await withWorker(settings, async (client) => {
      const handle = await startDbOperation(client, settings, 'switchover', { ...input, candidate: 'dbt1' });
      for (let i = 0; i < 100; i++) {
        const p = await handle.query<{ phase: string }>('progress');
        if (p.phase === 'awaiting-approval') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.signal('approve');
      return handle.result().catch((e: unknown) => e);
    });
    release();
    await held;
    await blocker.close();
    expect(failureMessage(outcome)).toMatch(/dbt1 did not apply .* within 2 s; rolled back/);
    expect(await readOnlyOf(input)).toEqual({ dbt1: true, dbt2: false, dbt3: true });
    const topology = await withWorker(settings, (client) => run(client, 'status', full()));
    expect(topology.primary).toBe('dbt2');
  });

  it('runs one operation per cluster: a second is refused while the first holds the lock', async () => {
    const waiting = inputOf({
      ...fullDatabase,
      switchover: { approval: { required: true, timeoutSeconds: 60 } },
    });
    await withWorker(settings, async (client) => {
      const first = await startDbOperation(client, settings, 'switchover', waiting);
      for (let i = 0; i < 100; i++) {
        if ((await first.query<{ phase: string }>('progress')).phase === 'awaiting-approval') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const second = await run(client, 'bootstrap', full()).catch((e: unknown) => e);
      expect(failureMessage(second)).toContain(
        `cluster ${CLUSTER} is busy: another operation holds lock/${CLUSTER}`,
      );
      await first.cancel();
      await expect(first.result()).rejects.toThrow();
      // the lock died with the cancelled operation: the next one runs
      const again = await run(client, 'bootstrap', full());
      expect(again.changed).toBe(false);
    });
  });

  describe('kill -9 of the worker during a switchover', () => {
    // After read_only is where a lost worker would leave every member read-only and the writers
    // blocked; the two later points run with CLUSTERFLOW_SWITCHOVER_KILL=all.
    const points = [
      { step: 'after read_only', pauseBefore: 'dbKillClients' },
      ...(process.env.CLUSTERFLOW_SWITCHOVER_KILL === 'all'
        ? [
            { step: 'while waiting for catch-up', pauseBefore: 'dbWaitForPosition' },
            { step: 'after promotion', pauseBefore: 'dbReplicate' },
          ]
        : []),
    ];
    for (const point of points) {
      it(`a restarted worker finishes the switchover when the first dies ${point.step}`, async () => {
        const input = full();
        const before = (await withWorker(settings, (client) => run(client, 'status', input)))
          .primary as string;
        const target = before === 'dbt1' ? 'dbt2' : 'dbt1';
        const watch = watchWritable(
          pool,
          input.members.map((m) => ep(input, m.name)),
        );
        const child = await startPausedWorker(settings, point.pauseBefore);
        try {
          const { Client: TemporalClient, Connection } = await import('@temporalio/client');
          const connection = await Connection.connect({ address: settings.address });
          const client = new TemporalClient({ connection, namespace: settings.namespace });
          const handle = await startDbOperation(client, settings, 'switchover', {
            ...input,
            candidate: target,
          });
          // wait until the paused step is running on the child, then kill it without warning
          for (let i = 0; ; i++) {
            const d = await handle.describe();
            const pending = d.raw.pendingActivities ?? [];
            if (pending.some((a) => a.activityType?.name === point.pauseBefore && Number(a.state) === 2))
              break;
            if (i > 600) throw new Error(`${point.pauseBefore} never started`);
            await new Promise((r) => setTimeout(r, 50));
          }
          child.kill('SIGKILL');
          await new Promise((r) => child.on('exit', r));
          const result = (await withWorker(settings, () => handle.result())) as DbOperationResult;
          await connection.close();
          const watched = await watch.stop();
          expect(result.primary).toBe(target);
          expect(watched.violations).toEqual([]);
          const topology = await withWorker(settings, (c) => run(c, 'status', input));
          expect(topology.primary).toBe(target);
          expect(topology.problems).toEqual([]);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      });
    }
  });

  it('fails over when mysqld dies: the most advanced replica is promoted, the old primary fenced, never two writable', async () => {
    const input = full();
    const status = await withWorker(settings, (client) => run(client, 'status', input));
    const old = status.primary as string;
    const watch = watchWritable(
      pool,
      input.members.map((m) => ep(input, m.name)),
    );
    // SIGKILL, then stop the unit so systemd does not restart it: a primary that stays down.
    onHost(old, 'kill -9 $(pidof mariadbd); systemctl stop mariadb');
    const result = await withWorker(settings, (client) => run(client, 'failover', input));
    const watched = await watch.stop();
    expect(result.previousPrimary).toBe(old);
    expect(result.primary).not.toBe(old);
    expect(result.hosts[old]).toContain('fenced: mariadb stopped and disabled');
    expect(result.notes.join('\n')).toContain(`${old} confirmed down by 3 consecutive checks`);
    expect(watched.violations).toEqual([]);
    expect(onHost(old, 'systemctl is-enabled mariadb').out).toBe('disabled');

    // the old primary comes back as a replica of the new one
    const rejoined = await withWorker(settings, (client) => run(client, 'rejoin', { ...input, member: old }));
    expect(rejoined.hosts[old]).toContain(`replicates from ${result.primary}`);
    expect(rejoined.topology?.problems).toEqual([]);
  });

  it('refuses a second failover within the anti-flapping window unless an operator acknowledges', async () => {
    const input = inputOf({ ...fullDatabase, failover: { acknowledgeTimeoutSeconds: 2 } });
    const err = await withWorker(settings, (client) =>
      run(client, 'failover', input).catch((e: unknown) => e),
    );
    expect(failureMessage(err)).toMatch(
      new RegExp(
        `refused: db-failover/${CLUSTER}/\\S+ failed ${CLUSTER} over within the last 3600 s and nobody acknowledged`,
      ),
    );
    const topology = await withWorker(settings, (client) => run(client, 'status', full()));
    expect(topology.problems).toEqual([]);
  });

  it('fails over when no replica answers for a while: waits for one, then promotes it', async () => {
    // A window of 1 s: the failover above is older, so this one does not wait for an operator.
    const input = inputOf({ ...fullDatabase, failover: { antiFlappingSeconds: 1 } });
    const status = await withWorker(settings, (client) => run(client, 'status', input));
    const old = status.primary as string;
    const replicas = input.members.map((m) => m.name).filter((n) => n !== old);
    onHost(old, 'kill -9 $(pidof mariadbd); systemctl stop mariadb');
    // every replica's network cut for 10 s from the start: the primary is confirmed down by the
    // worker long before anyone could be promoted
    const links = replicas.map((r) => vethOf(hostAddress(r)));
    const ipLink = (state: string) => {
      for (const dev of links) expect(spawnSync('ip', ['link', 'set', dev, state]).status).toBe(0);
    };
    ipLink('down');
    const healed = new Promise<void>((resolve) =>
      setTimeout(() => {
        ipLink('up');
        resolve();
      }, 10_000),
    );
    try {
      const result = await withWorker(settings, (client) => run(client, 'failover', input));
      expect(replicas).toContain(result.primary);
      expect(result.notes.join('\n')).toMatch(/no replica answered for \d+ s; waited/);
      expect(result.hosts[old]).toContain('fenced: mariadb stopped and disabled');
      const rejoined = await withWorker(settings, (client) =>
        run(client, 'rejoin', { ...input, member: old }),
      );
      expect(rejoined.topology?.problems).toEqual([]);
    } finally {
      await healed;
    }
  });

  it('refuses to rejoin a member with errant transactions, listing them', async () => {
    const input = full();
    const topology = await withWorker(settings, (client) => run(client, 'status', input));
    const replica = topology.replicas[0].name;
    const serverId = input.members.find((m) => m.name === replica)?.serverId;
    // a write straight on a replica (our admin may write despite read_only): an errant transaction
    await withSql(pool, ep(input, replica), (sql) => sql.exec('CREATE DATABASE errant_on_replica'));
    const err = await withWorker(settings, (client) =>
      run(client, 'rejoin', { ...input, member: replica }).catch((e: unknown) => e),
    );
    expect(failureMessage(err)).toMatch(
      new RegExp(
        `refused: ${replica} has transactions ${topology.primary} lacks \\(errant\\): 0-${serverId}-\\d+`,
      ),
    );
    const after = await withWorker(settings, (client) => run(client, 'status', input));
    expect(after.replicas.find((r) => r.name === replica)?.errant).toHaveLength(1);
  });
});

describe('file/position replication, as the seed does it', () => {
  const hosts = ['dbf1', 'dbf2'];
  beforeAll(async () => {
    await down(hosts);
    await up(hosts);
  }, 120_000);
  afterAll(async () => {
    if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(hosts);
  });

  it("starts the replica at the primary's SHOW MASTER STATUS file and position, without GTID", async () => {
    const input = inputOf({
      primary: 'dbf1',
      replicas: ['dbf2'],
      replication: { password: 'env:CF_TEST_DB_REPL', gtid: false },
    });
    const result = await withWorker(settings, (client) => run(client, 'bootstrap', input));
    expect(result.hosts.dbf2).toContain('replicating from dbf1 (empty primary, from its current position)');
    expect(result.notes.join('\n')).toMatch(/canary database replicated to dbf2 in \d+ ms/);
    const status = await withSql(pool, ep(input, 'dbf2'), async (sql) => sql.one('SHOW SLAVE STATUS'));
    expect(status).toMatchObject({ Master_Host: ep(input, 'dbf1').address, Using_Gtid: 'No' });
    expect(String(status?.Master_Log_File)).toMatch(/^mysql-bin\.\d{6}$/);
    const again = await withWorker(settings, (client) => run(client, 'bootstrap', input));
    expect(again.changed).toBe(false);
  });
});
