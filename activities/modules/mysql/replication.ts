import { format, type FieldPacket, type ResultSetHeader } from 'mysql2/promise';
import type { z } from 'zod';
import type { ModuleResult, MysqlReplicationArgs } from '../../../common/modules';
import { REDACTED } from '../../../common/vaulted';
import { atLeast, type ServerVersion } from '../../db/dialect';
import type { Sql } from '../../db/sql';
import { failed, type ModuleRunner } from '../context';
import { withMysql } from './session';

// `mysql_replication` (community.mysql.mysql_replication): a server's binary log position, its
// replica status, and the statements that point a replica at a primary and start, stop or reset
// it. As in community.mysql: the get modes never change anything; changeprimary always reports a
// change; start and stop report one unless the server answered with a warning (START on a running
// replica: "already running"), resets unless it failed; an error fails the task only with
// fail_on_error. Like community.mysql it has no check mode (the task is skipped). The replication
// password travels as a parameter and shows as ******** in `queries`.

type MysqlReplication = z.infer<typeof MysqlReplicationArgs>;
type Mode = MysqlReplication['mode'];

/** The words a server takes for replication, picked by version as community.mysql picks them. */
export interface ReplicationSyntax {
  replica: 'REPLICA' | 'SLAVE';
  showPrimaryStatus: string;
  changePrimary: 'CHANGE MASTER' | 'CHANGE REPLICATION SOURCE';
  /** The prefix of CHANGE's options: MASTER_HOST or SOURCE_HOST. */
  option: 'MASTER' | 'SOURCE';
  resetPrimary: string;
}

/** Pure: MySQL 8.0.22 and MariaDB 10.5.1 say REPLICA; MySQL 8.0.23 says SOURCE; 8.2/8.4 renamed more. */
export function replicationSyntax(v: ServerVersion): ReplicationSyntax {
  const mysql = v.flavour === 'mysql';
  const source = mysql && atLeast(v, 8, 0, 23);
  const binlogStatus = mysql
    ? atLeast(v, 8, 2, 0) && 'SHOW BINARY LOG STATUS'
    : atLeast(v, 10, 5, 2) && 'SHOW BINLOG STATUS';
  return {
    replica: (mysql ? atLeast(v, 8, 0, 22) : atLeast(v, 10, 5, 1)) ? 'REPLICA' : 'SLAVE',
    showPrimaryStatus: binlogStatus || 'SHOW MASTER STATUS',
    changePrimary: source ? 'CHANGE REPLICATION SOURCE' : 'CHANGE MASTER',
    option: source ? 'SOURCE' : 'MASTER',
    resetPrimary: mysql && atLeast(v, 8, 4, 0) ? 'RESET BINARY LOGS AND GTIDS' : 'RESET MASTER',
  };
}

/** One statement: `values` go to the server, `shown` (the password masked) to `queries`. */
export interface Statement {
  sql: string;
  values: unknown[];
  shown: unknown[];
}

const statement = (sql: string, values: unknown[] = []): Statement => ({ sql, values, shown: values });

/** ` 'name'` after the verb (MariaDB's connection) and ` FOR CHANNEL 'name'` after all (MySQL's). */
function target(a: Pick<MysqlReplication, 'connection_name' | 'channel'>) {
  return {
    named: a.connection_name !== undefined ? ' ?' : '',
    name: a.connection_name !== undefined ? [a.connection_name] : [],
    channel: a.channel !== undefined ? ' FOR CHANNEL ?' : '',
    channelName: a.channel !== undefined ? [a.channel] : [],
  };
}

/** Pure: SHOW … STATUS for the get modes. */
export function statusStatement(a: MysqlReplication, s: ReplicationSyntax): Statement {
  if (a.mode === 'getprimary') return statement(s.showPrimaryStatus);
  const t = target(a);
  return statement(`SHOW ${s.replica}${t.named} STATUS${t.channel}`, [...t.name, ...t.channelName]);
}

