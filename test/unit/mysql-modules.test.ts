import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planDatabases } from '../../activities/modules/mysql/db';
import { bindQuery } from '../../activities/modules/mysql/pyformat';
import { resultOf, statementChanged } from '../../activities/modules/mysql/query';
import {
  loginPlan,
  optionFileScript,
  parseClientOptions,
  relayCommand,
  type MysqlLogin,
} from '../../activities/modules/mysql/session';
import { nativePasswordHash, planAccount } from '../../activities/modules/mysql/user';
import { Remote } from '../../activities/remote';
import { SshPool } from '../../activities/ssh/pool';
import { moduleOf } from '../../client/playbook-keywords';
import { MysqlDbArgs, MysqlQueryArgs, MysqlUserArgs } from '../../common/modules';
import { quoteAccount, quoteIdentifier } from '../../common/mysql-names';
import {
  grantStatements,
  normalizeTarget,
  parsePrivSpec,
  parseShowGrants,
  planGrants,
  renamePrivileges,
  MARIADB_PRIVILEGE_NAMES,
} from '../../common/mysql-privileges';
import { parseStrict } from '../../common/parse-strict';

// SHOW GRANTS as MariaDB 10.11 on a lab host printed it.
const MARIADB_GRANTS = [
  "GRANT SELECT, INSERT, SUPER, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `u1`@`10.%` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227'",
  'GRANT ALL PRIVILEGES ON `ap_p`.* TO `u1`@`10.%` WITH GRANT OPTION',
  'GRANT SELECT (`a`, `b`), UPDATE ON `t1`.`t` TO `u1`@`10.%`',
  'GRANT EXECUTE ON PROCEDURE `mysql`.`addgeometrycolumn` TO `u1`@`10.%`',
];

describe('mysql identifiers and accounts', () => {
  it('backquotes names with a backquote doubled, so no name can end the identifier', () => {
    expect(quoteIdentifier('app')).toBe('`app`');
    expect(quoteIdentifier('a`; DROP DATABASE x; --')).toBe('`a``; DROP DATABASE x; --`');
  });

  it('refuses names no server takes: empty, too long, control characters', () => {
    expect(() => quoteIdentifier('')).toThrow(/empty/);
    expect(() => quoteIdentifier('x'.repeat(65))).toThrow(/longer than 64/);
    expect(() => quoteIdentifier('a\u0000b')).toThrow(/control character/);
  });

  it("quotes accounts as 'user'@'host' with quotes doubled and refuses a backslash", () => {
    expect(quoteAccount('app', '10.77.0.%')).toBe("'app'@'10.77.0.%'");
    expect(quoteAccount("o'brien", 'localhost')).toBe("'o''brien'@'localhost'");
    expect(quoteAccount('', 'localhost')).toBe("''@'localhost'");
    expect(() => quoteAccount('a\\', 'localhost')).toThrow(/backslash/);
    expect(() => quoteAccount('a', '')).toThrow(/host is empty/);
  });
});

