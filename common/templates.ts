import nunjucks from 'nunjucks';
import { addAnsibleFilters } from './jinja-ansible';
import { pythonStr, pythonType } from './python-repr';
import { pythonMethod } from './python-methods';
import './jinja-item-index';
import { negativeIndex } from './jinja-slices';
import { DEFERRED, invokeLookup } from './lookups';

// Jinja2 templates as ansible-core renders them, in nunjucks: rendering is computation only, with no
// loader, so the client (before a play starts) and the worker (as it runs) render alike. A bundle
// for the workflow sandbox would take nunjucks' browser build, which has no file loaders.

// nunjucks 3.2 compiles a test's arguments without commas between them, so Ansible's
// `x is version('10.5', '>=')` would not compile: its compiler emits them as a list, as for filters.
interface TestCompiler {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
  _compileAggregate(node: unknown, frame: unknown, start?: string, end?: string): void;
}
type IsNode = { left: unknown; right: { name?: { value: string }; value?: string; args?: unknown } };
const compilerProto = (
  nunjucks as unknown as { compiler: { Compiler: { prototype: TestCompiler & Record<string, unknown> } } }
).compiler.Compiler.prototype;
compilerProto.compileIs = function (this: TestCompiler, node: IsNode, frame: unknown) {
  const test = node.right.name ? node.right.name.value : node.right.value;
  this._emit(`env.getTest(${JSON.stringify(test)}).call(context, `);
  this.compile(node.left, frame);
  if (node.right.args) this._compileAggregate(node.right.args, frame, ',');
  this._emit(') === true');
};

// nunjucks compares with JavaScript's `==`: lists by identity and "1" equal to 1. Jinja compares
// values, as Python does: `out.stdout_lines == ['a', 'b']` holds when the lines are those.
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && valuesEqual((a as Vars)[k], (b as Vars)[k]))
    );
  }
  if (a instanceof nunjucks.runtime.SafeString || b instanceof nunjucks.runtime.SafeString)
    return String(a) === String(b);
  return a === b;
}
(nunjucks.runtime as unknown as Record<string, unknown>).__cfEqual = valuesEqual;
type CompareNode = { expr: unknown; ops: { type: string; expr: unknown }[] };
compilerProto.compileCompare = function (this: TestCompiler, node: CompareNode, frame: unknown) {
  const [op] = node.ops;
  if (node.ops.length === 1 && (op.type === '==' || op.type === '!=')) {
    this._emit(op.type === '==' ? 'runtime.__cfEqual(' : '!runtime.__cfEqual(');
    this.compile(node.expr, frame);
    this._emit(', ');
    this.compile(op.expr, frame);
    this._emit(')');
    return;
  }
  const ops: Record<string, string> = {
    '===': '===',
    '!==': '!==',
    '<': '<',
    '>': '>',
    '<=': '<=',
    '>=': '>=',
    '==': '==',
    '!=': '!=',
  };
  this.compile(node.expr, frame);
  for (const o of node.ops) {
    this._emit(` ${ops[o.type]} `);
    this.compile(o.expr, frame);
  }
};

// `+` as Python adds: lists concatenate (`groups['web'] + groups['db']`), as do strings; numbers
// add. JavaScript's `+` would turn two lists into one string ("ab") and go on silently; mixed
// types are Python's TypeError instead.
function jinjaAdd(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  const str = (v: unknown) => pythonType(v) === 'str';
  if (str(a) && str(b)) return String(a) + String(b);
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  throw new Error(`unsupported operand type(s) for +: ${pythonType(a)} and ${pythonType(b)}`);
}
(nunjucks.runtime as unknown as Record<string, unknown>).__cfAdd = jinjaAdd;
compilerProto.compileAdd = function (
  this: TestCompiler,
  node: { left: unknown; right: unknown },
  frame: unknown,
) {
  this._emit('runtime.__cfAdd(');
  this.compile(node.left, frame);
  this._emit(', ');
  this.compile(node.right, frame);
  this._emit(')');
};

// Output and `~` as Jinja2 prints values: Python's str() (True, None, ['a', 'b']), not JavaScript's.
// Undefined still fails the render (ansible-core's default); null prints as None.
const runtime = nunjucks.runtime as unknown as Record<string, unknown>;
const SafeString = nunjucks.runtime.SafeString;
const ensureDefined = runtime.ensureDefined as (v: unknown, l: number, c: number) => unknown;
runtime.ensureDefined = (v: unknown, lineno: number, colno: number) =>
  v === null ? null : ensureDefined(v, lineno, colno);
runtime.suppressValue = (v: unknown) => (v === undefined ? '' : v instanceof SafeString ? v : pythonStr(v));
runtime.__cfStr = (v: unknown) => (v instanceof SafeString ? String(v) : v === undefined ? '' : pythonStr(v));
const memberLookup = runtime.memberLookup as (o: unknown, k: unknown) => unknown;
runtime.memberLookup = (obj: unknown, key: unknown) =>
  pythonMethod(obj, key) ?? (negativeIndex(obj, key) ?? { value: memberLookup(obj, key) }).value;
