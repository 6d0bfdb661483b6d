import type { ResultSetHeader } from 'mysql2/promise';
import type { z } from 'zod';
import type { MysqlQueryArgs } from '../../../common/modules';
import { failed, type ModuleRunner } from '../context';
import { bindQuery } from './pyformat';
import { withMysql } from './session';

// `mysql_query` (community.mysql.mysql_query): statements as written, with PyMySQL's
// placeholders. Like community.mysql it has no check mode (the task is skipped), and it reports a
// change by its rule: a DML statement that touched rows, or any DDL statement.

type MysqlQuery = z.infer<typeof MysqlQueryArgs>;

const DML = ['INSERT', 'UPDATE', 'DELETE', 'REPLACE'];
const DDL = ['CREATE', 'DROP', 'ALTER', 'RENAME', 'TRUNCATE'];

/**
 * Notes a DDL statement leaves when IF [NOT] EXISTS found nothing to do (database/table/column/
 * index/routine/trigger/user exists or does not). community.mysql relies on PyMySQL 0.9's warning
 * for the same; the server's own notes work with every driver.
 */
export const NOTHING_TO_DO_NOTES = [
  1007, 1008, 1050, 1051, 1060, 1061, 1091, 1304, 1305, 1359, 1360, 1973, 1974,
];

export const isDdl = (query: string) => DDL.some((k) => head(query).includes(k));
// community.mysql looks for the keyword in the statement's first 8 characters.
const head = (query: string) => query.trimStart().slice(0, 8).toUpperCase();

/** Pure: whether one statement changed something, given its affected rows and the notes it left. */
export function statementChanged(query: string, affectedRows: number, notes: number[]): boolean {
  if (isDdl(query)) return !(notes.length > 0 && notes.every((n) => NOTHING_TO_DO_NOTES.includes(n)));
  return DML.some((k) => head(query).includes(k)) && affectedRows > 0;
}

/** Pure: a driver result as rows, row count and warning count (a CALL's first result set). */
export function resultOf(result: unknown): {
  rows: Record<string, unknown>[];
  rowcount: number;
  warnings: number;
} {
  if (!Array.isArray(result)) {
    const header = result as ResultSetHeader;
    return { rows: [], rowcount: header.affectedRows, warnings: header.warningStatus };
  }
  const sets = result.filter(Array.isArray) as Record<string, unknown>[][];
  const rows = (sets.length ? sets[0] : result) as Record<string, unknown>[];
  const plain = rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v])),
  );
  return { rows: plain, rowcount: rows.length, warnings: 0 };
}

export const mysqlQuery: ModuleRunner<MysqlQuery> = async (ctx, a) => {
  if (ctx.check)
    return {
      changed: false,
      skipped: true,
      msg: 'remote module (community.mysql.mysql_query) does not support check mode',
    };
  const args = a.positional_args?.length
    ? a.positional_args
    : a.named_args && Object.keys(a.named_args).length
      ? a.named_args
      : undefined;
  return withMysql(
    ctx,
    a,
    [],
    async (sql) => {
      const conn = sql.conn;
      const data = {
        query_result: [] as Record<string, unknown>[][],
        rowcount: [] as number[],
        executed_queries: [] as string[],
        execution_time_ms: [] as number[],
      };
      let anyChange = false;
      if (a.single_transaction) await conn.beginTransaction();
      for (const q of a.query) {
        let result: unknown;
        let text = q;
        const started = performance.now();
        try {
          text = bindQuery(q, args);
          [result] = await conn.query(text);
        } catch (err) {
          if (a.single_transaction) await conn.rollback().catch(() => undefined);
          return failed(
            `Cannot execute SQL '${q}' args [${JSON.stringify(args ?? null)}]: ${(err as Error).message}`,
          );
        }
        data.execution_time_ms.push(Math.round((performance.now() - started) * 10_000) / 10_000);
        const { rows, rowcount, warnings } = resultOf(result);
        const notes =
          warnings > 0 && isDdl(q) ? (await sql.rows('SHOW WARNINGS')).map((w) => Number(w.Code)) : [];
        anyChange ||= statementChanged(q, rowcount, notes);
        data.query_result.push(rows);
        data.rowcount.push(rowcount);
        data.executed_queries.push(text);
      }
      if (a.single_transaction) await conn.commit();
      const n = a.query.length;
      return { changed: anyChange, msg: `${n} ${n === 1 ? 'query' : 'queries'} run`, data };
    },
    a.login_db,
  );
};
