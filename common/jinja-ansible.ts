import type { Environment } from 'nunjucks';
import { TEXT_FILTERS } from './jinja-text-filters';

// The filters and tests Ansible adds to Jinja2 (and the Jinja2 ones nunjucks lacks), as roles use
// them in `when`, `that` and templates. Semantics follow ansible-core's: `bool` reads yes/no/on/off,
// `default(x, true)` also replaces empty values, `version` compares dotted versions.

type Dict = Record<string, unknown>;

/** Python's truthiness, which Jinja2 and so Ansible conditions use: empty lists and mappings are false. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Ansible's `bool` filter: yes/no, on/off, true/false, 1/0 as text; anything else is false. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  return /^(y|yes|on|1|true|t)$/i.test(String(v ?? '').trim());
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    (String(v).match(/\d+|[a-z]+/gi) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    return String(p) < String(q) ? -1 : 1;
  }
  return 0;
}

const VERSION_OPERATORS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

export function versionTest(value: unknown, other: unknown, operator = 'eq'): boolean {
  const op = VERSION_OPERATORS[operator];
  if (!op) throw new Error(`version: unknown operator ${operator}`);
  return op(compareVersions(String(value), String(other)));
}

const result = (v: unknown): Dict => (v && typeof v === 'object' ? (v as Dict) : {});
const failedResult = (v: unknown) => toBool(result(v).failed);
const regex = (pattern: unknown, flags = '') => new RegExp(String(pattern), flags);

/** Shell quoting as Ansible's `quote` filter: one argument, safe in sh. */
export const shellQuote = (v: unknown): string => `'${String(v ?? '').replace(/'/g, `'"'"'`)}'`;

const attr = (item: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Dict)[k] : undefined), item);

function combine(...dicts: unknown[]): Dict {
  const merge = (a: Dict, b: Dict, recursive: boolean): Dict => {
    const out: Dict = { ...a };
    for (const [k, v] of Object.entries(b))
      out[k] =
        recursive && out[k] && typeof out[k] === 'object' && v && typeof v === 'object' && !Array.isArray(v)
          ? merge(out[k] as Dict, v as Dict, true)
          : v;
    return out;
  };
  const last = dicts[dicts.length - 1] as { recursive?: boolean; __keywords?: boolean } | undefined;
  const recursive = Boolean(last?.__keywords && last.recursive);
  const list = last?.__keywords ? dicts.slice(0, -1) : dicts;
  return list
    .flatMap((d) => (Array.isArray(d) ? d : [d]))
    .reduce<Dict>((a, d) => merge(a, result(d), recursive), {});
}

