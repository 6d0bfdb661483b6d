import { escape } from 'mysql2/promise';

// mysql_query's placeholders are PyMySQL's: the query is a Python format string and the arguments
// are escaped into it on the client, so `executed_queries` shows exactly what the server ran.
// Pure (mysql2's escape is string work), so it is unit-tested.

/** A value as PyMySQL renders it: a list becomes `(a,b)`, for `IN %s`. */
export function sqlLiteral(v: unknown): string {
  if (Array.isArray(v)) return `(${v.map(sqlLiteral).join(',')})`;
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' || typeof v === 'string') return escape(v);
  throw new Error(
    `cannot pass ${JSON.stringify(v)} as a query argument (a string, number, boolean, null, or a list of them)`,
  );
}

/**
 * Python's `query % args`, as PyMySQL applies it when arguments are given: `%s` takes the next
 * positional argument, `%(name)s` a named one, `%%` is a literal `%`. Without arguments the query
 * goes as written (a `%` in it stays).
 */
export function bindQuery(query: string, args: unknown[] | Record<string, unknown> | undefined): string {
  if (args === undefined) return query;
  let next = 0;
  const out = query.replace(
    /%(\(([^)]*)\))?([\s\S])/g,
    (_, named?: string, name?: string, conversion?: string) => {
      if (conversion === '%' && named === undefined) return '%';
      if (conversion !== 's')
        throw new Error(`unsupported format character '${conversion}' (write %% for a literal %)`);
      if (name !== undefined) {
        if (Array.isArray(args)) throw new Error(`%(${name})s needs named_args`);
        if (!Object.hasOwn(args, name)) throw new Error(`named_args has no '${name}'`);
        return sqlLiteral(args[name]);
      }
      if (!Array.isArray(args)) throw new Error('%s needs positional_args');
      if (next >= args.length) throw new Error('not enough arguments for format string');
      return sqlLiteral(args[next++]);
    },
  );
  if (Array.isArray(args) && next < args.length)
    throw new Error('not all arguments converted during string formatting');
  return out;
}