describe("mysql_user's privileges", () => {
  it('reads the string form into quoted targets, adding *.*: USAGE as the server reports it', () => {
    expect(parsePrivSpec('app.*:select,INSERT/`logs`.`t`:ALL PRIVILEGES,GRANT')).toEqual({
      '`app`.*': ['SELECT', 'INSERT'],
      '`logs`.`t`': ['ALL', 'GRANT'],
      '*.*': ['USAGE'],
    });
    expect(parsePrivSpec('*.*:REPLICATION SLAVE', false)).toEqual({ '*.*': ['REPLICATION SLAVE'] });
  });

  it('reads the dict form the same way', () => {
    expect(parsePrivSpec({ 'app.*': 'SELECT,UPDATE', '*.*': 'PROCESS' })).toEqual(
      parsePrivSpec('app.*:SELECT,UPDATE/*.*:PROCESS'),
    );
  });

  it('sorts column privileges and keeps a comma inside the parentheses', () => {
    expect(parsePrivSpec('app.t:SELECT (b, `a`),UPDATE', false)).toEqual({
      '`app`.`t`': ['SELECT (a, b)', 'UPDATE'],
    });
  });

  it('refuses what is not a privilege, so nothing but privilege words reaches the statement', () => {
    expect(() => parsePrivSpec('app.*:SELECT; DROP DATABASE app')).toThrow(/is not a privilege/);
    expect(() => parsePrivSpec('app.*:DELETE (a)')).toThrow(/cannot be granted on columns/);
    expect(() => parsePrivSpec('app:SELECT')).toThrow(/is not db.table/);
    expect(() => parsePrivSpec('*.t:SELECT')).toThrow(/\*.table is not a target/);
    expect(() => parsePrivSpec('app.*')).toThrow(/expected db.table:PRIVILEGES/);
  });

  it('splits a target at the last dot outside backquotes and lower-cases routine names', () => {
    expect(normalizeTarget('`my.db`.*')).toBe('`my.db`.*');
    expect(normalizeTarget('PROCEDURE app.Rebuild')).toBe('PROCEDURE `app`.`rebuild`');
  });

  it("reads MariaDB's SHOW GRANTS into the same form, the password hash left out", () => {
    const p = parseShowGrants([
      ...MARIADB_GRANTS,
      "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
      'GRANT `app_role` TO `u1`@`10.%`',
    ]);
    expect(p).toEqual({
      '*.*': ['SELECT', 'INSERT', 'SUPER', 'REPLICATION SLAVE', 'BINLOG MONITOR'],
      '`ap_p`.*': ['ALL', 'GRANT'],
      '`t1`.`t`': ['SELECT (a, b)', 'UPDATE'],
      'PROCEDURE `mysql`.`addgeometrycolumn`': ['EXECUTE'],
      "''@'%'": ['PROXY', 'GRANT'],
    });
    expect(JSON.stringify(p)).not.toContain('B69027');
  });

  it('plans nothing when the server already has what is asked, in any order and with old names', () => {
    const current = parseShowGrants(MARIADB_GRANTS);
    const wanted = renamePrivileges(
      parsePrivSpec(
        '*.*:REPLICATION CLIENT,INSERT,SELECT,SUPER,REPLICATION SLAVE/ap_p.*:ALL,GRANT/t1.t:UPDATE,SELECT (b,a)/PROCEDURE mysql.AddGeometryColumn:EXECUTE',
      ),
      MARIADB_PRIVILEGE_NAMES,
    );
    expect(planGrants(current, wanted, 'replace', 'u1')).toEqual([]);
  });

  it('replacing revokes targets and privileges not asked for, revokes first, and grants what is missing', () => {
    const current = parseShowGrants(MARIADB_GRANTS);
    const steps = planGrants(current, parsePrivSpec('ap_p.*:SELECT/new.*:SELECT,INSERT'), 'replace', 'u1');
    expect(grantStatements(steps, "'u1'@'10.%'")).toEqual([
      "REVOKE SELECT (`a`, `b`), UPDATE ON `t1`.`t` FROM 'u1'@'10.%'",
      "REVOKE EXECUTE ON PROCEDURE `mysql`.`addgeometrycolumn` FROM 'u1'@'10.%'",
      "REVOKE GRANT OPTION ON `ap_p`.* FROM 'u1'@'10.%'",
      "REVOKE ALL PRIVILEGES ON `ap_p`.* FROM 'u1'@'10.%'",
      "REVOKE SELECT, INSERT, SUPER, REPLICATION SLAVE, BINLOG MONITOR ON *.* FROM 'u1'@'10.%'",
      "GRANT SELECT ON `ap_p`.* TO 'u1'@'10.%'",
      "GRANT SELECT, INSERT ON `new`.* TO 'u1'@'10.%'",
    ]);
  });

  it('granting ALL over some privileges grants ALL and revokes only the grant option', () => {
    const steps = planGrants({ '`a`.*': ['SELECT', 'GRANT'] }, { '`a`.*': ['ALL'] }, 'replace', 'u');
    expect(grantStatements(steps, "'u'@'h'")).toEqual([
      "REVOKE GRANT OPTION ON `a`.* FROM 'u'@'h'",
      "GRANT ALL PRIVILEGES ON `a`.* TO 'u'@'h'",
    ]);
  });

  it('appending only grants; subtracting only revokes what is named and held', () => {
    const current = { '*.*': ['USAGE'], '`a`.*': ['SELECT'] };
    expect(planGrants(current, parsePrivSpec('b.*:SELECT'), 'append', 'u')).toEqual([
      { action: 'grant', target: '`b`.*', privileges: ['SELECT'] },
    ]);
    expect(planGrants(current, parsePrivSpec('a.*:SELECT,INSERT', false), 'subtract', 'u')).toEqual([
      { action: 'revoke', target: '`a`.*', privileges: ['SELECT'] },
    ]);
  });

  it("never revokes root's other grants or a PROXY grant, and grants a lone grant option on USAGE", () => {
    const current = { '*.*': ['ALL', 'GRANT'], "''@'%'": ['PROXY', 'GRANT'], '`x`.*': ['SELECT'] };
    expect(planGrants(current, { '*.*': ['ALL', 'GRANT'] }, 'replace', 'root')).toEqual([]);
    const steps = planGrants({ '*.*': ['USAGE'] }, { '*.*': ['USAGE', 'GRANT'] }, 'replace', 'u');
    expect(grantStatements(steps, "'u'@'h'")).toEqual(["GRANT USAGE ON *.* TO 'u'@'h' WITH GRANT OPTION"]);
  });
});

