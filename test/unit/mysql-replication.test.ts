import { parseVersion } from '../../activities/db/dialect';
import {
  changePrimaryStatement,
  controlResult,
  controlStatement,
  integerColumns,
  primaryData,
  replicaData,
  replicationSyntax,
  shownQuery,
  statusRow,
  statusStatement,
} from '../../activities/modules/mysql/replication';
import { planAccount } from '../../activities/modules/mysql/user';
import { moduleOf } from '../../client/playbook-keywords';
import { MysqlReplicationArgs, MysqlUserArgs } from '../../common/modules';
import { NO_TLS, requireClause, tlsOfAccount, tlsRequirement } from '../../common/mysql-tls';
import { parseStrict } from '../../common/parse-strict';

const MARIADB = replicationSyntax(parseVersion('10.11.18-MariaDB-0+deb12u1-log'));
const args = (a: Record<string, unknown>) => {
  const r = parseStrict(MysqlReplicationArgs, a, ['mysql_replication']);
  if (!r.data) throw new Error(r.problems.join('\n'));
  return r.data;
};
const problems = (a: Record<string, unknown>) =>
  parseStrict(MysqlReplicationArgs, a, ['mysql_replication']).problems;

// The first columns of SHOW REPLICA STATUS as a MariaDB 10.11 replica gives them through mysql2
// (BIGINT columns as strings, as the session asks), with the types the server declares.
const REPLICA_ROW = {
  Slave_IO_State: 'Waiting for master to send event',
  Master_Host: '10.77.0.17',
  Master_User: 'repl',
  Master_Port: 3306,
  Connect_Retry: 60,
  Master_Log_File: 'mysql-bin.000002',
  Read_Master_Log_Pos: '344',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Last_IO_Errno: 0,
  Exec_Master_Log_Pos: '344',
  Seconds_Behind_Master: '0',
  Replicate_Do_Domain_Ids: '1',
  Gtid_IO_Pos: Buffer.from('0-1-7'),
};
const REPLICA_FIELDS = [
  ['Master_Port', 3],
  ['Connect_Retry', 3],
  ['Read_Master_Log_Pos', 8],
  ['Last_IO_Errno', 3],
  ['Exec_Master_Log_Pos', 8],
  ['Seconds_Behind_Master', 8],
  ['Replicate_Do_Domain_Ids', 253],
  ['Master_Host', 253],
].map(([name, columnType]) => ({ name: name as string, columnType: columnType as number }));

describe('mysql_replication arguments', () => {
  it("reads community.mysql's master_* aliases and the master/slave modes roles still use", () => {
    expect(
      args({
        mode: 'changemaster',
        master_host: '10.77.0.17',
        master_user: 'repl',
        master_password: 'pw',
        master_log_file: 'mysql-bin.000002',
        master_log_pos: '344',
        master_use_gtid: 'slave_pos',
      }),
    ).toMatchObject({
      mode: 'changeprimary',
      primary_host: '10.77.0.17',
      primary_user: 'repl',
      primary_password: 'pw',
      primary_log_file: 'mysql-bin.000002',
      primary_log_pos: 344,
      primary_use_gtid: 'slave_pos',
    });
    expect(args({}).mode).toBe('getreplica');
    expect(args({ mode: 'getslave' }).mode).toBe('getreplica');
    expect(args({ mode: 'resetslaveall' }).mode).toBe('resetreplicaall');
    expect(args({ mode: 'getmaster' }).mode).toBe('getprimary');
  });

  it('refuses unknown keys, positions that are not whole numbers, and both connection_name and channel', () => {
    expect(problems({ mode: 'getreplica', master_hots: 'x' })?.join()).toMatch(/master_hots/);
    expect(problems({ primary_host: 'a', master_host: 'b' })?.join()).toMatch(/master_host/);
    expect(problems({ mode: 'changeprimary', master_log_pos: '4; DROP TABLE t' })?.join()).toMatch(
      /primary_log_pos: expected a number/,
    );
    expect(problems({ mode: 'changeprimary', master_log_pos: 12.5 })).toHaveLength(1);
    expect(problems({ mode: 'changeprimary', master_port: 70000 })).toHaveLength(1);
    expect(problems({ mode: 'changeprimary', master_delay: -1 })).toHaveLength(1);
    expect(problems({ mode: 'getreplica', connection_name: 'a', channel: 'b' })).toEqual([
      'mysql_replication.channel: give at most one of connection_name or channel',
    ]);
    expect(problems({ mode: 'promote' })).toHaveLength(1);
  });

  it('is known by its community.mysql name', () => {
    expect(moduleOf('community.mysql.mysql_replication')).toBe('mysql_replication');
    expect(moduleOf('mysql_replication')).toBe('mysql_replication');
  });
});

