import { toBool } from './jinja-ansible';
import type { Vars } from './templates';

// Ansible's lookups — `lookup('file', 'motd')`, `query('first_found', [...])`, and the `with_<name>`
// loops built on them — as functions of their terms. In Ansible they run on the controller; here
// on the worker, as it renders the task. Pure: what they read (environment, files) comes through
// a LookupIO the activity attaches to the task's variables, so this file stays workflow-safe and
// a test can pass a fake. Without one (the client's pre-flight) a lookup that reads is deferred,
// never answered from the client's own environment.

/** What lookups read on the worker. */
export interface LookupIO {
  env(name: string): string | undefined;
  /** A file's text; undefined when there is no such file (or it is a directory). */
  readFile(path: string): string | undefined;
  /** A file or a directory. */
  exists(path: string): boolean;
  /** The files (not directories) in `dir` whose names match the shell glob `pattern`, as paths. */
  glob(dir: string, pattern: string): string[];
}

/** Where a task's lookups read, and where a relative name is looked for. */
export interface LookupScope {
  io: LookupIO;
  /** Ansible's search path: the role's directory when the task is a role's, then the playbook's. */
  searchPath: string[];
  /** The folder first_found looks in: `templates` for a template task, `files` otherwise, as Ansible picks it. */
  subdir: string;
}

// Carried on the variables object itself, so every render of the task (arguments, conditions,
// lazily rendered variables, the template module's file) sees it, through spreads and the
// templates' proxies alike; a symbol, so no variable listing, JSON or template ever shows it.
const SCOPE = Symbol('lookup scope');

export function withLookups(vars: Vars, scope: LookupScope): Vars {
  return { ...vars, [SCOPE]: scope };
}

const scopeOf = (vars: Vars): LookupScope | undefined => (vars as { [SCOPE]?: LookupScope })[SCOPE];

/** first_found's folder for a module, as Ansible picks it from the action's name. */
export function lookupSubdir(module: string): string {
  return `${['template', 'var', 'file'].find((s) => module.includes(s)) ?? 'file'}s`;
}

/** A lookup that failed: its name leads the message (`lookup('file'): motd not found in …`). */
export class LookupFailure extends Error {
  constructor(lookup: string, reason: string) {
    super(reason);
    this.name = `lookup('${lookup}')`;
  }
}

/** A lookup that reads the worker's files or environment, asked where there is no worker (pre-flight). */
export const DEFERRED = 'LookupDeferred';
class LookupDeferred extends Error {
  constructor(lookup: string) {
    super(`lookup('${lookup}') runs on the worker`);
    this.name = DEFERRED;
  }
}

export type Render = (text: string, vars: Vars) => string;

interface Call {
  name: string;
  scope: LookupScope;
  vars: Vars;
  render: Render;
}
type Options = Record<string, unknown>;

interface Lookup {
  /** Its options and their defaults; any other is refused. */
  options: Options;
  /** Reads through the worker's LookupIO: deferred without one. */
  io?: boolean;
  run(terms: unknown[], options: Options, call: Call): unknown[];
}

// ---- paths, as POSIX spells them (no node:path here: this file runs in the workflow sandbox too)

export function joinPath(...parts: string[]): string {
  const joined = parts.reduce((a, p) => (p.startsWith('/') || !a ? p : `${a}/${p}`), '');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `${joined.startsWith('/') ? '/' : ''}${out.join('/')}`;
}

const dirname = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) || '/' : '');
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * Where a relative name is looked for, in Ansible's order: each search-path entry's `subdir`
 * (files/, templates/…) then the entry itself. An absolute (or `~`) name is only itself.
 */
export function searchCandidates(scope: LookupScope, subdir: string | undefined, name: string): string[] {
  if (name.startsWith('/')) return [joinPath(name)];
  if (name === '~' || name.startsWith('~/')) return [joinPath(scope.io.env('HOME') ?? '/', name.slice(1))];
  const out: string[] = [];
  for (const base of scope.searchPath) {
    // Ansible does not add the folder when the name already starts with it (`files/motd`).
    if (subdir && name.split('/')[0] !== subdir) out.push(joinPath(base, subdir, name));
    out.push(joinPath(base, name));
  }
  return [...new Set(out)];
}

