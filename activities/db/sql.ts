import type { Duplex } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { type DbEndpoint, type ReplicaStatus } from '../../common/db';
import { FailureTypes } from '../../common/errors';
import { resolveSecret } from '../secrets';
import type { SshPool } from '../ssh/pool';
import { Dialect, parseVersion } from './dialect';

/** One admin session on one member, with its dialect. Values always go as placeholders. */
export class Sql {
  constructor(
    readonly conn: Connection,
    readonly dialect: Dialect,
    readonly member: string,
  ) {}

  async rows(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    const [rows] = await this.conn.query<RowDataPacket[]>(sql, values);
    return rows as Record<string, unknown>[];
  }

  async one(sql: string, values: unknown[] = []): Promise<Record<string, unknown> | undefined> {
    return (await this.rows(sql, values))[0];
  }

  async exec(sql: string, values: unknown[] = []): Promise<void> {
    await this.conn.query(sql, values);
  }

  /** SHOW SLAVE/REPLICA STATUS, normalised; undefined when this member is not a replica. */
  async replicaStatus(): Promise<ReplicaStatus | undefined> {
    return this.dialect.replicaStatus(await this.one(this.dialect.showReplicaStatus));
  }

  async execAll(statements: string[]): Promise<void> {
    for (const s of statements) await this.exec(s);
  }
}

/** mysqld refused or is not there: the member is down (as opposed to our credentials being wrong). */
export function databaseUnreachable(member: string, err: unknown): ApplicationFailure {
  return ApplicationFailure.retryable(
    `${member}: database not reachable: ${(err as Error).message}`,
    FailureTypes.DatabaseUnreachable,
  );
}

function tunnel(pool: SshPool, endpoint: DbEndpoint) {
  return <T>(fn: (stream: Duplex) => Promise<T>): Promise<T> =>
    pool.withConnection(endpoint.target, async (client) => {
      const open = (host: string) =>
        new Promise<Duplex>((resolve, reject) =>
          client.forwardOut('127.0.0.1', 0, host, endpoint.port, (err, s) =>
            err ? reject(err) : resolve(s),
          ),
        );
      // mysqld listens on the member's address once configured (as the seed's bind-address),
      // on loopback before that (Debian's default).
      let stream: Duplex;
      try {
        stream = await open(endpoint.address);
      } catch {
        try {
          stream = await open('127.0.0.1');
        } catch (err) {
          throw databaseUnreachable(endpoint.name, err);
        }
      }
      return fn(stream);
    });
}

/**
 * Runs `fn` with an admin session on a member. The session rides an SSH channel opened on the
 * member itself, so mysqld needs no port open to the worker and the admin account exists only
 * for connections from the member's own addresses. The password is resolved here, at the last moment.
 */
export async function withSql<T>(
  pool: SshPool,
  endpoint: DbEndpoint,
  fn: (sql: Sql) => Promise<T>,
  options: { connectTimeoutMs?: number } = {},
): Promise<T> {
  const password = (await resolveSecret(endpoint.admin.password, 'database.admin.password'))
    .toString()
    .trimEnd();
  return tunnel(
    pool,
    endpoint,
  )(async (stream) => {
    let conn: Connection;
    try {
      conn = await createConnection({
        stream,
        user: endpoint.admin.user,
        password,
        connectTimeout: options.connectTimeoutMs ?? 5000,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      });
    } catch (err) {
      stream.destroy();
      const code = (err as { code?: string }).code;
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
        throw ApplicationFailure.nonRetryable(
          `${endpoint.name}: the database refused ${endpoint.admin.user} (check database.admin.password)`,
          FailureTypes.AuthenticationFailed,
        );
      }
      throw databaseUnreachable(endpoint.name, err);
    }
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v, @@version_comment AS c');
      const dialect = new Dialect(parseVersion(String(rows[0].v), String(rows[0].c)));
      return await fn(new Sql(conn, dialect, endpoint.name));
    } finally {
      conn.destroy();
    }
  });
}