describe("mysql_user's accounts and passwords", () => {
  const user = { name: 'app', append_privs: false, subtract_privs: false };

  it('computes the mysql_native_password hash the server stores (PASSWORD("x") on MariaDB)', () => {
    expect(nativePasswordHash('x')).toBe('*B69027D44F6E5EDC07F1AEAD1477967B16F28227');
  });

  it('creates a new account from the hash alone: the plaintext is in no statement', () => {
    const hash = nativePasswordHash('s3cret');
    const plan = planAccount(
      { ...user, priv: parsePrivSpec('app.*:ALL') },
      'localhost',
      'mariadb',
      undefined,
      hash,
    );
    expect(plan.statements).toEqual([
      { sql: "CREATE USER 'app'@'localhost' IDENTIFIED BY PASSWORD ?", values: [hash] },
      { sql: "GRANT ALL PRIVILEGES ON `app`.* TO 'app'@'localhost'", values: [] },
    ]);
    expect(JSON.stringify(plan)).not.toContain('s3cret');
    expect(planAccount(user, 'h', 'mysql', undefined, hash).statements[0].sql).toBe(
      "CREATE USER 'app'@'h' IDENTIFIED WITH mysql_native_password AS ?",
    );
  });

  it('changes nothing for an account whose stored hash and grants match, and sets a password that differs', () => {
    const found = { hash: nativePasswordHash('old'), grants: { '*.*': ['USAGE'] } };
    expect(planAccount(user, 'h', 'mariadb', found, nativePasswordHash('old')).statements).toEqual([]);
    const changedPlan = planAccount(user, 'h', 'mariadb', found, nativePasswordHash('new'));
    expect(changedPlan.passwordChanged).toBe(true);
    expect(changedPlan.statements).toEqual([
      { sql: "ALTER USER 'app'@'h' IDENTIFIED BY PASSWORD ?", values: [nativePasswordHash('new')] },
    ]);
    expect(changedPlan.after).toContain('password: changed');
    expect(changedPlan.after).not.toContain(nativePasswordHash('new'));
  });
});

describe('mysql_db', () => {
  it('creates only the missing databases, with encoding and collation as parameters', () => {
    const a = { name: ['a', 'b'], state: 'present' as const, encoding: 'utf8mb4', collation: 'utf8mb4_bin' };
    expect(planDatabases(a, ['a'])).toEqual({
      names: ['b'],
      statements: [
        { sql: 'CREATE DATABASE `b` CHARACTER SET ? COLLATE ?', values: ['utf8mb4', 'utf8mb4_bin'] },
      ],
    });
    expect(planDatabases({ ...a, state: 'absent' }, ['a']).statements).toEqual([
      { sql: 'DROP DATABASE `a`', values: [] },
    ]);
    expect(planDatabases(a, ['a', 'b']).statements).toEqual([]);
  });
});