function findFile(call: Call, subdir: string | undefined, name: string): string | undefined {
  return searchCandidates(call.scope, subdir, name).find((p) => call.scope.io.exists(p));
}

function notFound(call: Call, subdir: string | undefined, name: string, what = 'file'): LookupFailure {
  const tried = searchCandidates(call.scope, subdir, name);
  return new LookupFailure(
    call.name,
    `${what} '${name}' not found${tried.length > 1 || !name.startsWith('/') ? ` (looked in ${tried.join(', ') || 'no search path'})` : ''}`,
  );
}

// ---- Ansible's LookupBase helpers

/** One level of lists taken apart, as Ansible's `_flatten`. */
const flattenOnce = (terms: unknown[]): unknown[] => terms.flatMap((t) => (Array.isArray(t) ? t : [t]));

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

const isMapping = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** first_found's historical splitting of `"a.yml,b.yml"` (files at , and ;, paths also at :). */
const splitOn = (v: unknown, separators: RegExp): string[] =>
  listOf(v).flatMap((t) => String(t).split(separators));

// ---- sequence: [start-]end[/stride][:format], or start= end= count= stride= format=

// A sequence is bounded as templates' range() is: a typo (`end=1e9`) must not hang the worker.
const MAX_SEQUENCE = 100_000;
const NUMBER = '(0x[0-9a-f]+|0[0-7]+|\\d+)';
const SHORTCUT = new RegExp(`^(?:${NUMBER}-)?${NUMBER}(?:/${NUMBER})?(?::(.+))?$`, 'i');

function integer(v: unknown, field: string): number {
  const s = String(v).trim();
  const n = /^-?0x[0-9a-f]+$/i.test(s)
    ? parseInt(s, 16)
    : /^-?0[0-7]+$/.test(s)
      ? parseInt(s, 8)
      : /^-?\d+$/.test(s)
        ? Number(s)
        : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`can't parse ${field}=${s} as integer`);
  return n;
}

