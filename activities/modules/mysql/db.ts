import { format } from 'mysql2/promise';
import type { z } from 'zod';
import type { MysqlDbArgs } from '../../../common/modules';
import { quoteIdentifier } from '../../../common/mysql-names';
import { changed, ok, type ModuleRunner } from '../context';
import { withMysql } from './session';

// `mysql_db` (community.mysql.mysql_db): databases present or absent. As in community.mysql, an
// existing database is left as it is: encoding and collation apply when it is created.

type MysqlDb = z.infer<typeof MysqlDbArgs>;

export interface Statement {
  sql: string;
  values: string[];
}

/** Pure: the statements that bring the named databases to `state`, given the ones that exist. */
export function planDatabases(
  a: Pick<MysqlDb, 'name' | 'state' | 'encoding' | 'collation'>,
  existing: readonly string[],
): { names: string[]; statements: Statement[] } {
  if (a.state === 'absent') {
    const names = a.name.filter((n) => existing.includes(n));
    return {
      names,
      statements: names.map((n) => ({ sql: `DROP DATABASE ${quoteIdentifier(n)}`, values: [] })),
    };
  }
  const names = a.name.filter((n) => !existing.includes(n));
  const statements = names.map((n) => {
    const clauses = [
      ...(a.encoding ? [{ sql: ' CHARACTER SET ?', value: a.encoding }] : []),
      ...(a.collation ? [{ sql: ' COLLATE ?', value: a.collation }] : []),
    ];
    return {
      sql: `CREATE DATABASE ${quoteIdentifier(n)}${clauses.map((c) => c.sql).join('')}`,
      values: clauses.map((c) => c.value),
    };
  });
  return { names, statements };
}

const listed = (names: string[]) => names.map((n) => `${n}\n`).join('');

export const mysqlDb: ModuleRunner<MysqlDb> = (ctx, a) =>
  withMysql(ctx, a, [], async (sql) => {
    if (!a.sql_log_bin) await sql.exec('SET SESSION sql_log_bin = 0');
    const existing = (
      await sql.rows('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)', [
        a.name,
      ])
    ).map((r) => String(r.name));
    const { names, statements } = planDatabases(a, existing);
    const data = {
      db: a.name.join(' '),
      db_list: a.name,
      executed_commands: ctx.check ? [] : statements.map((s) => format(s.sql, s.values)),
    };
    if (!statements.length) return { ...ok(`database ${a.name.join(', ')} ${a.state}`), data };
    if (!ctx.check) for (const s of statements) await sql.exec(s.sql, s.values);
    const after =
      a.state === 'present' ? [...existing, ...names] : existing.filter((n) => !names.includes(n));
    const verb = a.state === 'present' ? 'create' : 'drop';
    return {
      ...changed(ctx, `${verb} database ${names.join(', ')}`, {
        before: listed(existing.sort()),
        after: listed(after.sort()),
      }),
      data,
    };
  });
