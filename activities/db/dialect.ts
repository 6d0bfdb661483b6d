import type { Flavour, ReplicaStatus } from '../../common/db';
import { subtractMysqlGtidSets } from '../../common/gtid';

// Everything that differs between MariaDB and MySQL, in one place. Pure: SQL text with `?`
// placeholders (mysql2 escapes the values), so it is unit-tested against recorded server output.

export interface ServerVersion {
  flavour: Flavour;
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** From `SELECT VERSION()`: "10.11.6-MariaDB-0+deb12u1-log", "8.0.36", "8.4.0-0ubuntu0.24.04.1". */
export function parseVersion(version: string, versionComment = ''): ServerVersion {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`cannot read server version "${version}"`);
  const flavour: Flavour = /mariadb/i.test(`${version} ${versionComment}`) ? 'mariadb' : 'mysql';
  return { flavour, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: version };
}

/** Whether `v` is major.minor.patch or later. */
export const atLeast = (v: ServerVersion, major: number, minor: number, patch: number) =>
  v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : v.patch >= patch;

export interface SourceOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  gtid: boolean;
  heartbeatSeconds: number;
  connectRetrySeconds: number;
  /** File/position replication (the seed's way), when gtid is false. */
  logFile?: string;
  logPos?: number;
}

export class Dialect {
  constructor(readonly version: ServerVersion) {}

  get flavour(): Flavour {
    return this.version.flavour;
  }

  /** MySQL 8.0.22 renamed SLAVE to REPLICA; 8.4 removed the old words. MariaDB keeps SLAVE. */
  private get replicaWords(): boolean {
    return this.flavour === 'mysql' && atLeast(this.version, 8, 0, 22);
  }

  get showReplicaStatus(): string {
    return this.replicaWords ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
  }
  get startReplica(): string {
    return this.replicaWords ? 'START REPLICA' : 'START SLAVE';
  }
  get stopReplica(): string {
    return this.replicaWords ? 'STOP REPLICA' : 'STOP SLAVE';
  }
  get resetReplicaAll(): string {
    return this.replicaWords ? 'RESET REPLICA ALL' : 'RESET SLAVE ALL';
  }
  /** MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4 removed SHOW MASTER STATUS. */
  get showBinlogStatus(): string {
    return this.flavour === 'mysql' && atLeast(this.version, 8, 2, 0)
      ? 'SHOW BINARY LOG STATUS'
      : 'SHOW MASTER STATUS';
  }

  /** The variable holding every transaction this server has binlogged or applied. */
  get gtidExecutedVariable(): string {
    return this.flavour === 'mariadb' ? '@@GLOBAL.gtid_binlog_pos' : '@@GLOBAL.gtid_executed';
  }

  get logReplicaUpdatesVariable(): string {
    return this.flavour === 'mysql' && atLeast(this.version, 8, 0, 26)
      ? '@@GLOBAL.log_replica_updates'
      : '@@GLOBAL.log_slave_updates';
  }

  /** CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO, with values as placeholders. */
  changeSource(o: SourceOptions): { sql: string; values: unknown[] } {
    const modern = this.flavour === 'mysql' && atLeast(this.version, 8, 0, 23);
    const k = (name: string) => (modern ? `SOURCE_${name}` : `MASTER_${name}`);
    const parts: string[] = [
      `${k('HOST')} = ?`,
      `${k('PORT')} = ?`,
      `${k('USER')} = ?`,
      `${k('PASSWORD')} = ?`,
      `${k('CONNECT_RETRY')} = ?`,
      `${k('HEARTBEAT_PERIOD')} = ?`,
    ];
    const values: unknown[] = [o.host, o.port, o.user, o.password, o.connectRetrySeconds, o.heartbeatSeconds];
    if (o.gtid) {
      parts.push(this.flavour === 'mariadb' ? 'MASTER_USE_GTID = slave_pos' : `${k('AUTO_POSITION')} = 1`);
    } else {
      if (this.flavour === 'mariadb') parts.push('MASTER_USE_GTID = no');
      else parts.push(`${k('AUTO_POSITION')} = 0`);
      if (o.logFile !== undefined && o.logPos !== undefined) {
        parts.push(`${k('LOG_FILE')} = ?`, `${k('LOG_POS')} = ?`);
        values.push(o.logFile, o.logPos);
      }
    }
    // MySQL 8's caching_sha2_password needs the key over an unencrypted replication link.
    if (this.flavour === 'mysql' && atLeast(this.version, 8, 0, 0)) parts.push(`GET_${k('PUBLIC_KEY')} = 1`);
    return {
      sql: `${modern ? 'CHANGE REPLICATION SOURCE TO' : 'CHANGE MASTER TO'} ${parts.join(', ')}`,
      values,
    };
  }