/** printf with one conversion, as Python's `%` operator formats each number of a sequence. */
export function printfOne(format: string, n: number): string {
  const m = /%([-+ 0#]*)(\d*)(?:\.(\d+))?([diouxXs])/.exec(format);
  if (!m || (format.match(/%/g) ?? []).length !== 1) throw new Error(`bad formatting string: ${format}`);
  const [all, flags, width, precision, conv] = m;
  const neg = n < 0;
  let digits =
    conv === 'x'
      ? Math.abs(n).toString(16)
      : conv === 'X'
        ? Math.abs(n).toString(16).toUpperCase()
        : conv === 'o'
          ? Math.abs(n).toString(8)
          : String(Math.abs(n));
  if (precision) digits = digits.padStart(Number(precision), '0');
  if (flags.includes('#') && (conv === 'x' || conv === 'X')) digits = `0${conv}${digits}`;
  if (flags.includes('#') && conv === 'o') digits = `0o${digits}`;
  const sign = neg ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const w = Number(width || 0);
  let text = sign + digits;
  if (text.length < w) {
    if (flags.includes('-')) text = text.padEnd(w);
    else if (flags.includes('0') && conv !== 's') text = sign + digits.padStart(w - sign.length, '0');
    else text = text.padStart(w);
  }
  return format.replace(all, text);
}

const SEQUENCE_FIELDS = ['start', 'end', 'count', 'stride', 'format'];

function sequence(term: unknown, defaults: Options): string[] {
  const text = String(term).trim();
  const f: Options = { ...defaults };
  const short = SHORTCUT.exec(text);
  if (short) {
    const [, start, end, stride, format] = short;
    Object.assign(f, { end }, start !== undefined && { start }, stride !== undefined && { stride });
    if (format !== undefined) f.format = format;
  } else {
    const unknown: string[] = [];
    for (const word of text.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      if (eq <= 0) throw new Error(`can't parse arg ${word} in with_sequence: use key=value`);
      const key = word.slice(0, eq);
      if (SEQUENCE_FIELDS.includes(key)) f[key] = word.slice(eq + 1);
      else unknown.push(key);
    }
    if (unknown.length)
      throw new Error(`unrecognized arguments to with_sequence: ${JSON.stringify(unknown)}`);
  }
  let start = integer(f.start ?? 1, 'start');
  let stride = integer(f.stride ?? 1, 'stride');
  const format = String(f.format ?? '%d');
  let end: number;
  if (f.count === undefined && f.end === undefined)
    throw new Error('must specify count or end in with_sequence');
  if (f.count !== undefined && f.end !== undefined)
    throw new Error("can't specify both count and end in with_sequence");
  if (f.count !== undefined) {
    const count = integer(f.count, 'count');
    if (count !== 0) end = start + count * stride - 1;
    else [start, end, stride] = [0, 0, 0];
  } else end = integer(f.end, 'end');
  if (stride > 0 && end < start) throw new Error('to count backwards make stride negative');
  if (stride < 0 && end > start) throw new Error("to count forward don't make stride negative");
  printfOne(format, 0);
  if (stride === 0) return [];
  const items = Math.floor((end - start) / stride) + 1;
  if (items > MAX_SEQUENCE)
    throw new Error(`the sequence would make ${items} items; at most ${MAX_SEQUENCE}`);
  return Array.from({ length: items }, (_, i) => printfOne(format, start + i * stride));
}

// ---- subelements

function subelements(terms: unknown[]): unknown[] {
  const usage = 'subelements lookup expects a list of two or three items';
  if (terms.length < 2 || terms.length > 3) throw new Error(usage);
  const [list, path, flags = {}] = terms;
  if (!(Array.isArray(list) || isMapping(list)) || typeof path !== 'string')
    throw new Error(`${usage}, first a dict or a list, second a string pointing to the subkey`);
  if (!isMapping(flags) || Object.keys(flags).some((k) => k !== 'skip_missing'))
    throw new Error(`${usage}, the optional third item must be a dict with flags skip_missing`);
  if (isMapping(list) && list.skipped !== undefined && list.skipped !== false) return [];
  const skipMissing = toBool(flags.skip_missing ?? false);
  const keys = path.split('.');
  const out: unknown[] = [];
  for (const original of Array.isArray(list) ? list : Object.values(list)) {
    if (!isMapping(original))
      throw new Error(`subelements lookup expects a dictionary, got '${JSON.stringify(original)}'`);
    if (original.skipped !== undefined && original.skipped !== false) continue;
    // Ansible hands out the item without its sublist: the sublist is taken out of a copy.
    const item = structuredClone(original);
    let parent: Record<string, unknown> = item;
    let sublist: unknown[] | undefined;
    for (const [i, key] of keys.entries()) {
      if (!Object.hasOwn(parent, key)) {
        if (skipMissing) break;
        throw new Error(`could not find '${key}' key in iterated item '${JSON.stringify(parent)}'`);
      }
      const value = parent[key];
      if (i < keys.length - 1) {
        if (!isMapping(value)) {
          if (skipMissing) break;
          throw new Error(`the key ${key} should point to a dictionary, got '${JSON.stringify(value)}'`);
        }
        parent = value;
      } else {
        if (!Array.isArray(value))
          throw new Error(`the key ${key} should point to a list, got '${JSON.stringify(value)}'`);
        sublist = value;
        delete parent[key];
      }
    }
    for (const sub of sublist ?? []) out.push([item, sub]);
  }
  return out;
}

// ---- the lookups

const LOOKUPS = {
  env: {
    options: { default: '' },
    io: true,
    run: (terms, o, c) => terms.map((t) => c.scope.io.env(String(t).trim().split(/\s+/)[0]) ?? o.default),
  },
  file: {
    options: { lstrip: false, rstrip: true },
    io: true,
    run: (terms, o, c) =>
      terms.map((t) => {
        const name = String(t);
        const found = findFile(c, 'files', name);
        const text = found === undefined ? undefined : c.scope.io.readFile(found);
        if (text === undefined) throw notFound(c, 'files', name);
        let out = text;
        if (toBool(o.lstrip)) out = out.trimStart();
        if (toBool(o.rstrip)) out = out.trimEnd();
        return out;
      }),
  },
  template: {
    options: { template_vars: {}, convert_data: true },
    io: true,
    run: (terms, o, c) =>
      terms.map((t) => {
        const name = String(t);
        const found = findFile(c, 'templates', name);
        const text = found === undefined ? undefined : c.scope.io.readFile(found);
        if (found === undefined || text === undefined) throw notFound(c, 'templates', name, 'template');
        if (!isMapping(o.template_vars)) throw new Error('template_vars: a mapping of variables');
        // The task's variables, what Ansible adds about the template, then template_vars.
        const vars = Object.assign(Object.create(c.vars) as Vars, {
          template_path: name,
          template_fullpath: found,
          template_basename: basename(found),
          ...o.template_vars,
        });
        return c.render(text, vars);
      }),
  },
  first_found: {
    options: { files: [], paths: [], skip: false },
    io: true,
    run: (terms, o, c) => {
      const search: string[] = [];
      let skip = toBool(o.skip);
      const collect = (list: unknown[], options: Options) => {
        for (const term of list) {
          if (Array.isArray(term)) {
            collect(term, options);
            continue;
          }
          let own = options;
          let files: unknown = [term];
          if (isMapping(term)) {
            const extra = Object.keys(term).filter((k) => !['files', 'paths', 'skip'].includes(k));
            if (extra.length) throw new Error(`unknown option ${extra.join(', ')} (files, paths, skip)`);
            own = { files: [], paths: [], skip: false, ...term };
            files = own.files;
            skip = toBool(own.skip);
          } else if (typeof term !== 'string') {
            throw new Error(
              `Invalid term supplied, a string, dict or list is required, not ${JSON.stringify(term)}`,
            );
          }
          const names = splitOn(files, /[,;]/);
          const paths = splitOn(own.paths, /[,:;]/).filter(Boolean);
          if (paths.length) for (const p of paths) for (const n of names) search.push(joinPath(p, n));
          else search.push(...names);
        }
      };
      collect(terms.length ? terms : listOf(o.files), o);
      for (const name of search.filter(Boolean)) {
        const found = findFile(c, c.scope.subdir, name);
        if (found) return [found];
      }
      if (skip) return [];
      throw new LookupFailure(
        c.name,
        `No file was found when using first_found (looked for ${search.join(', ') || 'nothing'})`,
      );
    },
  },
  fileglob: {
    options: {},
    io: true,
    run: (terms, _o, c) =>
      terms.flatMap((t) => {
        const term = String(t);
        const pattern = basename(term);
        const dirs =
          pattern !== term
            ? [findFile(c, 'files', dirname(term))]
            : c.scope.searchPath.flatMap((p) => [joinPath(p, 'files'), p]);
        for (const d of dirs) {
          const found = d && c.scope.io.exists(d) ? c.scope.io.glob(d, pattern) : [];
          if (found.length) return [...found].sort();
        }
        return [];
      }),
  },
  vars: {
    options: { default: undefined },
    run: (terms, o, c) =>
      terms.map((t) => {
        const value = (c.vars as Record<string, unknown>)[String(t)];
        if (value !== undefined) return value;
        if (o.default !== undefined) return o.default;
        throw new Error(`No variable found with this name: ${String(t)}`);
      }),
  },
  sequence: {
    options: { start: undefined, end: undefined, count: undefined, stride: undefined, format: undefined },
    run: (terms, o) => terms.flatMap((t) => sequence(t, o)),
  },
  together: {
    options: {},
    run: (terms) => {
      const lists = terms.map(listOf);
      if (!lists.length) throw new Error('with_together requires at least one element in each list');
      const longest = Math.max(...lists.map((l) => l.length));
      return Array.from({ length: longest }, (_, i) =>
        flattenOnce(lists.map((l) => (i < l.length ? l[i] : null))),
      );
    },
  },
  nested: {
    options: {},
    run: (terms) => {
      if (!terms.length) throw new Error('with_nested requires at least one element in the nested list');
      const [first, ...rest] = terms.map(listOf);
      return rest
        .reduce<unknown[]>((acc, list) => acc.flatMap((x) => list.map((y) => flattenOnce([x, y]))), first)
        .map((x) => flattenOnce(listOf(x)));
    },
  },
  subelements: { options: {}, run: (terms) => subelements(terms) },
  items: { options: {}, run: (terms) => flattenOnce(terms) },
  list: { options: {}, run: (terms) => terms },
  indexed_items: { options: {}, run: (terms) => flattenOnce(terms).map((x, i) => [i, x]) },
  dict: {
    options: {},
    run: (terms) =>
      terms.flatMap((t) => {
        if (!isMapping(t)) throw new Error(`with_dict expects a dict, got ${JSON.stringify(t)}`);
        return Object.entries(t).map(([key, value]) => ({ key, value }));
      }),
  },
} satisfies Record<string, Lookup>;

export type LookupName = keyof typeof LOOKUPS;

/** The lookups we run, by name. */
export const LOOKUP_NAMES = Object.keys(LOOKUPS) as LookupName[];

const ON_THE_WORKER =
  'would run a command on the worker, which holds every host’s SSH credentials and would stall while it runs: not supported; run the command on a host (command/shell with register)';

/** Why a lookup we do not run is refused. */
export function lookupRefusal(name: string): string {
  if (name === 'lines' || name === 'pipe') return ON_THE_WORKER;
  return `not supported yet (lookups: ${LOOKUP_NAMES.join(', ')})`;
}

function keywordsOf(args: unknown[]): { terms: unknown[]; keywords: Options } {
  const last = args.at(-1);
  if (isMapping(last) && last.__keywords === true) {
    const keywords = { ...last };
    delete keywords.__keywords;
    return { terms: args.slice(0, -1), keywords };
  }
  return { terms: args, keywords: {} };
}

/**
 * `lookup(name, *terms, **options)` and `query(...)` as ansible-core 2.19 answers them: query (or
 * `wantlist=True`) the list; lookup a single value as itself, several strings joined with commas,
 * other lists as they are. `errors='ignore'` (or `'warn'`) turns a failure into '' (`[]` for a list).
 */
export function invokeLookup(
  plugin: unknown,
  args: unknown[],
  vars: Vars,
  query: boolean,
  render: Render,
): unknown {
  const name = String(plugin).replace(/^ansible\.builtin\./, '');
  const lookup = Object.hasOwn(LOOKUPS, name) ? (LOOKUPS as Record<string, Lookup>)[name] : undefined;
  if (!lookup) throw new LookupFailure(name, lookupRefusal(name));
  const { terms, keywords } = keywordsOf(args);
  const { wantlist = query, errors = 'strict', ...given } = keywords;
  if (!['strict', 'warn', 'ignore'].includes(String(errors)))
    throw new LookupFailure(name, `errors: strict, warn or ignore, not ${String(errors)}`);
  const unknown = Object.keys(given).filter((k) => !Object.hasOwn(lookup.options, k));
  if (unknown.length)
    throw new LookupFailure(
      name,
      `unknown option ${unknown.join(', ')}${Object.keys(lookup.options).length ? ` (options: ${Object.keys(lookup.options).join(', ')})` : ''}`,
    );
  const scope = scopeOf(vars);
  if (lookup.io && !scope) throw new LookupDeferred(name);
  const call: Call = { name, scope: scope ?? { io: NO_IO, searchPath: [], subdir: 'files' }, vars, render };
  let result: unknown[];
  try {
    result = lookup.run(terms, { ...lookup.options, ...given }, call);
  } catch (err) {
    // Ansible's None, as its templates render it: the empty text.
    if (errors !== 'strict') return toBool(wantlist) ? [] : '';
    if (err instanceof LookupFailure) throw err;
    throw new LookupFailure(
      name,
      String((err as Error).message)
        .split('\n')
        .pop()
        ?.trim() ?? String(err),
    );
  }
  if (toBool(wantlist)) return result;
  if (result.length === 1) return result[0];
  return result.length > 1 && result.every((r) => typeof r === 'string') ? result.join(',') : result;
}

const NO_IO: LookupIO = {
  env: () => undefined,
  readFile: () => undefined,
  exists: () => false,
  glob: () => [],
};