describe('mysql_replication statements', () => {
  it('picks the words each server version takes, as community.mysql does', () => {
    expect(MARIADB).toEqual({
      replica: 'REPLICA',
      showPrimaryStatus: 'SHOW BINLOG STATUS',
      changePrimary: 'CHANGE MASTER',
      option: 'MASTER',
      resetPrimary: 'RESET MASTER',
    });
    expect(replicationSyntax(parseVersion('10.3.39-MariaDB'))).toMatchObject({
      replica: 'SLAVE',
      showPrimaryStatus: 'SHOW MASTER STATUS',
    });
    expect(replicationSyntax(parseVersion('8.0.36'))).toEqual({
      replica: 'REPLICA',
      showPrimaryStatus: 'SHOW MASTER STATUS',
      changePrimary: 'CHANGE REPLICATION SOURCE',
      option: 'SOURCE',
      resetPrimary: 'RESET MASTER',
    });
    expect(replicationSyntax(parseVersion('8.4.0'))).toMatchObject({
      showPrimaryStatus: 'SHOW BINARY LOG STATUS',
      resetPrimary: 'RESET BINARY LOGS AND GTIDS',
    });
    expect(replicationSyntax(parseVersion('5.7.44')).replica).toBe('SLAVE');
  });

  it('sends every CHANGE MASTER value as a parameter and shows the password as ********', () => {
    const a = args({
      mode: 'changeprimary',
      master_host: '10.77.0.17',
      master_user: "o'brien",
      master_password: "s3cr'et",
      master_port: 3306,
      master_log_file: 'mysql-bin.000002',
      master_log_pos: 344,
      master_ssl: false,
      master_ssl_ca: '',
    });
    const st = changePrimaryStatement(a, MARIADB);
    expect(st.sql).toBe(
      'CHANGE MASTER TO MASTER_HOST=?,MASTER_USER=?,MASTER_PASSWORD=?,MASTER_PORT=?,' +
        'MASTER_LOG_FILE=?,MASTER_LOG_POS=?,MASTER_SSL=?,MASTER_SSL_CA=?',
    );
    expect(st.values).toEqual(['10.77.0.17', "o'brien", "s3cr'et", 3306, 'mysql-bin.000002', 344, 0, '']);
    // community.mysql's own integration test expects this text.
    expect(shownQuery(st)).toBe(
      "CHANGE MASTER TO MASTER_HOST='10.77.0.17',MASTER_USER='o\\'brien',MASTER_PASSWORD='********'," +
        "MASTER_PORT=3306,MASTER_LOG_FILE='mysql-bin.000002',MASTER_LOG_POS=344,MASTER_SSL=0,MASTER_SSL_CA=''",
    );
    expect(shownQuery(st)).not.toContain('s3cr');
  });

  it("names MySQL 8.0.23's SOURCE options, MariaDB's GTID keyword and the connection or channel", () => {
    const mysql = replicationSyntax(parseVersion('8.0.36'));
    const st = changePrimaryStatement(
      args({ mode: 'changeprimary', primary_host: 'db1', primary_auto_position: true, channel: 'c1' }),
      mysql,
    );
    expect(shownQuery(st)).toBe(
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1',SOURCE_AUTO_POSITION=1 FOR CHANNEL 'c1'",
    );
    const gtid = changePrimaryStatement(
      args({ mode: 'changeprimary', master_use_gtid: 'replica_pos', connection_name: 'east' }),
      MARIADB,
    );
    expect(shownQuery(gtid)).toBe("CHANGE MASTER 'east' TO MASTER_USE_GTID=replica_pos");
    const old = replicationSyntax(parseVersion('10.3.39-MariaDB'));
    expect(
      changePrimaryStatement(args({ mode: 'changeprimary', master_use_gtid: 'replica_pos' }), old).sql,
    ).toBe('CHANGE MASTER TO MASTER_USE_GTID=slave_pos');
    expect(
      changePrimaryStatement(args({ mode: 'changeprimary', master_use_gtid: 'disabled' }), MARIADB).sql,
    ).toBe('CHANGE MASTER TO MASTER_USE_GTID=no');
  });

  it('starts, stops and resets with the REPLICA or SLAVE word, a connection name as a parameter', () => {
    const control = (a: Record<string, unknown>, s = MARIADB) => {
      const parsed = args(a);
      return shownQuery(controlStatement(parsed as typeof parsed & { mode: 'startreplica' }, s));
    };
    expect(control({ mode: 'startslave' })).toBe('START REPLICA');
    expect(control({ mode: 'stopreplica', connection_name: "it's" })).toBe("STOP REPLICA 'it\\'s'");
    expect(control({ mode: 'resetreplicaall', connection_name: 'east' })).toBe("RESET REPLICA 'east' ALL");
    expect(control({ mode: 'resetreplica', channel: 'c1' }, replicationSyntax(parseVersion('5.7.44')))).toBe(
      "RESET SLAVE FOR CHANNEL 'c1'",
    );
    expect(control({ mode: 'resetmaster' })).toBe('RESET MASTER');
    expect(shownQuery(statusStatement(args({ mode: 'getreplica', connection_name: 'east' }), MARIADB))).toBe(
      "SHOW REPLICA 'east' STATUS",
    );
    expect(statusStatement(args({ mode: 'getprimary' }), MARIADB).sql).toBe('SHOW BINLOG STATUS');
  });
});