export function addAnsibleFilters(env: Environment): void {
  const filters: Record<string, (...args: never[]) => unknown> = {
    bool: toBool,
    ternary: (v: unknown, yes: unknown, no: unknown, none?: unknown) =>
      v === null && none !== undefined ? none : truthy(v) ? yes : no,
    // Jinja2's default: only an undefined value, unless the second argument asks for falsy ones too.
    default: (v: unknown, fallback: unknown = '', boolean = false) =>
      v === undefined || (boolean && !truthy(v)) ? fallback : v,
    d: (v: unknown, fallback: unknown = '', boolean = false) =>
      v === undefined || (boolean && !truthy(v)) ? fallback : v,
    mandatory: (v: unknown, msg?: string) => {
      if (v === undefined) throw new Error(msg ?? 'Mandatory variable not defined.');
      return v;
    },
    string: (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')),
    to_json: (v: unknown) => JSON.stringify(v),
    to_nice_json: (v: unknown, indent = 4) => JSON.stringify(v, null, indent),
    from_json: (v: string) => JSON.parse(v),
    dict2items: (v: Dict, key_name = 'key', value_name = 'value') =>
      Object.entries(result(v)).map(([k, x]) => ({ [key_name]: k, [value_name]: x })),
    items2dict: (v: Dict[], key_name = 'key', value_name = 'value') =>
      Object.fromEntries((v ?? []).map((i) => [String(i[key_name]), i[value_name]])),
    combine,
    unique: (v: unknown[]) => [...new Set(v ?? [])],
    union: (a: unknown[], b: unknown[]) => [...new Set([...(a ?? []), ...(b ?? [])])],
    intersect: (a: unknown[], b: unknown[]) => [...new Set(a ?? [])].filter((x) => (b ?? []).includes(x)),
    difference: (a: unknown[], b: unknown[]) => [...new Set(a ?? [])].filter((x) => !(b ?? []).includes(x)),
    flatten: (v: unknown[], levels = Infinity) => (v ?? []).flat(levels as number),
    split: (v: string, sep?: string) =>
      sep === undefined ? String(v).trim().split(/\s+/) : String(v).split(sep),
    regex_search: (v: string, pattern: string) => regex(pattern).exec(String(v))?.[0] ?? null,
    regex_findall: (v: string, pattern: string) => String(v).match(regex(pattern, 'g')) ?? [],
    regex_replace: (v: string, pattern: string, replacement = '') =>
      String(v).replace(regex(pattern, 'g'), String(replacement).replace(/\\(\d)/g, '$$$1')),
    basename: (v: string) => String(v).replace(/\/+$/, '').split('/').pop() ?? '',
    dirname: (v: string) => {
      const s = String(v);
      const i = s.lastIndexOf('/');
      return i < 0 ? '' : i === 0 ? '/' : s.slice(0, i);
    },
    b64encode: (v: string) => Buffer.from(String(v), 'utf8').toString('base64'),
    b64decode: (v: string) => Buffer.from(String(v), 'base64').toString('utf8'),
    quote: shellQuote,
    map: (v: unknown[], name?: string | Dict, ...args: unknown[]) => {
      if (name && typeof name === 'object' && 'attribute' in name)
        return (v ?? []).map((i) => attr(i, String(name.attribute)));
      const f = (env as unknown as { getFilter(n: string): (...a: unknown[]) => unknown }).getFilter(
        String(name),
      );
      return (v ?? []).map((i) => f(i, ...args));
    },
    selectattr: (v: unknown[], path: string, test?: string, ...args: unknown[]) =>
      (v ?? []).filter((i) => runTest(env, test, attr(i, path), args)),
    rejectattr: (v: unknown[], path: string, test?: string, ...args: unknown[]) =>
      (v ?? []).filter((i) => !runTest(env, test, attr(i, path), args)),
    select: (v: unknown[], test?: string, ...args: unknown[]) =>
      (v ?? []).filter((i) => runTest(env, test, i, args)),
    reject: (v: unknown[], test?: string, ...args: unknown[]) =>
      (v ?? []).filter((i) => !runTest(env, test, i, args)),
    min: (v: number[]) => (v?.length ? v.reduce((a, b) => (b < a ? b : a)) : undefined),
    max: (v: number[]) => (v?.length ? v.reduce((a, b) => (b > a ? b : a)) : undefined),
    ...TEXT_FILTERS,
  };
  for (const [name, f] of Object.entries(filters)) env.addFilter(name, f as (...args: unknown[]) => unknown);

  const tests: Record<string, (...args: never[]) => boolean> = {
    none: (v: unknown) => v === null,
    succeeded: (v: unknown) => !failedResult(v),
    success: (v: unknown) => !failedResult(v),
    successful: (v: unknown) => !failedResult(v),
    failed: (v: unknown) => failedResult(v),
    failure: (v: unknown) => failedResult(v),
    changed: (v: unknown) => toBool(result(v).changed),
    change: (v: unknown) => toBool(result(v).changed),
    skipped: (v: unknown) => toBool(result(v).skipped),
    skip: (v: unknown) => toBool(result(v).skipped),
    match: (v: unknown, pattern: string) => regex(`^(?:${pattern})`).test(String(v)),
    search: (v: unknown, pattern: string) => regex(pattern).test(String(v)),
    regex: (v: unknown, pattern: string) => regex(pattern).test(String(v)),
    contains: (v: unknown[], x: unknown) => Array.isArray(v) && v.includes(x),
    in: (v: unknown, seq: unknown) =>
      Array.isArray(seq)
        ? seq.includes(v)
        : typeof seq === 'string'
          ? seq.includes(String(v))
          : String(v) in result(seq),
    version: (v: unknown, other: unknown, op?: string) => versionTest(v, other, op),
    version_compare: (v: unknown, other: unknown, op?: string) => versionTest(v, other, op),
    boolean: (v: unknown) => typeof v === 'boolean',
    integer: (v: unknown) => Number.isInteger(v),
    float: (v: unknown) => typeof v === 'number' && !Number.isInteger(v),
    sequence: (v: unknown) => Array.isArray(v) || typeof v === 'string',
    abs: (v: unknown) => String(v).startsWith('/'),
  };
  // addTest is nunjucks' API (3.x) though its type declarations omit it.
  const withTests = env as unknown as { addTest(name: string, t: (...args: unknown[]) => boolean): void };
  for (const [name, t] of Object.entries(tests))
    withTests.addTest(name, t as (...args: unknown[]) => boolean);
}

function runTest(env: Environment, name: string | undefined, value: unknown, args: unknown[]): boolean {
  if (!name) return truthy(value);
  const test = (env as unknown as { getTest(n: string): (...a: unknown[]) => boolean }).getTest(name);
  if (!test) throw new Error(`no test named ${name}`);
  return test(value, ...args);
}
