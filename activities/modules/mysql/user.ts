import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { MysqlUserArgs } from '../../../common/modules';
import { quoteAccount } from '../../../common/mysql-names';
import {
  grantStatements,
  MARIADB_PRIVILEGE_NAMES,
  parseShowGrants,
  planGrants,
  privSpecText,
  renamePrivileges,
  type Privileges,
} from '../../../common/mysql-privileges';
import {
  NO_TLS,
  requireClause,
  sameTls,
  tlsOfAccount,
  tlsText,
  type TlsRequirement,
} from '../../../common/mysql-tls';
import type { Flavour } from '../../../common/db';
import type { Sql } from '../../db/sql';
import { failed, ok, type ModuleRunner } from '../context';
import { withMysql } from './session';

// `mysql_user` (community.mysql.mysql_user): an account, its password, its privileges and the TLS
// it requires. The password is compared as the server stores it (the mysql_native_password hash,
// computed here) and sent only as that hash, so the plaintext never reaches the server, a
// statement or a message. As in community.mysql, an account whose task names no tls_requires
// requires none.

type MysqlUser = z.infer<typeof MysqlUserArgs>;

/** Pure: mysql_native_password's stored form, `*` and SHA1(SHA1(password)) in upper-case hex. */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

/** Pure: how a flavour takes an account's password as a hash (MySQL 8 has no IDENTIFIED BY PASSWORD). */
export function identifiedByHash(flavour: Flavour): string {
  return flavour === 'mariadb' ? 'IDENTIFIED BY PASSWORD ?' : 'IDENTIFIED WITH mysql_native_password AS ?';
}

/** What one account needs, in statements whose only parameter is the password hash. */
export interface AccountPlan {
  account: string;
  create: boolean;
  passwordChanged: boolean;
  tlsChanged: boolean;
  statements: { sql: string; values: string[] }[];
  before: string;
  after: string;
}

/** The account's row of mysql.user: the stored hash in the column this server fills. */
function storedHash(row: Record<string, unknown>): string {
  const pick = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return pick(row.Password) || pick(row.authentication_string);
}

/** Pure: the statements for one existing or new account. */
export function planAccount(
  a: Pick<MysqlUser, 'name' | 'append_privs' | 'subtract_privs'> & {
    priv?: Privileges;
    tls_requires?: TlsRequirement;
  },
  host: string,
  flavour: Flavour,
  found: { hash: string; grants: Privileges; tls?: TlsRequirement } | undefined,
  wantedHash: string | undefined,
): AccountPlan {
  const account = quoteAccount(a.name, host);
  const statements: AccountPlan['statements'] = [];
  const current = found?.grants ?? {};
  const passwordChanged = wantedHash !== undefined && found?.hash.toUpperCase() !== wantedHash;
  const tls = a.tls_requires ?? NO_TLS;
  const currentTls = found?.tls ?? NO_TLS;
  const tlsChanged = !sameTls(currentTls, tls);
  const require = requireClause(tls);
  if (!found) {
    // A new account requires nothing unless asked: REQUIRE NONE is the server's default.
    const withTls = tlsChanged ? require : { sql: '', values: [] };
    statements.push(
      wantedHash
        ? {
            sql: `CREATE USER ${account} ${identifiedByHash(flavour)}${withTls.sql}`,
            values: [wantedHash, ...withTls.values],
          }
        : { sql: `CREATE USER ${account}${withTls.sql}`, values: withTls.values },
    );
  } else if (passwordChanged) {
    statements.push({ sql: `ALTER USER ${account} ${identifiedByHash(flavour)}`, values: [wantedHash] });
  }
  let wanted = current;
  if (a.priv) {
    const names = flavour === 'mariadb' ? MARIADB_PRIVILEGE_NAMES : {};
    const mode = a.append_privs ? 'append' : a.subtract_privs ? 'subtract' : 'replace';
    // A new account has nothing to take away, and subtracting from it grants nothing.
    const steps =
      found || mode !== 'subtract' ? planGrants(current, renamePrivileges(a.priv, names), mode, a.name) : [];
    for (const sql of grantStatements(steps, account)) statements.push({ sql, values: [] });
    wanted = applied(current, steps);
  }
  if (found && tlsChanged)
    statements.push({ sql: `ALTER USER ${account}${require.sql}`, values: require.values });
  const describe = (exists: boolean, p: Privileges, t: TlsRequirement) =>
    exists
      ? `${a.name}@${host}: present\nprivileges: ${privSpecText(p)}\n` +
        (sameTls(t, NO_TLS) ? '' : `tls: ${tlsText(t)}\n`)
      : `${a.name}@${host}: absent\n`;
  return {
    account,
    create: !found,
    passwordChanged,
    tlsChanged,
    statements,
    before: describe(Boolean(found), current, currentTls),
    after: describe(true, wanted, tls) + (passwordChanged && found ? 'password: changed\n' : ''),
  };
}