/** Pure: CHANGE MASTER TO with every option given, in community.mysql's order. */
export function changePrimaryStatement(a: MysqlReplication, s: ReplicationSyntax): Statement {
  const o = (name: string) => `${s.option}_${name}`;
  const flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0);
  const options: [string, unknown][] = [
    [o('HOST'), a.primary_host],
    [o('USER'), a.primary_user],
    [o('PASSWORD'), a.primary_password],
    [o('PORT'), a.primary_port],
    [o('CONNECT_RETRY'), a.primary_connect_retry],
    [o('LOG_FILE'), a.primary_log_file],
    [o('LOG_POS'), a.primary_log_pos],
    [o('DELAY'), a.primary_delay],
    ['RELAY_LOG_FILE', a.relay_log_file],
    ['RELAY_LOG_POS', a.relay_log_pos],
    [o('SSL'), flag(a.primary_ssl)],
    [o('SSL_CA'), a.primary_ssl_ca],
    [o('SSL_CAPATH'), a.primary_ssl_capath],
    [o('SSL_CERT'), a.primary_ssl_cert],
    [o('SSL_KEY'), a.primary_ssl_key],
    [o('SSL_CIPHER'), a.primary_ssl_cipher],
    [o('SSL_VERIFY_SERVER_CERT'), flag(a.primary_ssl_verify_server_cert)],
    [o('AUTO_POSITION'), a.primary_auto_position ? 1 : undefined],
  ];
  const given = options.filter(([, v]) => v !== undefined);
  const clauses = given.map(([k]) => `${k}=?`);
  // MASTER_USE_GTID takes a keyword, not a string: one of the schema's, never the task's text.
  if (a.primary_use_gtid !== undefined) clauses.push(`MASTER_USE_GTID=${useGtid(a.primary_use_gtid, s)}`);
  const t = target(a);
  const sql = `${s.changePrimary}${t.named} TO ${clauses.join(',')}${t.channel}`;
  const values = given.map(([, v]) => v);
  const shown = given.map(([k, v]) => (k === o('PASSWORD') ? REDACTED : v));
  return {
    sql,
    values: [...t.name, ...values, ...t.channelName],
    shown: [...t.name, ...shown, ...t.channelName],
  };
}

function useGtid(v: NonNullable<MysqlReplication['primary_use_gtid']>, s: ReplicationSyntax): string {
  if (v === 'disabled') return 'no';
  return v === 'replica_pos' && s.replica === 'SLAVE' ? 'slave_pos' : v;
}

type Control = Exclude<Mode, 'getprimary' | 'getreplica' | 'changeprimary'>;

/** What community.mysql says of each control mode: done, nothing done, and its name in a failure. */
const CONTROL: Record<Control, { done: string; already: string; failure: string }> = {
  startreplica: {
    done: 'Replica started ',
    already: 'Replica already started (Or cannot be started)',
    failure: 'START REPLICA',
  },
  stopreplica: { done: 'Replica stopped', already: 'Replica already stopped', failure: 'STOP REPLICA' },
  resetreplica: { done: 'Replica reset', already: 'Replica already reset', failure: 'RESET REPLICA' },
  resetreplicaall: { done: 'Replica reset', already: 'Replica already reset', failure: 'RESET REPLICA ALL' },
  // Named as the statement is: RESET MASTER, or MySQL 8.4's RESET BINARY LOGS AND GTIDS.
  resetprimary: { done: 'Primary reset', already: 'Primary already reset', failure: '' },
};

/** Pure: START/STOP/RESET [REPLICA|SLAVE] ['name'] [ALL] [FOR CHANNEL 'name'], or RESET MASTER. */
export function controlStatement(a: MysqlReplication & { mode: Control }, s: ReplicationSyntax): Statement {
  if (a.mode === 'resetprimary') return statement(s.resetPrimary);
  const verb = {
    startreplica: 'START',
    stopreplica: 'STOP',
    resetreplica: 'RESET',
    resetreplicaall: 'RESET',
  }[a.mode];
  const t = target(a);
  const all = a.mode === 'resetreplicaall' ? ' ALL' : '';
  return statement(`${verb} ${s.replica}${t.named}${all}${t.channel}`, [...t.name, ...t.channelName]);
}

/** Pure: the statement as `queries` shows it. */
export const shownQuery = (st: Statement) => format(st.sql, st.shown as never[]);

/** How a statement went: the server's warnings (notes too), or the error it raised. */
export interface Outcome {
  warnings: string[];
  error?: string;
}

/**
 * Pure: a control mode's result, as community.mysql decides it with the driver's warnings raised
 * as errors: a warning to START or STOP is nothing done; an error is nothing done, or a failure
 * with fail_on_error. A RESET's note is about the STOP it implies ("already stopped"), not the
 * reset, so a reset that ran is a change (as community.mysql reports it with PyMySQL 0.10 on).
 */
export function controlResult(
  mode: Control,
  outcome: Outcome,
  failOnError: boolean,
  queries: string[],
): ModuleResult {
  const words = CONTROL[mode];
  if (outcome.error !== undefined && failOnError)
    return failed(`${words.failure || queries[0]} failed: ${outcome.error}`, { data: { queries } });
  const warned = (mode === 'startreplica' || mode === 'stopreplica') && outcome.warnings.length > 0;
  const done = outcome.error === undefined && !warned;
  const msg = done ? words.done : words.already;
  return { changed: done, msg, data: { msg, queries } };
}

