import { ApplicationFailure } from '@temporalio/common';
import { escape as sqlEscape } from 'mysql2';
import type { Client as TemporalClient } from '@temporalio/client';
import {
  DbFailureTypes,
  type DbEndpoint,
  type DbSettings,
  type Flavour,
  type MemberState,
  type ResolvedAppConfigHook,
} from '../../common/db';
import type { HostTarget } from '../../common/hosts';
import type { ModuleResult } from '../../common/modules';
import { Remote } from '../remote';
import { resolveSecret } from '../secrets';
import type { SshPool } from '../ssh/pool';
import { shellQuote } from '../ssh/quote';
import { runTask } from '../tasks';
import { debianLayout, quoteIdentifier } from './dialect';
import { streamBetweenHosts } from './stream';
import { withSql, type Sql } from './sql';

type Hooks = () => { signal?: AbortSignal; onTick?: () => void };

const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function secret(ref: string, field: string): Promise<string> {
  return (await resolveSecret(ref, field)).toString().trimEnd();
}

/** Runs one module through the same path as a play task, failing the activity if the module fails. */
async function module(
  pool: SshPool,
  host: HostTarget,
  name: 'ini' | 'service' | 'properties',
  args: unknown,
  hooks: ReturnType<Hooks> = {},
): Promise<ModuleResult> {
  const result = await runTask(
    pool,
    { host, module: name, args, vars: {}, check: false, diff: false },
    hooks,
  );
  if (result.failed) {
    throw ApplicationFailure.nonRetryable(`${host.name}: ${name}: ${result.msg}`, 'ModuleFailed');
  }
  return result;
}

/** A shell command as the database's local superuser (root over the socket), with sudo if we log in as someone else. */
function asRoot(target: HostTarget, command: string): string {
  return target.user === 'root' ? command : `sudo -n ${command}`;
}

export async function probe(sql: Sql, address: string, adminUser: string): Promise<MemberState> {
  const d = sql.dialect;
  const vars = await sql.one(
    `SELECT @@GLOBAL.server_id AS sid, @@GLOBAL.read_only AS ro, @@GLOBAL.log_bin AS lb, ` +
      `${d.logReplicaUpdatesVariable} AS lru, ${d.gtidExecutedVariable} AS g` +
      (d.flavour === 'mariadb'
        ? ', @@GLOBAL.gtid_binlog_state AS st, @@GLOBAL.gtid_slave_pos AS sp'
        : ', @@GLOBAL.server_uuid AS su'),
  );
  const status = await sql.replicaStatus();
  const trx = await sql.one(d.oldestTransactionSql);
  const sessions = await sql.rows(d.clientSessionsSql, [adminUser]);
  const schemas = await sql.rows('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA');
  return {
    name: sql.member,
    address,
    reachable: true,
    flavour: d.flavour,
    version: d.version.text,
    serverId: Number(vars?.sid),
    ...(vars?.su ? { serverUuid: String(vars.su) } : {}),
    readOnly: Number(vars?.ro) === 1,
    logBin: Number(vars?.lb) === 1,
    logReplicaUpdates: Number(vars?.lru) === 1,
    gtidExecuted: String(vars?.g ?? '').replace(/\s/g, ''),
    ...(vars?.st !== undefined ? { gtidBinlogState: String(vars.st) } : {}),
    gtidApplied: String((d.flavour === 'mariadb' ? vars?.sp : vars?.g) ?? '').replace(/\s/g, ''),
    ...(status ? { replica: status } : {}),
    oldestTransactionSeconds: Number(trx?.age ?? 0),
    clientSessions: sessions.length,
    userSchemas: schemas.map((r) => String(r.s)).filter((s) => !SYSTEM_SCHEMAS.includes(s)),
  };
}

export interface AccountSpec {
  user: string;
  host: string;
  password: string;
  passwordField: string;
  privileges: string;
  on: string;
}

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