/** Pure: the privileges after a plan's steps, for --diff. */
function applied(current: Privileges, steps: ReturnType<typeof planGrants>): Privileges {
  const out: Privileges = Object.fromEntries(Object.entries(current).map(([t, p]) => [t, [...p]]));
  for (const s of steps) {
    const have = out[s.target] ?? [];
    const next =
      s.action === 'grant'
        ? [...have, ...s.privileges.filter((p) => !have.includes(p))]
        : s.privileges.includes('ALL')
          ? have.filter((p) => p === 'GRANT' && !s.privileges.includes('GRANT'))
          : have.filter((p) => !s.privileges.includes(p));
    if (next.length) out[s.target] = next;
    else delete out[s.target];
  }
  return out;
}

async function accountsOf(sql: Sql, a: MysqlUser): Promise<Record<string, unknown>[]> {
  return a.host_all
    ? sql.rows('SELECT * FROM mysql.user WHERE User = ?', [a.name])
    : sql.rows('SELECT * FROM mysql.user WHERE User = ? AND Host = ?', [a.name, a.host]);
}

async function grantsOf(sql: Sql, account: string): Promise<Privileges> {
  const rows = await sql.rows(`SHOW GRANTS FOR ${account}`);
  return parseShowGrants(rows.map((r) => String(Object.values(r)[0])));
}

export const mysqlUser: ModuleRunner<MysqlUser> = (ctx, a) => {
  const wantedHash = a.password
    ? a.encrypted
      ? a.password.toUpperCase()
      : nativePasswordHash(a.password)
    : undefined;
  return withMysql(ctx, a, [a.password, wantedHash], async (sql) => {
    if (!a.sql_log_bin) await sql.exec('SET SESSION sql_log_bin = 0');
    const rows = await accountsOf(sql, a);
    const data = (passwordChanged: boolean, msg: string) => ({
      user: a.name,
      msg,
      password_changed: passwordChanged,
    });
    const label = a.host_all ? `${a.name} (every host)` : `${a.name}@${a.host}`;

    if (a.state === 'absent') {
      if (!rows.length) return { ...ok(`${label} absent`), data: data(false, "User doesn't exist") };
      const accounts = rows.map((r) => quoteAccount(a.name, String(r.Host)));
      if (!ctx.check) for (const acc of accounts) await sql.exec(`DROP USER ${acc}`);
      return {
        changed: true,
        msg: `${ctx.check ? 'would remove' : 'remove'} ${accounts.join(', ')}`,
        ...(ctx.diff
          ? {
              diff: {
                before: rows.map((r) => `${a.name}@${String(r.Host)}: present\n`).join(''),
                after: rows.map((r) => `${a.name}@${String(r.Host)}: absent\n`).join(''),
              },
            }
          : {}),
        data: data(false, 'User deleted'),
      };
    }

    if (!rows.length && a.host_all) return failed('host_all parameter cannot be used when adding a user');
    const hosts = rows.length ? rows.map((r) => String(r.Host)) : [a.host];
    const plans: AccountPlan[] = [];
    for (const host of hosts) {
      const row = rows.find((r) => String(r.Host) === host);
      const found = row
        ? {
            hash: storedHash(row),
            grants: await grantsOf(sql, quoteAccount(a.name, host)),
            tls: tlsOfAccount(row),
          }
        : undefined;
      // update_password=on_create: an existing account keeps whatever password it has.
      const hash = row && a.update_password === 'on_create' ? undefined : wantedHash;
      plans.push(planAccount(a, host, sql.dialect.flavour, found, hash));
    }
    const work = plans.filter((p) => p.statements.length);
    const passwordChanged = plans.some((p) => p.passwordChanged);
    if (!work.length) return { ...ok(`${label} unchanged`), data: data(false, 'User unchanged') };
    if (!ctx.check) for (const p of work) for (const s of p.statements) await sql.exec(s.sql, s.values);
    // community.mysql's message names the last kind of change it made: password, grants, TLS.
    const msg = plans.some((p) => p.create)
      ? 'User added'
      : work.some((p) => p.tlsChanged)
        ? 'TLS requires updated'
        : work.some((p) => p.statements.some((s) => /^(GRANT|REVOKE)/.test(s.sql)))
          ? 'Privileges updated'
          : 'Password updated';
    return {
      changed: true,
      msg: `${ctx.check ? 'would ' : ''}${work.map((p) => describeWork(p)).join('; ')}`,
      ...(ctx.diff
        ? { diff: { before: work.map((p) => p.before).join(''), after: work.map((p) => p.after).join('') } }
        : {}),
      data: data(passwordChanged, msg),
    };
  });
};

/** Pure: what a plan does, in the words of a task line. */
function describeWork(p: AccountPlan): string {
  const parts: string[] = [];
  if (p.create) parts.push(`create ${p.account}`);
  else if (p.passwordChanged) parts.push(`set the password of ${p.account}`);
  const grants = p.statements.filter((s) => /^(GRANT|REVOKE)/.test(s.sql)).length;
  if (grants)
    parts.push(
      `${p.create ? 'grant' : `change the privileges of ${p.account}`} (${grants} statement${grants > 1 ? 's' : ''})`,
    );
  if (p.tlsChanged && !p.create) parts.push(`set the TLS ${p.account} requires`);
  return parts.join(', ');
}