/** The columns of a result set that hold integers: BIGINTs come as strings from the driver. */
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9]);
export const integerColumns = (fields: Pick<FieldPacket, 'name' | 'type' | 'columnType'>[]) =>
  fields.filter((f) => INTEGER_TYPES.has(f.columnType ?? f.type ?? -1)).map((f) => f.name);

/** Pure: a status row as PyMySQL's DictCursor gives it: integers as numbers, text as text. */
export function statusRow(
  row: Record<string, unknown>,
  integers: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => {
      if (Buffer.isBuffer(v)) return [k, v.toString('utf8')];
      if (
        typeof v === 'string' &&
        integers.includes(k) &&
        /^-?\d+$/.test(v) &&
        Number.isSafeInteger(Number(v))
      )
        return [k, Number(v)];
      return [k, v];
    }),
  );
}

/**
 * Pure: getprimary's result. Is_Master and Is_Slave (below) are the names before community.mysql
 * 2.0, which roles written for it still read.
 */
export function primaryData(row: Record<string, unknown> | undefined): Record<string, unknown> {
  if (row && 'File' in row && 'Position' in row) return { ...row, Is_Primary: true, Is_Master: true };
  return {
    Is_Primary: false,
    Is_Master: false,
    msg: 'Server is not configured as mysql primary. Meaning: Binary logs are disabled',
  };
}

/** Pure: getreplica's result; a server that replicates from nowhere is not a failure. */
export function replicaData(row: Record<string, unknown> | undefined): Record<string, unknown> {
  if (row && ('Slave_IO_Running' in row || 'Replica_IO_Running' in row))
    return { ...row, Is_Replica: true, Is_Slave: true };
  return { Is_Replica: false, Is_Slave: false, msg: 'Server is not configured as mysql replica' };
}

/** Runs one statement; the server's warnings and notes are read, as PyMySQL 0.9 raised them. */
async function run(sql: Sql, st: Statement): Promise<Outcome> {
  let header: ResultSetHeader;
  try {
    [header] = await sql.conn.query<ResultSetHeader>(st.sql, st.values);
  } catch (err) {
    return { warnings: [], error: (err as Error).message };
  }
  if (!header.warningStatus) return { warnings: [] };
  const rows = await sql.rows('SHOW WARNINGS');
  return { warnings: rows.map((w) => `(${String(w.Code)}, '${String(w.Message)}')`) };
}

async function status(sql: Sql, st: Statement): Promise<Record<string, unknown> | undefined> {
  const [rows, fields] = await sql.conn.query(st.sql, st.values);
  const first = (rows as Record<string, unknown>[])[0];
  return first && statusRow(first, integerColumns(fields as FieldPacket[]));
}

export const mysqlReplication: ModuleRunner<MysqlReplication> = async (ctx, a) => {
  if (ctx.check)
    return {
      changed: false,
      skipped: true,
      msg: 'remote module (community.mysql.mysql_replication) does not support check mode',
    };
  return withMysql(ctx, a, [a.primary_password], async (sql) => {
    const s = replicationSyntax(sql.dialect.version);
    if (a.mode === 'getprimary' || a.mode === 'getreplica') {
      const row = await status(sql, statusStatement(a, s));
      const data = { ...(a.mode === 'getprimary' ? primaryData(row) : replicaData(row)), queries: [] };
      return { changed: false, msg: describeStatus(a.mode, data), data };
    }
    if (a.mode === 'changeprimary') {
      const st = changePrimaryStatement(a, s);
      const queries = [shownQuery(st)];
      const outcome = await run(sql, st);
      if (outcome.error !== undefined)
        return failed(`${outcome.error}. Query == ${queries[0]}`, { data: { queries } });
      const warning = outcome.warnings.length ? { warning: outcome.warnings.join('; ') } : {};
      return { changed: true, msg: `${s.changePrimary} TO run`, data: { queries, ...warning } };
    }
    const mode = a.mode;
    const st = controlStatement({ ...a, mode }, s);
    const queries = [shownQuery(st)];
    return controlResult(mode, await run(sql, st), a.fail_on_error, queries);
  });
};

/** Pure: what a get mode found, in the words of a task line. */
function describeStatus(mode: 'getprimary' | 'getreplica', d: Record<string, unknown>): string {
  if (mode === 'getprimary')
    return d.Is_Primary ? `binary log ${String(d.File)} at ${String(d.Position)}` : String(d.msg);
  if (!d.Is_Replica) return String(d.msg);
  const host = d.Source_Host ?? d.Master_Host;
  const io = d.Replica_IO_Running ?? d.Slave_IO_Running;
  const sqlThread = d.Replica_SQL_Running ?? d.Slave_SQL_Running;
  return `replica of ${String(host)}: IO ${String(io)}, SQL ${String(sqlThread)}`;
}
