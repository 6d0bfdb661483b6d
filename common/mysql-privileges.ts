import { identifierProblem, quoteIdentifier, targetSide } from './mysql-names';

// mysql_user's privileges, as community.mysql reads and compares them: Ansible's priv string
// ('db.table:PRIV1,PRIV2/db2.*:ALL') or its dict form on one side, SHOW GRANTS on the other, both
// brought to one form, then the grants and revokes that turn one into the other. Pure: what would
// change is known (and shown in check mode) before any statement runs.

/**
 * Target -> privileges. Targets are SQL text (`*.*`, `` `app`.* ``, `` `app`.`t` ``,
 * ``PROCEDURE `app`.`p` ``); privileges are upper-case words, `ALL` for ALL PRIVILEGES, `GRANT` for
 * WITH GRANT OPTION and `SELECT (a, b)` (columns sorted) for column privileges.
 */
export type Privileges = Record<string, string[]>;

export class PrivilegeError extends Error {
  override name = 'PrivilegeError';
}

const COLUMN_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];

/** Splits on commas outside parentheses: `SELECT (a, b), INSERT` is two privileges. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** One privilege in the common form; throws on anything that is not a privilege. */
export function normalizePrivilege(token: string): string {
  const t = token.trim().replace(/\s+/g, ' ');
  const m = /^([A-Za-z]+(?: [A-Za-z]+)*) ?(?:\((.*)\))?$/s.exec(t);
  if (!m) throw new PrivilegeError(`"${token}" is not a privilege`);
  const word = m[1].toUpperCase();
  if (m[2] === undefined) return word === 'ALL PRIVILEGES' ? 'ALL' : word;
  if (!COLUMN_PRIVILEGES.includes(word))
    throw new PrivilegeError(`${word} cannot be granted on columns (only ${COLUMN_PRIVILEGES.join(', ')})`);
  const columns = m[2].split(',').map((c) => c.trim().replace(/^`(.*)`$/s, '$1'));
  for (const c of columns) {
    const problem = identifierProblem(c, 'column');
    if (problem) throw new PrivilegeError(problem);
  }
  return `${word} (${[...new Set(columns)].sort().join(', ')})`;
}

/** The last `.` outside backquotes: `` `my.db`.* `` splits after the closing quote. */
function lastDot(text: string): number {
  let quoted = false;
  let dot = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '`') quoted = !quoted;
    else if (text[i] === '.' && !quoted) dot = i;
  }
  return dot;
}

/** A target as written (`app.*`, `` `app`.`t` ``, `PROCEDURE app.p`) in the common form. */
export function normalizeTarget(text: string): string {
  const t = text.trim();
  const routine = /^(FUNCTION|PROCEDURE)\s+(.*)$/is.exec(t);
  const object = routine ? routine[2] : t;
  const dot = lastDot(object);
  if (dot < 0) throw new PrivilegeError(`"${text}" is not db.table (use db.* for a whole database)`);
  const [db, table] = [object.slice(0, dot), object.slice(dot + 1)];
  const dbSide = targetSide(db, 'database');
  let tableSide = targetSide(table, routine ? 'routine' : 'table');
  if (dbSide === '*' && tableSide !== '*') throw new PrivilegeError(`"${text}": *.table is not a target`);
  // Routine names are not case-sensitive: SHOW GRANTS reports them in lower case.
  if (routine) tableSide = tableSide.toLowerCase();
  return `${routine ? `${routine[1].toUpperCase()} ` : ''}${dbSide}.${tableSide}`;
}

/**
 * Ansible's priv option: 'db.table:PRIV1,PRIV2/db2.*:ALL', or a dict of target -> 'PRIV1,PRIV2'.
 * `*.*: USAGE` is added when `*.*` is not named, as the server always reports it (not when
 * subtracting, which names only what to take away).
 */
export function parsePrivSpec(spec: string | Record<string, unknown>, ensureUsage = true): Privileges {
  const text =
    typeof spec === 'string'
      ? spec
      : Object.entries(spec)
          .map(([k, v]) => `${k}:${String(v)}`)
          .join('/');
  const out: Privileges = {};
  for (const item of text.trim() ? text.trim().split('/') : []) {
    const colon = item.lastIndexOf(':');
    if (colon < 0) throw new PrivilegeError(`"${item.trim()}": expected db.table:PRIVILEGES`);
    const target = normalizeTarget(item.slice(0, colon));
    const privileges = splitTopLevel(item.slice(colon + 1))
      .filter(Boolean)
      .map(normalizePrivilege);
    if (!privileges.length) throw new PrivilegeError(`"${item.trim()}": no privileges named`);
    out[target] = [...new Set(privileges)];
  }
  if (ensureUsage && !out['*.*']) out['*.*'] = ['USAGE'];
  return out;
}