describe("mysql_query's placeholders and changed rule", () => {
  it('binds positional and named arguments as PyMySQL does, %% a literal %', () => {
    expect(bindQuery('SELECT * FROM t WHERE id = %s AND s = %s', [1, "it's"])).toBe(
      "SELECT * FROM t WHERE id = 1 AND s = 'it\\'s'",
    );
    expect(bindQuery('SELECT %(a)s, %(a)s LIKE "x%%"', { a: null })).toBe('SELECT NULL, NULL LIKE "x%"');
    expect(bindQuery('SELECT 1 FROM t WHERE id IN %s', [[1, 2]])).toBe('SELECT 1 FROM t WHERE id IN (1,2)');
    expect(bindQuery("SELECT '100%' /* no arguments: as written */", undefined)).toBe(
      "SELECT '100%' /* no arguments: as written */",
    );
  });

  it('refuses arguments that do not fit the placeholders', () => {
    expect(() => bindQuery('SELECT %s, %s', [1])).toThrow(/not enough arguments/);
    expect(() => bindQuery('SELECT %s', [1, 2])).toThrow(/not all arguments converted/);
    expect(() => bindQuery('SELECT %d', [1])).toThrow(/unsupported format character 'd'/);
    expect(() => bindQuery('SELECT %(x)s', { y: 1 })).toThrow(/named_args has no 'x'/);
    expect(() => bindQuery('SELECT %s', [{ a: 1 }])).toThrow(/cannot pass/);
  });

  it('counts DML as a change only when rows changed, DDL always unless IF [NOT] EXISTS found nothing to do', () => {
    expect(statementChanged('UPDATE t SET a = 1', 0, [])).toBe(false);
    expect(statementChanged('  insert into t values (1)', 1, [])).toBe(true);
    expect(statementChanged('SELECT * FROM t', 5, [])).toBe(false);
    expect(statementChanged('CREATE TABLE t (a INT)', 0, [])).toBe(true);
    expect(statementChanged('CREATE TABLE IF NOT EXISTS t (a INT)', 0, [1050])).toBe(false);
    expect(statementChanged('DROP DATABASE IF EXISTS x', 0, [1008])).toBe(false);
    expect(statementChanged('ALTER TABLE t ADD COLUMN b INT', 0, [1265])).toBe(true);
  });

  it("reads the driver's results: rows of a SELECT, affected rows of a change, a CALL's first set", () => {
    expect(resultOf([{ id: 1, b: Buffer.from('hi') }])).toEqual({
      rows: [{ id: 1, b: 'hi' }],
      rowcount: 1,
      warnings: 0,
    });
    expect(resultOf({ affectedRows: 3, warningStatus: 1 })).toEqual({ rows: [], rowcount: 3, warnings: 1 });
    expect(resultOf([[{ a: 1 }, { a: 2 }], { affectedRows: 0 }]).rows).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('how the mysql modules log in', () => {
  const login: MysqlLogin = {
    login_host: 'localhost',
    login_port: 3306,
    config_file: '~/.my.cnf',
    connect_timeout: 30,
  };

  it('reads the [client] section of an option file, quotes dropped', () => {
    const cnf = parseClientOptions(
      '[mysqld]\nuser = mysql\n[client]\nuser = admin\npassword = "p#ss"\nsocket=/run/mysqld/mysqld.sock\n!includedir /x\n',
    );
    expect(cnf).toEqual({ user: 'admin', password: 'p#ss', socket: '/run/mysqld/mysqld.sock' });
  });

  it('uses a given option first, then the option file, then the OS user over TCP to login_host', () => {
    expect(loginPlan(login, {}, 'root')).toEqual({
      user: 'root',
      password: '',
      endpoint: { kind: 'tcp', host: 'localhost', port: 3306 },
    });
    expect(
      loginPlan({ ...login, login_user: 'me' }, { user: 'admin', password: 'p', socket: '/s' }, 'root'),
    ).toEqual({
      user: 'me',
      password: 'p',
      endpoint: { kind: 'unix', path: '/s' },
    });
    expect(
      loginPlan({ ...login, login_unix_socket: '/run/mysqld/mysqld.sock' }, {}, 'root').endpoint,
    ).toEqual({
      kind: 'unix',
      path: '/run/mysqld/mysqld.sock',
    });
  });

  it("finds ~/.my.cnf in the become user's home and quotes any other path", () => {
    expect(optionFileScript('~/.my.cnf')).toBe(`if [ -r "$HOME"/.my.cnf ]; then cat -- "$HOME"/.my.cnf; fi`);
    expect(optionFileScript("/etc/my cnf's")).toContain(`'/etc/my cnf'\\''s'`);
  });

  it('relays bytes both ways between its stdin/stdout and a unix socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-relay-'));
    const sock = path.join(dir, 's');
    const server = createServer((c) => c.on('data', (d) => c.write(`echo:${d.toString()}`)));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const child = spawn('sh', ['-c', relayCommand({ kind: 'unix', path: sock }, 5)]);
      const got = new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
      );
      child.stdin.write('ping');
      expect(await got).toBe('echo:ping');
      child.stdin.end();
      expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    } finally {
      server.close();
    }
  });

  it("rides a stream to a command on the host, and reads the relay's complaint when it cannot connect", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-relay-'));
    const sock = path.join(dir, 's');
    const server = createServer((c) => c.on('data', (d) => c.end(`echo:${d.toString()}`)));
    await new Promise<void>((r) => server.listen(sock, r));
    const remote = new Remote(new SshPool(), {
      name: 'localhost',
      address: '127.0.0.1',
      port: 22,
      user: 'root',
      knownHostsFile: '/dev/null',
      hostKeyChecking: 'strict',
      connectTimeoutMs: 1000,
      connection: 'local',
    });
    try {
      const reply = await remote.withStream(relayCommand({ kind: 'unix', path: sock }, 5), async (stream) => {
        stream.write('ping');
        return new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
      });
      expect(reply).toBe('echo:ping');
      const complaint = await remote.withStream(
        relayCommand({ kind: 'unix', path: path.join(dir, 'none') }, 1),
        (stream, stderr) => new Promise<string>((resolve) => stream.on('close', () => resolve(stderr()))),
      );
      expect(complaint).toBe(`cannot connect to ${path.join(dir, 'none')}: No such file or directory`);
    } finally {
      server.close();
    }
  });

  it('says which socket it could not reach', async () => {
    const child = spawn('sh', ['-c', relayCommand({ kind: 'unix', path: '/nonexistent/sock' }, 1)]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((r) => child.on('exit', r))).toBe(1);
    expect(stderr).toMatch(/cannot connect to \/nonexistent\/sock: No such file or directory/);
  });
});

