import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { DbEndpoint, DbSettings } from '../../common/db';
import { shellQuote } from '../ssh/quote';
import { quoteIdentifier } from './dialect';
import { streamBetweenHosts } from './stream';
import type { Sql } from './sql';
import { asRoot, secret, sleep, type DbContext } from './context';

export interface ReplicateInput {
  replica: DbEndpoint;
  source: { address: string; port: number };
  replication: DbSettings['replication'];
  /**
   * fresh: start from the source's position `position` (empty primary);
   * keep: keep the position the replica has applied (repointing);
   * adopt: a former primary: what it binlogged is what it has applied.
   */
  mode: 'fresh' | 'keep' | 'adopt';
  position?: string;
  logFile?: string;
  logPos?: number;
}

/** Starting, copying, waiting for and proving replication. */
export function replicationActivities({ pool, hooks, withMember }: DbContext) {
  /** CHANGE MASTER/SOURCE TO the source, with the replication password resolved here. */
  async function pointAtSource(sql: Sql, input: ReplicateInput): Promise<void> {
    const change = sql.dialect.changeSource({
      host: input.source.address,
      port: input.source.port,
      user: input.replication.user,
      password: await secret(input.replication.password, 'database.replication.password'),
      gtid: input.replication.gtid,
      heartbeatSeconds: input.replication.heartbeatSeconds,
      connectRetrySeconds: input.replication.connectRetrySeconds,
      logFile: input.logFile,
      logPos: input.logPos,
    });
    await sql.exec(change.sql, change.values);
  }

  async function replicate(sql: Sql, input: ReplicateInput): Promise<void> {
    const d = sql.dialect;
    await sql.exec(d.stopReplica);
    if (input.mode === 'fresh' && input.replication.gtid)
      await sql.execAll(d.startFrom(input.position ?? ''));
    if (input.mode === 'adopt') await sql.execAll(d.adoptOwnPosition);
    await pointAtSource(sql, input);
    await sql.exec(d.startReplica);
  }

  return {
    /** File and position of the primary's binary log: the seed's SHOW MASTER STATUS. */
    async dbBinlogPosition(endpoint: DbEndpoint): Promise<{ file: string; position: number; gtid: string }> {
      return withMember(endpoint, async (sql) => {
        const row = await sql.one(sql.dialect.showBinlogStatus);
        const g = await sql.one(`SELECT ${sql.dialect.gtidExecutedVariable} AS g`);
        if (!row)
          throw ApplicationFailure.nonRetryable(
            `${endpoint.name}: binary logging is off`,
            FailureTypes.PrecheckFailed,
          );
        return {
          file: String(row.File),
          position: Number(row.Position),
          gtid: String(g?.g ?? '').replace(/\s/g, ''),
        };
      });
    },

    async dbReplicate(input: ReplicateInput): Promise<void> {
      await withMember(input.replica, (sql) => replicate(sql, input));
    },

    /**
     * The initial copy of a primary that has data: a consistent mysqldump (single transaction,
     * with its GTID or binlog position) piped from the primary into the replica's mysql over two
     * SSH channels. It streams through the worker's memory and never lands on its disk.
     */
    async dbCloneReplica(input: {
      primary: DbEndpoint;
      replica: ReplicateInput;
      schemas: string[];
    }): Promise<{ bytes: number }> {
      // Point the replica at the primary first: the dump's own position statements come after.
      // Bootstrap has checked that every member runs the same flavour.
      const flavour = await withMember(input.replica.replica, async (sql) => {
        await sql.exec(sql.dialect.stopReplica);
        await pointAtSource(sql, input.replica);
        if (sql.dialect.flavour === 'mysql') await sql.exec(sql.dialect.resetBinaryLogs);
        return sql.dialect.flavour;
      });
      const dump = [
        'mysqldump',
        '--single-transaction',
        '--master-data=1',
        '--routines',
        '--events',
        '--triggers',
        '--hex-blob',
        ...(input.replica.replication.gtid && flavour === 'mariadb' ? ['--gtid'] : []),
        ...(flavour === 'mysql'
          ? ['--set-gtid-purged=' + (input.replica.replication.gtid ? 'ON' : 'OFF')]
          : []),
        '--databases',
        ...input.schemas,
      ]
        .map(shellQuote)
        .join(' ');
      const bytes = await streamBetweenHosts(pool, {
        from: input.primary.target,
        fromCommand: asRoot(input.primary.target, dump),
        to: input.replica.replica.target,
        toCommand: asRoot(input.replica.replica.target, 'mysql --protocol=socket -uroot'),
        prefix: 'SET SESSION sql_log_bin = 0;\n',
        onProgress: hooks().onTick,
      });
      await withMember(input.replica.replica, (sql) => sql.exec(sql.dialect.startReplica));
      return { bytes };
    },

    /** Waits until a replica replicates from `source` with both threads running and no lag. */
    async dbWaitReplicating(input: {
      endpoint: DbEndpoint;
      source: string;
      timeoutSeconds: number;
    }): Promise<{ lagSeconds: number }> {
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      let last = '';
      for (;;) {
        const state = await withMember(input.endpoint, async (sql) => sql.replicaStatus());
        if (
          state &&
          state.sourceHost === input.source &&
          state.ioState === 'running' &&
          state.sqlRunning &&
          state.lagSeconds === 0 &&
          !state.relayPending
        )
          return { lagSeconds: 0 };
        last = !state
          ? 'not a replica'
          : state.lastIoError ||
            state.lastSqlError ||
            `io ${state.ioState}, sql ${state.sqlRunning ? 'running' : 'stopped'}, lag ${state.lagSeconds}`;
        if (Date.now() > deadline) {
          throw ApplicationFailure.nonRetryable(
            `${input.endpoint.name}: not replicating from ${input.source} after ${input.timeoutSeconds} s: ${last}`,
            FailureTypes.ReplicationBroken,
          );
        }
        hooks().onTick?.();
        await sleep(200);
      }
    },

    /** Waits until a replica has applied everything it already received (failover, before choosing). */
    async dbWaitRelayApplied(input: {
      endpoint: DbEndpoint;
      timeoutSeconds: number;
    }): Promise<{ applied: boolean }> {
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      for (;;) {
        const state = await withMember(input.endpoint, async (sql) => sql.replicaStatus());
        if (!state || !state.relayPending) return { applied: true };
        if (!state.sqlRunning || Date.now() > deadline) return { applied: false };
        hooks().onTick?.();
        await sleep(100);
      }
    },

    /** Blocks until the member has applied `position`, up to the timeout. */
    async dbWaitForPosition(input: {
      endpoint: DbEndpoint;
      position: string;
      timeoutSeconds: number;
    }): Promise<{ reached: boolean; waitedMs: number }> {
      const started = Date.now();
      const timer = setInterval(() => hooks().onTick?.(), 1000);
      try {
        return await withMember(input.endpoint, async (sql) => {
          const q = sql.dialect.waitForPosition(input.position, input.timeoutSeconds);
          const r = await sql.one(q.sql, q.values);
          return { reached: Number(r?.r) === 0, waitedMs: Date.now() - started };
        });
      } finally {
        clearInterval(timer);
      }
    },

    /** The seed's test: a database created on the primary appears on every replica, then goes. */
    async dbCanary(input: {
      primary: DbEndpoint;
      replicas: DbEndpoint[];
      name: string;
      timeoutSeconds: number;
    }): Promise<{ replicatedMs: Record<string, number> }> {
      const started = Date.now();
      const ident = quoteIdentifier(input.name);
      await withMember(input.primary, async (sql) => {
        // An admin account writes through read_only: a canary on a replica would be an errant
        // transaction that breaks its replication, so only a writable server gets one.
        const row = await sql.one('SELECT @@GLOBAL.read_only AS ro');
        if (Number(row?.ro) !== 0)
          throw ApplicationFailure.nonRetryable(
            `${input.primary.name} is read-only: not the primary, so no canary is written there`,
            FailureTypes.Refused,
          );
        await sql.exec(`CREATE DATABASE IF NOT EXISTS ${ident}`);
      });
      const seen: Record<string, number> = {};
      const waitFor = async (present: boolean) => {
        for (const replica of input.replicas) {
          const deadline = Date.now() + input.timeoutSeconds * 1000;
          await withMember(replica, async (sql) => {
            for (;;) {
              const row = await sql.one(
                'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
                [input.name],
              );
              if ((Number(row?.n) === 1) === present) break;
              if (Date.now() > deadline)
                throw ApplicationFailure.nonRetryable(
                  `${replica.name}: canary database ${input.name} ${present ? 'never appeared' : 'was not dropped'} within ${input.timeoutSeconds} s`,
                  FailureTypes.ReplicationBroken,
                );
              hooks().onTick?.();
              await sleep(50);
            }
          });
          if (present) seen[replica.name] = Date.now() - started;
        }
      };
      await waitFor(true);
      await withMember(input.primary, (sql) => sql.exec(`DROP DATABASE IF EXISTS ${ident}`));
      await waitFor(false);
      return { replicatedMs: seen };
    },
  };
}