/** The lines of SHOW GRANTS FOR an account, in the same form. Role grants are left out. */
export function parseShowGrants(lines: string[]): Privileges {
  const out: Privileges = {};
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (.+?) TO ['`"]/s.exec(line);
    if (!m) continue; // GRANT `role` TO `user`@`host`: roles are not privileges
    let target: string;
    try {
      target = normalizeTarget(m[2]);
    } catch {
      target = m[2]; // PROXY ON ''@'%': kept as the server wrote it, never revoked
    }
    const privileges = splitTopLevel(m[1]).map(normalizePrivilege);
    // After the account: IDENTIFIED BY PASSWORD '*…' (MariaDB) and the grant option.
    if (/\bWITH GRANT OPTION\b/.test(line.slice(m[0].length))) privileges.push('GRANT');
    out[target] = [...new Set([...(out[target] ?? []), ...privileges])];
  }
  return out;
}

/**
 * mysql_user's column_case_sensitive=false (community.mysql 3.x's default): column names of column
 * privileges upper-cased, as that version sends them to the server.
 */
export function upperCaseColumns(privileges: Privileges): Privileges {
  const upper = (p: string) => {
    const m = /^([A-Z ]+) \((.*)\)$/.exec(p);
    return m ? normalizePrivilege(`${m[1]} (${m[2].toUpperCase()})`) : p;
  };
  return Object.fromEntries(Object.entries(privileges).map(([t, ps]) => [t, [...new Set(ps.map(upper))]]));
}

/**
 * MariaDB 10.5 renamed privileges and reports the new names: a role asking for the old one must
 * not see a change on every run.
 */
export const MARIADB_PRIVILEGE_NAMES: Record<string, string> = {
  'REPLICATION CLIENT': 'BINLOG MONITOR',
  'REPLICA MONITOR': 'SLAVE MONITOR',
  'REPLICATION REPLICA': 'REPLICATION SLAVE',
};

/** The same privileges under the names the server reports. */
export function renamePrivileges(privileges: Privileges, names: Record<string, string>): Privileges {
  return Object.fromEntries(
    Object.entries(privileges).map(([t, ps]) => [t, [...new Set(ps.map((p) => names[p] ?? p))]]),
  );
}

/** One GRANT or REVOKE of some privileges on one target. */
export interface GrantStep {
  action: 'grant' | 'revoke';
  target: string;
  privileges: string[];
}

export type PrivilegeMode = 'replace' | 'append' | 'subtract';

const minus = (a: string[], b: string[]) => a.filter((p) => !b.includes(p));

/**
 * What turns `current` into `wanted`, revokes first, as community.mysql decides it: replacing
 * revokes targets not wanted (never root's, never PROXY) and privileges not wanted, but granting
 * ALL revokes only the grant option; appending only grants; subtracting only revokes what is named.
 * USAGE is no privilege: never revoked, granted only to carry a grant option.
 */
export function planGrants(
  current: Privileges,
  wanted: Privileges,
  mode: PrivilegeMode,
  user: string,
): GrantStep[] {
  const revokes: GrantStep[] = [];
  const grants: GrantStep[] = [];
  const add = (list: GrantStep[], action: GrantStep['action'], target: string, privileges: string[]) => {
    const kept = privileges.filter((p) => p !== 'USAGE');
    if (kept.length) list.push({ action, target, privileges: kept });
  };
  if (mode === 'replace') {
    for (const [target, have] of Object.entries(current)) {
      if (!(target in wanted) && user !== 'root' && !have.includes('PROXY'))
        add(revokes, 'revoke', target, have);
    }
  }
  for (const [target, want] of Object.entries(wanted)) {
    const have = current[target] ?? [];
    if (mode === 'subtract') {
      add(
        revokes,
        'revoke',
        target,
        want.filter((p) => have.includes(p)),
      );
      continue;
    }
    const grant = minus(want, have);
    let revoke = mode === 'append' ? [] : minus(have, want);
    if (grant.includes('ALL')) revoke = revoke.filter((p) => p === 'GRANT' || p === 'PROXY');
    add(revokes, 'revoke', target, revoke);
    add(grants, 'grant', target, grant);
  }
  return [...revokes, ...grants];
}

function privilegeSql(p: string): string {
  if (p === 'ALL') return 'ALL PRIVILEGES';
  const m = /^([A-Z ]+) \((.*)\)$/.exec(p);
  if (!m) return p;
  return `${m[1]} (${m[2]
    .split(', ')
    .map((c) => quoteIdentifier(c, 'column'))
    .join(', ')})`;
}

/** The statements of a plan for one account (`'user'@'host'` as quoteAccount renders it). */
export function grantStatements(steps: GrantStep[], account: string): string[] {
  const out: string[] = [];
  for (const s of steps) {
    const option = s.privileges.includes('GRANT');
    const rest = s.privileges.filter((p) => p !== 'GRANT').map(privilegeSql);
    if (s.action === 'revoke') {
      if (option) out.push(`REVOKE GRANT OPTION ON ${s.target} FROM ${account}`);
      if (rest.length) out.push(`REVOKE ${rest.join(', ')} ON ${s.target} FROM ${account}`);
    } else {
      const list = rest.length ? rest : ['USAGE'];
      out.push(`GRANT ${list.join(', ')} ON ${s.target} TO ${account}${option ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  return out;
}

/** Privileges back in Ansible's string form, targets sorted: what --diff shows. */
export function privSpecText(privileges: Privileges): string {
  return Object.keys(privileges)
    .sort()
    .map((t) => `${t.replace(/`/g, '')}:${privileges[t].join(',')}`)
    .join('/');
}