describe('the mysql argument schemas', () => {
  const parse = (schema: Parameters<typeof parseStrict>[0], data: unknown, at: string) =>
    parseStrict(schema, data, [at]);

  it('names the bad field before anything runs, and says what is not supported yet', () => {
    expect(parse(MysqlUserArgs, { name: 'app', priv: 'app.*:SELEKT;' }, 'mysql_user').problems).toEqual([
      'mysql_user.priv: "SELEKT;" is not a privilege',
    ]);
    expect(
      parse(MysqlDbArgs, { name: 'x', state: 'dump', target: '/tmp/x.sql' }, 'mysql_db').problems,
    ).toEqual(['mysql_db.state: state=dump and state=import are not supported yet']);
    expect(
      parse(MysqlUserArgs, { name: 'a', update_password: 'on_new_username' }, 'mysql_user').problems,
    ).toEqual(['mysql_user.update_password: update_password=on_new_username is not supported yet']);
    expect(
      parse(MysqlQueryArgs, { query: 'SELECT 1', positional_args: [1], named_args: { a: 1 } }, 'mysql_query')
        .problems,
    ).toEqual(['mysql_query: give at most one of positional_args or named_args']);
  });

  it("takes Ansible's list forms and its db alias", () => {
    expect(parse(MysqlDbArgs, { db: 'a, b' }, 'mysql_db').data).toMatchObject({
      name: ['a', 'b'],
      state: 'present',
    });
    expect(parse(MysqlQueryArgs, { query: 'SELECT 1' }, 'mysql_query').data).toMatchObject({
      query: ['SELECT 1'],
    });
    expect(parse(MysqlUserArgs, { name: 'a', host: 'DB1.Example' }, 'mysql_user').data).toMatchObject({
      host: 'db1.example',
    });
  });

  it('knows the modules by their community.mysql names', () => {
    expect(moduleOf('community.mysql.mysql_user')).toBe('mysql_user');
    expect(moduleOf('mysql_db')).toBe('mysql_db');
    expect(moduleOf('community.mysql.mysql_query')).toBe('mysql_query');
  });
});
