// How Jinja2 prints a value into text: Python's str() of it. A list or mapping written into a
// config file comes out as Python writes it (`['a', 'b']`, `{'k': 1}`), booleans as True/False,
// null as None, as ansible-core renders them.

function reprString(s: string): string {
  // Python prefers single quotes, and switches to double when the text has a ' and no ".
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

/** Python's repr(), for values inside a list or mapping. */
export function pythonRepr(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return reprString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (depth > 50) return '...';
  if (Array.isArray(v)) return `[${v.map((x) => pythonRepr(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return `{${Object.entries(v)
      .map(([k, x]) => `${reprString(k)}: ${pythonRepr(x, depth + 1)}`)
      .join(', ')}}`;
  return String(v);
}

/** Python's str(): text stays itself, everything else as repr. */
export function pythonStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) !== Object.prototype
  )
    return String(v);
  return pythonRepr(v);
}

/** Python's type name of a value, as `type_debug` prints it and TypeErrors name it. */
export function pythonType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  // nunjucks' SafeString (markup a filter marked safe) is a String object.
  if (typeof v === 'string' || v instanceof String) return 'str';
  return Array.isArray(v) ? 'list' : 'dict';
}