describe('mysql_replication results', () => {
  const q = ['START REPLICA'];

  it('reports START as a change unless the server noted it was running already', () => {
    expect(controlResult('startreplica', { warnings: [] }, false, q)).toMatchObject({
      changed: true,
      data: { queries: q },
    });
    expect(
      controlResult('startreplica', { warnings: ["(1254, 'Slave is already running')"] }, false, q),
    ).toMatchObject({ changed: false, msg: 'Replica already started (Or cannot be started)' });
    expect(
      controlResult('stopreplica', { warnings: ["(1255, 'Slave already has been stopped')"] }, false, q),
    ).toMatchObject({ changed: false, msg: 'Replica already stopped' });
  });

  it("counts a reset that ran as a change, even with the server's note that replication was stopped", () => {
    const note = { warnings: ["(1255, 'Slave already has been stopped')"] };
    expect(controlResult('resetreplicaall', note, false, ['RESET REPLICA ALL'])).toMatchObject({
      changed: true,
      msg: 'Replica reset',
    });
  });

  it('fails on an error only with fail_on_error; without it nothing is changed', () => {
    const error = { warnings: [], error: 'Misconfigured slave: MASTER_HOST was not set' };
    expect(controlResult('startreplica', error, false, q)).toMatchObject({ changed: false });
    expect(controlResult('startreplica', error, false, q).failed).toBeFalsy();
    expect(controlResult('startreplica', error, true, q)).toMatchObject({
      failed: true,
      msg: 'START REPLICA failed: Misconfigured slave: MASTER_HOST was not set',
    });
  });

  it('gives status rows as PyMySQL does: integer columns as numbers, bytes as text', () => {
    const row = statusRow(REPLICA_ROW, integerColumns(REPLICA_FIELDS));
    expect(row).toMatchObject({
      Master_Port: 3306,
      Read_Master_Log_Pos: 344,
      Exec_Master_Log_Pos: 344,
      Seconds_Behind_Master: 0,
      Replicate_Do_Domain_Ids: '1',
      Gtid_IO_Pos: '0-1-7',
    });
    expect(statusRow({ Big: '18446744073709551615' }, ['Big']).Big).toBe('18446744073709551615');
  });

  it('says Is_Replica and Is_Slave false for a server that replicates from nowhere', () => {
    expect(replicaData(undefined)).toEqual({
      Is_Replica: false,
      Is_Slave: false,
      msg: 'Server is not configured as mysql replica',
    });
    expect(replicaData(statusRow(REPLICA_ROW, []))).toMatchObject({
      Is_Replica: true,
      Is_Slave: true,
      Slave_IO_Running: 'Yes',
    });
  });

  it('gives getprimary the binary log file and position, or Is_Primary false without a binary log', () => {
    expect(
      primaryData({ File: 'mysql-bin.000002', Position: 344, Binlog_Do_DB: '', Binlog_Ignore_DB: '' }),
    ).toEqual({
      File: 'mysql-bin.000002',
      Position: 344,
      Binlog_Do_DB: '',
      Binlog_Ignore_DB: '',
      Is_Primary: true,
      Is_Master: true,
    });
    expect(primaryData(undefined)).toMatchObject({ Is_Primary: false, Is_Master: false });
  });
});