export function createDbActivities(pool: SshPool, hooks: Hooks, temporal?: TemporalClient) {
  const withMember = <T>(endpoint: DbEndpoint, fn: (sql: Sql) => Promise<T>) => withSql(pool, endpoint, fn);

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

  /**
   * Runs `work` against a host that may have gone away: past `ms` the host counts as not
   * answering, and its pooled SSH connection is dropped (a vanished host leaves a dead TCP
   * session that keepalives would take most of a minute to notice).
   */
  async function withinDeadline<T>(target: HostTarget, ms: number, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            pool.discard(target);
            reject(new Error(`no answer within ${ms} ms`));
          }, ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    /**
     * Every secret the operation will need, resolved once before anything changes, so a wrong
     * reference fails the operation up front with the field's name.
     */
    async dbCheckSecrets(refs: { field: string; ref: string }[]): Promise<void> {
      for (const { field, ref } of refs) await resolveSecret(ref, field);
    },

    /** Reads a member; an unreachable member is a state, not an error. */
    async dbProbe(endpoint: DbEndpoint, options: { timeoutMs?: number } = {}): Promise<MemberState> {
      try {
        return await withinDeadline(
          endpoint.target,
          options.timeoutMs ?? 10_000,
          withMember(endpoint, (sql) => probe(sql, endpoint.address, endpoint.admin.user)),
        );
      } catch (err) {
        return {
          name: endpoint.name,
          address: endpoint.address,
          reachable: false,
          error: (err as Error).message,
        };
      }
    },

    /**
     * mysqld running and enabled, and our admin account present for localhost. The account is
     * made over SSH through the server's socket as its local superuser, outside the binary log,
     * so every member has its own and nothing replicates.
     */
    async dbEnsureAdmin(input: {
      endpoint: DbEndpoint;
      service?: string;
    }): Promise<{ changed: boolean; flavour: Flavour; version: string; service: string }> {
      const { endpoint } = input;
      const remote = new Remote(pool, endpoint.target, hooks());
      let service = input.service;
      if (!service) {
        const r = await remote.must(
          'if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then echo mariadb; else echo mysql; fi',
          'detect the database service',
        );
        service = r.stdout.trim();
      }
      const started = await module(
        pool,
        endpoint.target,
        'service',
        {
          name: service,
          state: 'started',
          enabled: true,
        },
        hooks(),
      );
      const accountHosts = ['localhost', '127.0.0.1', endpoint.address];
      const tryLogin = () =>
        withMember(endpoint, async (sql) => {
          const row = await sql.one(
            'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host IN (?, ?, ?)',
            [endpoint.admin.user, ...accountHosts],
          );
          return Number(row?.n) === accountHosts.length
            ? { flavour: sql.dialect.flavour, version: sql.dialect.version.text }
            : undefined;
        });
      let changed = started.changed;
      let info: { flavour: Flavour; version: string } | undefined;
      for (let attempt = 0; attempt < 30; attempt++) {
        try {
          info = await tryLogin();
          break;
        } catch (err) {
          const type = (err as ApplicationFailure).type;
          if (type === 'AuthenticationFailed') break;
          if (type !== DbFailureTypes.DatabaseUnreachable) throw err;
          hooks().onTick?.();
          await sleep(500);
        }
      }
      if (!info) {
        const password = await secret(endpoint.admin.password, 'database.admin.password');
        const user = endpoint.admin.user;
        const statements = ['SET SESSION sql_log_bin = 0;'];
        for (const host of accountHosts) {
          const account = `${sqlEscape(user)}@${sqlEscape(host)}`;
          statements.push(
            `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${sqlEscape(password)};`,
            `ALTER USER ${account} IDENTIFIED BY ${sqlEscape(password)};`,
            `GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION;`,
          );
        }
        // The password goes on stdin, never in argv where ps could see it.
        await remote.must(
          asRoot(endpoint.target, 'mysql --protocol=socket -uroot'),
          'create the admin account',
          {
            stdin: statements.join('\n') + '\n',
          },
        );
        changed = true;
        info = await tryLogin();
        if (!info)
          throw ApplicationFailure.nonRetryable(
            `${endpoint.name}: the admin account is still missing`,
            'CommandFailed',
          );
      }
      return { changed, service, ...info };
    },

    /**
     * The server's replication settings in our own conf.d file, restarting mysqld only if the file
     * changed. Every member starts read-only; the workflow makes the primary writable.
     */
    async dbConfigure(input: {
      endpoint: DbEndpoint;
      serverId: number;
      settings: DbSettings;
      service: string;
    }): Promise<{ changed: boolean; restarted: boolean }> {
      const { endpoint, settings } = input;
      const { dialect, readOnly } = await withMember(endpoint, async (sql) => ({
        dialect: sql.dialect,
        readOnly: Number((await sql.one('SELECT @@GLOBAL.read_only AS ro'))?.ro) === 1,
      }));
      const path = settings.config.path ?? debianLayout(dialect.flavour).configPath;
      const options = {
        ...dialect.serverConfig({
          serverId: input.serverId,
          bindAddress: endpoint.address,
          gtid: settings.replication.gtid,
          semiSync: settings.replication.semiSync,
          netTimeoutSeconds: settings.replication.netTimeoutSeconds,
        }),
        ...Object.fromEntries(
          Object.entries(settings.config.options).map(([k, v]) => [
            k,
            typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : v,
          ]),
        ),
      };
      const edit = await module(
        pool,
        endpoint.target,
        'ini',
        {
          path,
          settings: { mysqld: options },
          mode: '0644',
        },
        hooks(),
      );
      if (!edit.changed) return { changed: false, restarted: false };
      await module(pool, endpoint.target, 'service', { name: input.service, state: 'restarted' }, hooks());
      // Wait for mysqld to answer again; a primary that was writable before is writable again,
      // because the restart alone must not change who takes writes.
      for (let attempt = 0; ; attempt++) {
        try {
          await withMember(endpoint, async (sql) => {
            if (!readOnly) await sql.execAll(sql.dialect.setReadOnly(false));
          });
          break;
        } catch (err) {
          if (attempt > 60 || (err as ApplicationFailure).type !== DbFailureTypes.DatabaseUnreachable)
            throw err;
          hooks().onTick?.();
          await sleep(500);
        }
      }
      return { changed: true, restarted: true };
    },

    /** Accounts and grants on one member, outside the binary log (each member gets its own). */
    async dbEnsureAccounts(input: {
      endpoint: DbEndpoint;
      accounts: Omit<AccountSpec, 'password'>[];
      passwords: Record<string, string>;
    }): Promise<{ changed: string[] }> {
      const changed: string[] = [];
      await withMember(input.endpoint, async (sql) => {
        await sql.exec('SET SESSION sql_log_bin = 0');
        for (const a of input.accounts) {
          const password = await secret(input.passwords[a.passwordField], a.passwordField);
          const label = `${a.user}@${a.host}`;
          const existing = await sql.one('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [
            a.user,
            a.host,
          ]);
          let needsPassword = Number(existing?.n) === 0;
          if (!needsPassword && sql.dialect.flavour === 'mariadb') {
            const same = await sql.one(
              'SELECT authentication_string = PASSWORD(?) AS same FROM mysql.user WHERE User = ? AND Host = ?',
              [password, a.user, a.host],
            );
            needsPassword = Number(same?.same) !== 1;
          }
          if (Number(existing?.n) === 0) {
            await sql.exec('CREATE USER ?@? IDENTIFIED BY ?', [a.user, a.host, password]);
          } else if (needsPassword) {
            await sql.exec('ALTER USER ?@? IDENTIFIED BY ?', [a.user, a.host, password]);
          }
          const grants = (await sql.rows('SHOW GRANTS FOR ?@?', [a.user, a.host])).map((r) =>
            String(Object.values(r)[0]).replace(/`/g, ''),
          );
          const wanted = `GRANT ${a.privileges} ON ${a.on.replace(/`/g, '')} TO`;
          const hasGrant = grants.some((g) => g.startsWith(wanted));
          if (!hasGrant) await sql.exec(`GRANT ${a.privileges} ON ${a.on} TO ?@?`, [a.user, a.host]);
          if (needsPassword || !hasGrant) changed.push(label);
        }
      });
      return { changed };
    },

    /** Application schemas on the primary (these do replicate). */
    async dbEnsureSchemas(input: {
      endpoint: DbEndpoint;
      schemas: string[];
    }): Promise<{ created: string[] }> {
      return withMember(input.endpoint, async (sql) => {
        const created: string[] = [];
        for (const s of input.schemas) {
          const found = await sql.one(
            'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
            [s],
          );
          if (!found) {
            await sql.exec(`CREATE DATABASE ${quoteIdentifier(s)}`);
            created.push(s);
          }
        }
        return { created };
      });
    },

    /** File and position of the primary's binary log: the seed's SHOW MASTER STATUS. */
    async dbBinlogPosition(endpoint: DbEndpoint): Promise<{ file: string; position: number; gtid: string }> {
      return withMember(endpoint, async (sql) => {
        const row = await sql.one(sql.dialect.showBinlogStatus);
        const g = await sql.one(`SELECT ${sql.dialect.gtidExecutedVariable} AS g`);
        if (!row)
          throw ApplicationFailure.nonRetryable(`${endpoint.name}: binary logging is off`, 'PrecheckFailed');
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
            'ReplicationBroken',
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

    async dbSetReadOnly(input: { endpoint: DbEndpoint; readOnly: boolean }): Promise<{ changed: boolean }> {
      return withMember(input.endpoint, async (sql) => {
        const ro = Number((await sql.one('SELECT @@GLOBAL.read_only AS ro'))?.ro) === 1;
        if (ro === input.readOnly && (input.readOnly || sql.dialect.flavour === 'mariadb'))
          return { changed: false };
        await sql.execAll(sql.dialect.setReadOnly(input.readOnly));
        return { changed: true };
      });
    },

    /** Ends client sessions after read_only, so no open transaction commits on the old primary. */
    async dbKillClients(endpoint: DbEndpoint): Promise<{ killed: number }> {
      return withMember(endpoint, async (sql) => {
        const sessions = await sql.rows(sql.dialect.clientSessionsSql, [endpoint.admin.user]);
        let killed = 0;
        for (const s of sessions) {
          try {
            await sql.exec('KILL CONNECTION ?', [Number(s.id)]);
            killed++;
          } catch {
            // the session ended by itself meanwhile
          }
        }
        return { killed };
      });
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

    /** Stops replicating, forgets its source and takes writes. Safe to repeat. */
    async dbPromote(endpoint: DbEndpoint): Promise<{ position: string }> {
      return withMember(endpoint, async (sql) => {
        const d = sql.dialect;
        await sql.exec(d.stopReplica);
        await sql.exec(d.resetReplicaAll);
        await sql.execAll(d.setReadOnly(false));
        const g = await sql.one(`SELECT ${d.gtidExecutedVariable} AS g`);
        return { position: String(g?.g ?? '').replace(/\s/g, '') };
      });
    },

    /**
     * Makes sure a lost primary can never take writes again: stop and disable mysqld, or force
     * read_only (the config file already starts it read-only). An unreachable host is reported,
     * not retried forever: its config keeps it read-only when it returns.
     */
    async dbFence(input: {
      endpoint: DbEndpoint;
      mode: 'stop' | 'read_only';
      service: string;
    }): Promise<{ fenced: boolean; how: string }> {
      const remote = new Remote(pool, input.endpoint.target, hooks());
      try {
        // A host that is gone must not hold up the failover: a second to answer, or it is down.
        await withinDeadline(input.endpoint.target, 1000, remote.run('true'));
        if (input.mode === 'stop') {
          await remote.must(
            asRoot(input.endpoint.target, `systemctl disable --now ${shellQuote(input.service)}`),
            'stop and disable mysqld',
            { timeoutMs: 60_000 },
          );
          return { fenced: true, how: `${input.service} stopped and disabled` };
        }
        await withMember(input.endpoint, (sql) => sql.execAll(sql.dialect.setReadOnly(true)));
        return { fenced: true, how: 'read_only at runtime and in its config' };
      } catch (err) {
        return {
          fenced: false,
          how: `not reachable (${(err as Error).message.split('\n')[0]}); its config starts it read-only`,
        };
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
      await withMember(input.primary, (sql) => sql.exec(`CREATE DATABASE IF NOT EXISTS ${ident}`));
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
                  'ReplicationBroken',
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

    /** Points app nodes at the new primary in their config file; restarts their service if asked. */
    async dbUpdateAppConfig(input: {
      hook: ResolvedAppConfigHook;
      host: HostTarget;
      primary: { name: string; address: string };
    }): Promise<{ changed: boolean }> {
      const { hook } = input;
      const value = hook.value
        .replace(/\{\{\s*primary_address\s*\}\}/g, input.primary.address)
        .replace(/\{\{\s*primary\s*\}\}/g, input.primary.name);
      const result =
        hook.format === 'properties'
          ? await module(
              pool,
              input.host,
              'properties',
              { path: hook.path, set: { [hook.key]: value } },
              hooks(),
            )
          : await module(
              pool,
              input.host,
              'ini',
              {
                path: hook.path,
                settings: { [hook.section ?? 'database']: { [hook.key]: value } },
              },
              hooks(),
            );
      if (result.changed && hook.restart) {
        await module(pool, input.host, 'service', { name: hook.restart, state: 'restarted' }, hooks());
      }
      return { changed: result.changed };
    },

    /** Completed failovers of this cluster that closed within the window (anti-flapping). */
    async dbRecentFailovers(input: {
      cluster: string;
      withinSeconds: number;
      excludeWorkflowId: string;
    }): Promise<{ workflowId: string; closedAt: string }[]> {
      if (!temporal)
        throw ApplicationFailure.nonRetryable(
          'the worker has no Temporal client for visibility queries',
          'WorkerMisconfigured',
        );
      const since = new Date(Date.now() - input.withinSeconds * 1000).toISOString();
      const found: { workflowId: string; closedAt: string }[] = [];
      const query =
        `WorkflowType = 'dbFailover' AND ClusterName = ${sqlEscape(input.cluster)} ` +
        `AND ExecutionStatus = 'Completed' AND CloseTime > '${since}'`;
      for await (const wf of temporal.workflow.list({ query })) {
        if (wf.workflowId !== input.excludeWorkflowId)
          found.push({ workflowId: wf.workflowId, closedAt: wf.closeTime?.toISOString() ?? '' });
      }
      return found;
    },
  };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
