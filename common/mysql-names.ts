// MySQL identifiers (databases, tables, columns) and account names cannot travel as parameters:
// this is the one place that checks them and quotes them into SQL text. Everything else (passwords,
// character sets, the values of a query) goes as a parameter. Pure, so the argument schemas check
// names before a play starts and the activities quote with the same rules.

/** Backquoted, a backquote doubled: the one quoting MySQL and MariaDB read alike in every sql_mode. */
function backquote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

// Control characters never belong in a name; a NUL would end the server's copy of it.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `name` cannot be a database, table or column name; undefined when it can. */
export function identifierProblem(name: string, what = 'name'): string | undefined {
  if (name.length === 0) return `${what} is empty`;
  if (name.length > 64) return `${what} "${name.slice(0, 20)}…" is longer than 64 characters`;
  if (CONTROL.test(name)) return `${what} contains a control character`;
  if (name.endsWith(' ')) return `${what} "${name}" ends with a space`;
  return undefined;
}

/** A database, table or column name as SQL text; throws on a name no server would take. */
export function quoteIdentifier(name: string, what = 'name'): string {
  const problem = identifierProblem(name, what);
  if (problem) throw new Error(problem);
  return backquote(name);
}

/**
 * Why `value` cannot be the user or host part of an account; undefined when it can. A backslash is
 * refused so that the quoting below means the same with and without NO_BACKSLASH_ESCAPES.
 */
export function accountPartProblem(value: string, part: 'user' | 'host'): string | undefined {
  const max = part === 'user' ? 80 : 255;
  if (value.length > max) return `${part} "${value.slice(0, 20)}…" is longer than ${max} characters`;
  if (CONTROL.test(value)) return `${part} contains a control character`;
  if (value.includes('\\')) return `${part} "${value}" contains a backslash`;
  if (part === 'host' && value.length === 0) return 'host is empty';
  return undefined;
}

/** `'user'@'host'` as SQL text, each quote doubled; throws on a part no server would take. */
export function quoteAccount(user: string, host: string): string {
  const problem = accountPartProblem(user, 'user') ?? accountPartProblem(host, 'host');
  if (problem) throw new Error(problem);
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return `${q(user)}@${q(host)}`;
}

/** A character set or collation name (`utf8mb4`, `utf8mb4_unicode_ci`); these do go as parameters. */
export const CHARSET_NAME = /^[A-Za-z0-9_]*$/;

/**
 * One side of a privilege target (`db`, `table`, or `*`) as SQL text: `*` stays, a backquoted
 * name loses its quotes and is quoted again, so `app.*`, `` `app`.* `` and SHOW GRANTS' own form
 * all become the same key.
 */
export function targetSide(side: string, what: string): string {
  const s = side.trim();
  if (s === '*') return '*';
  const m = /^([`"])(.*)\1$/s.exec(s);
  const name = m ? m[2].split(`${m[1]}${m[1]}`).join(m[1]) : s;
  return quoteIdentifier(name, what);
}