describe("mysql_user's tls_requires and column_case_sensitive", () => {
  const user = (a: Record<string, unknown>) => {
    const r = parseStrict(MysqlUserArgs, { name: 'repl', ...a }, ['mysql_user']);
    if (!r.data) throw new Error(r.problems.join('\n'));
    return r.data;
  };

  it('reads the requirement in any case; an empty mapping or none is REQUIRE NONE', () => {
    expect(user({}).tls_requires).toEqual(NO_TLS);
    expect(user({ tls_requires: {} }).tls_requires).toEqual(NO_TLS);
    expect(user({ tls_requires: null }).tls_requires).toEqual(NO_TLS);
    expect(user({ tls_requires: { ssl: null } }).tls_requires).toEqual({ ...NO_TLS, type: 'ANY' });
    expect(user({ tls_requires: { X509: null, ssl: null } }).tls_requires).toEqual({
      ...NO_TLS,
      type: 'X509',
    });
    // CIPHER, ISSUER and SUBJECT make SSL and X509 redundant, as in community.mysql.
    expect(user({ tls_requires: { ssl: null, Subject: '/CN=a', cipher: 'AES' } }).tls_requires).toEqual({
      type: 'SPECIFIED',
      cipher: 'AES',
      issuer: '',
      subject: '/CN=a',
    });
  });

  it('refuses a requirement that is not one, and CIPHER, ISSUER or SUBJECT without a value', () => {
    const bad = parseStrict(MysqlUserArgs, { name: 'u', tls_requires: { tls: null, cipher: '' } }, [
      'mysql_user',
    ]);
    expect(bad.problems).toEqual([
      'mysql_user.tls_requires.tls: "tls" is not one of SSL, X509, CIPHER, ISSUER, SUBJECT',
      'mysql_user.tls_requires.cipher: CIPHER needs a value',
    ]);
  });

  it("compares with the account's mysql.user row, so the same requirement again is no statement", () => {
    const row = {
      ssl_type: 'SPECIFIED',
      ssl_cipher: Buffer.from('AES'),
      x509_issuer: '',
      x509_subject: Buffer.from('/CN=a'),
    };
    const current = tlsOfAccount(row);
    expect(current).toEqual(tlsRequirement({ SUBJECT: '/CN=a', CIPHER: 'AES' }));
    expect(tlsOfAccount({ ssl_type: 'ANY', ssl_cipher: '', x509_issuer: '', x509_subject: '' })).toEqual(
      tlsRequirement({ SSL: null }),
    );
    const found = { hash: '', grants: { '*.*': ['USAGE'] }, tls: current };
    const base = { name: 'repl', append_privs: false, subtract_privs: false };
    expect(
      planAccount({ ...base, tls_requires: current }, '%', 'mariadb', found, undefined).statements,
    ).toEqual([]);
    const none = planAccount({ ...base, tls_requires: NO_TLS }, '%', 'mariadb', found, undefined);
    expect(none.statements).toEqual([{ sql: "ALTER USER 'repl'@'%' REQUIRE NONE", values: [] }]);
    expect(none.tlsChanged).toBe(true);
    expect(none.before).toContain('tls: REQUIRE CIPHER "AES" AND SUBJECT "/CN=a"');
  });

  it('creates an account with its requirement, the strings as parameters', () => {
    const tls = tlsRequirement({ issuer: "/O=it's" });
    expect(requireClause(tls)).toEqual({ sql: ' REQUIRE ISSUER ?', values: ["/O=it's"] });
    const plan = planAccount(
      { name: 'repl', append_privs: false, subtract_privs: false, tls_requires: tls },
      '%',
      'mariadb',
      undefined,
      '*B69027D44F6E5EDC07F1AEAD1477967B16F28227',
    );
    expect(plan.statements).toEqual([
      {
        sql: "CREATE USER 'repl'@'%' IDENTIFIED BY PASSWORD ? REQUIRE ISSUER ?",
        values: ['*B69027D44F6E5EDC07F1AEAD1477967B16F28227', "/O=it's"],
      },
    ]);
    expect(
      planAccount(
        { name: 'r', append_privs: false, subtract_privs: false },
        'h',
        'mariadb',
        undefined,
        undefined,
      ).statements,
    ).toEqual([{ sql: "CREATE USER 'r'@'h'", values: [] }]);
  });

  it('upper-cases column names of column privileges unless column_case_sensitive', () => {
    expect(user({ priv: 'app.t:SELECT (colA, b),INSERT' }).priv).toEqual({
      '`app`.`t`': ['SELECT (B, COLA)', 'INSERT'],
      '*.*': ['USAGE'],
    });
    expect(user({ priv: 'app.t:SELECT (colA, b)', column_case_sensitive: true }).priv).toEqual({
      '`app`.`t`': ['SELECT (b, colA)'],
      '*.*': ['USAGE'],
    });
  });
});