  /** Blocks until this server has applied `position`; returns SQL whose single value is 0 on success. */
  waitForPosition(position: string, timeoutSeconds: number): { sql: string; values: unknown[] } {
    return this.flavour === 'mariadb'
      ? { sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS r', values: [position, timeoutSeconds] }
      : { sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', values: [position, timeoutSeconds] };
  }

  /** Statements that make the server read-only (or writable). MySQL's super_read_only stops admins too. */
  setReadOnly(on: boolean): string[] {
    if (this.flavour === 'mariadb') return [`SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`];
    return on
      ? ['SET GLOBAL super_read_only = ON']
      : ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF'];
  }

  /**
   * Replication start position for a fresh replica of an empty primary: MariaDB takes the
   * primary's gtid_binlog_pos as its gtid_slave_pos; MySQL's auto-position needs the primary's
   * executed set as gtid_purged on an empty replica.
   */
  startFrom(primaryPosition: string): string[] {
    return this.flavour === 'mariadb'
      ? [`SET GLOBAL gtid_slave_pos = ${quoteString(primaryPosition)}`]
      : primaryPosition
        ? [this.resetBinaryLogs, `SET GLOBAL gtid_purged = ${quoteString(primaryPosition)}`]
        : [];
  }

  /** Forget this server's binary logs and GTID history (MySQL 8.4 removed RESET MASTER). */
  get resetBinaryLogs(): string {
    return this.flavour === 'mysql' && atLeast(this.version, 8, 2, 0)
      ? 'RESET BINARY LOGS AND GTIDS'
      : 'RESET MASTER';
  }

  /** A former primary becoming a replica: what it has binlogged is what it has applied. */
  get adoptOwnPosition(): string[] {
    return this.flavour === 'mariadb' ? ['SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos'] : [];
  }

  /**
   * `[mysqld]` settings for a member. Every member starts read-only, the primary too: a fenced or
   * rebooted old primary can never come back writable by itself; workflows make the primary
   * writable at runtime.
   */
  serverConfig(o: {
    serverId: number;
    bindAddress: string;
    gtid: boolean;
    semiSync: boolean;
    netTimeoutSeconds: number;
  }): Record<string, string | number> {
    const common: Record<string, string | number> = {
      server_id: o.serverId,
      bind_address: o.bindAddress,
      log_bin: this.flavour === 'mariadb' ? 'mysql-bin' : 'binlog',
      binlog_format: 'ROW',
      read_only: 'ON',
    };
    if (this.flavour === 'mariadb') {
      return {
        ...common,
        log_slave_updates: 'ON',
        gtid_strict_mode: o.gtid ? 'ON' : 'OFF',
        slave_net_timeout: o.netTimeoutSeconds,
        ...(o.semiSync ? { rpl_semi_sync_master_enabled: 'ON', rpl_semi_sync_slave_enabled: 'ON' } : {}),
      };
    }
    return {
      ...common,
      [atLeast(this.version, 8, 0, 26) ? 'log_replica_updates' : 'log_slave_updates']: 'ON',
      [atLeast(this.version, 8, 0, 26) ? 'replica_net_timeout' : 'slave_net_timeout']: o.netTimeoutSeconds,
      super_read_only: 'ON',
      ...(o.semiSync
        ? atLeast(this.version, 8, 0, 26)
          ? {
              plugin_load: 'semisync_source.so;semisync_replica.so',
              rpl_semi_sync_source_enabled: 'ON',
              rpl_semi_sync_replica_enabled: 'ON',
            }
          : {
              plugin_load: 'semisync_master.so;semisync_slave.so',
              rpl_semi_sync_master_enabled: 'ON',
              rpl_semi_sync_slave_enabled: 'ON',
            }
        : {}),
      ...(o.gtid ? { gtid_mode: 'ON', enforce_gtid_consistency: 'ON' } : {}),
    };
  }

  /** Client sessions to end after read_only: everything except replication and server threads. */
  get clientSessionsSql(): string {
    return (
      'SELECT ID AS id, USER AS user, COMMAND AS command FROM information_schema.PROCESSLIST ' +
      "WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler') " +
      "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', " +
      "'Slave_worker', 'Connect') AND USER <> ?"
    );
  }

  get oldestTransactionSql(): string {
    return (
      'SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), 0) AS age ' +
      'FROM information_schema.INNODB_TRX'
    );
  }

  /**
   * Whether the applier still has received events to apply. The applier saying it has read all
   * of the relay log settles it. Otherwise positions differ while work is left, but also while
   * the tail of a transaction is still arriving (and a dead primary never sends the rest), so on
   * MySQL the GTID sets must agree too: only whole received transactions count. MySQL's
   * GTID_ONLY replicas keep no positions; then the GTID sets alone decide.
   */
  private relayPending(o: {
    positionsDiffer: boolean;
    positionsKnown: boolean;
    retrieved: string;
    executed: string;
    sqlState: string;
  }): boolean {
    if (/read all relay log/i.test(o.sqlState)) return false;
    if (this.flavour === 'mysql' && o.retrieved) {
      const unapplied = !gtidSetContains(o.executed, o.retrieved);
      return o.positionsKnown ? unapplied && o.positionsDiffer : unapplied;
    }
    return o.positionsDiffer;
  }

  /** Normalises a SHOW SLAVE/REPLICA STATUS row; undefined when the server is not a replica. */
  replicaStatus(row: Record<string, unknown> | undefined): ReplicaStatus | undefined {
    if (!row) return undefined;
    const get = (...names: string[]): string => {
      for (const n of names) if (row[n] !== undefined && row[n] !== null) return String(row[n]);
      return '';
    };
    const host = get('Source_Host', 'Master_Host');
    if (!host) return undefined;
    const io = get('Replica_IO_Running', 'Slave_IO_Running');
    const lag = get('Seconds_Behind_Source', 'Seconds_Behind_Master');
    const readFile = get('Source_Log_File', 'Master_Log_File');
    const execFile = get('Relay_Source_Log_File', 'Relay_Master_Log_File');
    const readPos = get('Read_Source_Log_Pos', 'Read_Master_Log_Pos');
    const execPos = get('Exec_Source_Log_Pos', 'Exec_Master_Log_Pos');
    const retrieved = get('Retrieved_Gtid_Set');
    const executed = get('Executed_Gtid_Set');
    const usingGtid =
      this.flavour === 'mariadb' ? !/^no$/i.test(get('Using_Gtid') || 'No') : get('Auto_Position') === '1';
    return {
      sourceHost: host,
      sourcePort: Number(get('Source_Port', 'Master_Port')) || 3306,
      ioState: io === 'Yes' ? 'running' : io === 'Connecting' ? 'connecting' : 'stopped',
      sqlRunning: get('Replica_SQL_Running', 'Slave_SQL_Running') === 'Yes',
      lagSeconds: lag === '' ? null : Number(lag),
      usingGtid,
      lastIoError: get('Last_IO_Error'),
      lastSqlError: get('Last_SQL_Error'),
      relayPending: this.relayPending({
        positionsDiffer: readFile !== execFile || readPos !== execPos,
        positionsKnown: Number(readPos) > 0 && Number(execPos) > 0,
        retrieved: retrieved.replace(/\s/g, ''),
        executed: executed.replace(/\s/g, ''),
        sqlState: get('Replica_SQL_Running_State', 'Slave_SQL_Running_State'),
      }),
      ...(this.flavour === 'mysql' ? { retrievedGtidSet: retrieved.replace(/\s/g, '') } : {}),
    };
  }
}

function gtidSetContains(superset: string, subset: string): boolean {
  return subtractMysqlGtidSets(subset, superset) === '';
}

/** A string literal for the few statements that take no placeholders (SET GLOBAL ... = '...'). */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A backquoted identifier (schema or table name): one quoting for every SQL we write. */
export { quoteIdentifier } from '../../common/mysql-names';

/** Default config file and service for a flavour, as Debian packages lay them out. */
export function debianLayout(flavour: Flavour): { configPath: string; service: string } {
  return flavour === 'mariadb'
    ? { configPath: '/etc/mysql/mariadb.conf.d/60-clusterflow.cnf', service: 'mariadb' }
    : { configPath: '/etc/mysql/mysql.conf.d/60-clusterflow.cnf', service: 'mysql' };
}