compilerProto.compileConcat = function (
  this: TestCompiler,
  node: { left: unknown; right: unknown },
  frame: unknown,
) {
  this._emit('(runtime.__cfStr(');
  this.compile(node.left, frame);
  this._emit(') + runtime.__cfStr(');
  this.compile(node.right, frame);
  this._emit('))');
};

// trimBlocks: ansible-core's templates drop the line break after a block tag (its trim_blocks default).
const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: true });
addAnsibleFilters(env);
// Roles name filters and tests by collection too (`| ansible.builtin.to_json`, `is
// ansible.builtin.version`): the builtin ones and community.general's are the same ones here.
{
  const FQCN = /^(ansible\.builtin|community\.general)\./;
  const named = env as unknown as Record<'getFilter' | 'getTest', (name: string) => unknown>;
  for (const get of ['getFilter', 'getTest'] as const) {
    const plain = named[get].bind(env);
    named[get] = (name: string) => {
      if (!FQCN.test(name)) return plain(name);
      try {
        return plain(name.replace(FQCN, ''));
      } catch {
        return plain(name); // "filter not found" under the name the role wrote
      }
    };
  }
  // nunjucks reads a test name as one word: `is ansible.builtin.version(…)` would be the test
  // `ansible` and a lookup; the name is shortened in the source before it compiles.
  const render = env.renderString.bind(env);
  env.renderString = ((src: string, ctx: object) =>
    render(shortTestNames(src), ctx)) as typeof env.renderString;
}

/** `is ansible.builtin.x` / `is not community.general.x` as `is x`. */
function shortTestNames(src: string): string {
  return src.replace(/\bis(\s+not)?\s+(?:ansible\.builtin|community\.general)\.(?=[A-Za-z_])/g, 'is$1 ');
}

/** Filters that need the machine (digests, paths), added by the worker and the client. */
export function addFilters(filters: Record<string, (...args: never[]) => unknown>): void {
  for (const [name, f] of Object.entries(filters)) env.addFilter(name, f as (...args: unknown[]) => unknown);
}

/** Jinja2's sandbox bound: a longer range is a typo (`range(1e9)`) that would hang the worker. */
export const MAX_RANGE = 100_000;

// nunjucks' range builds the whole array first; this one refuses a huge one with a message.
env.addGlobal('range', (start: number, stop?: number, step = 1): number[] => {
  if (stop === undefined) [start, stop] = [0, start];
  if (![start, stop, step].every(Number.isFinite)) throw new Error('range() takes finite numbers');
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) {
    throw new Error(`range() would make ${count} items; templates may make at most ${MAX_RANGE}`);
  }
  return Array.from({ length: count }, (_, i) => start + i * step);
});

export type Vars = Record<string, unknown>;

// Jinja's capitalised constants, as Ansible's templates write them (`wantlist=True`, `default(x, True)`).
env.addGlobal('True', true);
env.addGlobal('False', false);
env.addGlobal('None', null);

// lookup() and query()/q(): the task's variables are the render's context (`this.ctx`), and carry
// what the lookups read (common/lookups.ts). A template lookup renders its file here too.
for (const [name, query] of [
  ['lookup', false],
  ['query', true],
  ['q', true],
] as const)
  env.addGlobal(name, function (this: { ctx: Vars }, plugin: unknown, ...args: unknown[]) {
    return invokeLookup(plugin, args, this.ctx, query, (text, vars) => env.renderString(text, vars));
  });

// Variables are templates too, evaluated when read, as in Ansible: a role's `motd_file: "{{ root
// }}/motd"` is rendered where a task uses it, with the variables of that task, and a variable
// nobody reads is never rendered (so never fails). Each read is rendered once per task.
const LAZY = Symbol('lazy variables');

const hasTemplate = (v: unknown, depth = 0): boolean =>
  typeof v === 'string'
    ? v.includes('{{') || v.includes('{%')
    : depth < 20 && !!v && typeof v === 'object' && Object.values(v).some((x) => hasTemplate(x, depth + 1));

/** hostvars maps already made lazy (each host's variables inside refer back to them). */
const LAZY_HOSTVARS = new WeakSet<object>();

