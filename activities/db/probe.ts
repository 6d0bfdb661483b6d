import type { DbEndpoint, MemberState } from '../../common/db';
import { resolveSecret } from '../secrets';
import type { Sql } from './sql';
import { SYSTEM_SCHEMAS, type DbContext } from './context';

// Reading a member: what it is, whom it replicates from, how far it is.
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

/** Secrets checked up front, and members read. */
export function probeActivities({ withMember, withinDeadline }: DbContext) {
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
  };
}