export function lazyVars(vars: Vars): Vars {
  if ((vars as { [LAZY]?: boolean })[LAZY]) return vars;
  const rendered = new Map<string, unknown>();
  const reading = new Set<string>();
  const proxy: Vars = new Proxy(vars, {
    get(target, key, receiver) {
      if (key === LAZY) return true;
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return Reflect.get(target, key, receiver);
      if (rendered.has(key)) return rendered.get(key);
      const raw = target[key];
      if (raw && typeof raw === 'object' && LAZY_HOSTVARS.has(raw)) return raw;
      if (key === 'hostvars' && raw && typeof raw === 'object' && !Array.isArray(raw)) {
        // Each host's variables render in that host's own context, on use, as ansible-core's
        // hostvars do: a play var reading hostvars is no loop, and the other hosts' unused
        // templates are never rendered.
        const hosts: Vars = {};
        for (const [name, v] of Object.entries(raw as Vars)) {
          if (!v || typeof v !== 'object') {
            hosts[name] = v;
            continue;
          }
          // hostvars inside reads back to this map, unlisted so that printing a host's vars ends.
          const own = { ...(v as Vars) };
          Object.defineProperty(own, 'hostvars', { value: hosts, enumerable: false });
          hosts[name] = lazyVars(own);
        }
        LAZY_HOSTVARS.add(hosts);
        rendered.set(key, hosts);
        return hosts;
      }
      if (!hasTemplate(raw)) return raw;
      if (reading.has(key)) throw new Error(`recursive loop detected in template: ${key} uses itself`);
      reading.add(key);
      try {
        const value = renderValue(raw, proxy, []);
        rendered.set(key, value);
        return value;
      } finally {
        reading.delete(key);
      }
    },
  });
  return proxy;
}

// nunjucks copies the variables into each render's context, which would read (so render) every
// one of them; lazy ones are kept behind the copy instead, looked up on use.
const lib = (nunjucks as unknown as { lib: { extend(a: object, b: object): object } }).lib;
const extend = lib.extend;
lib.extend = (a: object, b: object) =>
  b && (b as { [LAZY]?: boolean })[LAZY] && a && Object.keys(a).length === 0
    ? Object.create(b)
    : extend(a, b);

/** Renders Jinja-like template text with host vars (nunjucks: Jinja2's syntax in JavaScript). */
export function renderTemplate(text: string, vars: Vars): string {
  return env.renderString(text, lazyVars(vars));
}

/** A template in a task's arguments that did not render: where it sits (`['argv', 2]`) and why. */
export class TemplateError extends Error {
  /** It needs a lookup that only the worker answers (the client's pre-flight has none). */
  readonly deferred: boolean;
  constructor(
    readonly path: PropertyKey[],
    reason: string,
  ) {
    super(reason);
    this.deferred = reason.includes(`${DEFERRED}: `);
  }
}

// Exactly one expression, nothing around it: `"{{ x }}\n"` is text, as in ansible-core. A mapping
// inside is part of it: `{{ lookup('first_found', {'files': fs}) }}`.
const WHOLE_EXPRESSION = /^\{\{((?:(?!\}\}|\{\{)[^])*)\}\}$/;

// A filter that hands back the expression's value itself: nunjucks only ever returns text.
// Rendering is synchronous, so one slot is enough.
let evaluated: unknown;
env.addFilter('__clusterflow_value', (v: unknown) => {
  evaluated = v;
  return '';
});

/** The value of one Jinja expression (`{{ expr }}` without the braces), with its type. */
export function expressionValue(expression: string, vars: Vars): unknown {
  evaluated = undefined;
  env.renderString(`{{ (${expression}) | __clusterflow_value }}`, lazyVars(vars));
  return evaluated instanceof nunjucks.runtime.SafeString ? evaluated.toString() : evaluated;
}

/** An expression's syntax error, or undefined when it parses: checked before a play starts. */
export function expressionSyntaxError(expression: string): string | undefined {
  try {
    new nunjucks.Template(shortTestNames(`{{ (${expression}) }}`), env, undefined, true);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n').pop()?.trim();
  }
}

function renderString(value: string, vars: Vars): unknown {
  const whole = WHOLE_EXPRESSION.exec(value);
  if (whole) {
    const v = expressionValue(whole[1], vars);
    // null stays null (Python's None), as in ansible-core; undefined raises nunjucks' own error.
    if (v !== undefined) return v;
  }
  return renderTemplate(value, vars);
}

/**
 * Renders every string in task arguments. A value that is one whole `{{ expr }}` keeps the type of
 * what it evaluates to, as ansible-core 2.19 does: `port: "{{ http_port }}"` stays a number, and
 * `mode: "{{ m }}"` with `m: "644"` stays the string "644", octal (re-read from the rendered text it
 * would be the decimal 644, mode 01204). A template that fails throws a TemplateError naming it.
 */
export function renderArgs(value: unknown, vars: Vars, at: PropertyKey[] = []): unknown {
  return renderValue(value, lazyVars(Object.hasOwn(vars, 'omit') ? vars : { ...vars, omit: OMIT }), at);
}

/** Ansible's `omit`: an argument whose value renders to it is left out (`mode: "{{ m | default(omit) }}"`). */
export const OMIT = '__omit_place_holder__clusterflow';

function renderValue(value: unknown, vars: Vars, at: PropertyKey[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    try {
      return renderString(value, vars);
    } catch (err) {
      // nunjucks puts where in the template first and the reason on the last line.
      throw new TemplateError(at, (err as Error).message.split('\n').pop()?.trim() ?? '');
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => renderValue(v, vars, [...at, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, renderValue(v, vars, [...at, k])])
        .filter(([, v]) => v !== OMIT),
    );
  }
  return value;
}
