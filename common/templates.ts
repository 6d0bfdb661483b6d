import nunjucks from 'nunjucks';

// Jinja2 templates as ansible-core renders them, in nunjucks: rendering is computation only, with no
// loader, so the client (before a play starts) and the worker (as it runs) render alike. A bundle
// for the workflow sandbox would take nunjucks' browser build, which has no file loaders.

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

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

/** Renders Jinja-like template text with host vars (nunjucks: Jinja2's syntax in JavaScript). */
export function renderTemplate(text: string, vars: Vars): string {
  return env.renderString(text, vars);
}

/** A template in a task's arguments that did not render: where it sits (`['argv', 2]`) and why. */
export class TemplateError extends Error {
  constructor(
    readonly path: PropertyKey[],
    reason: string,
  ) {
    super(reason);
  }
}

const WHOLE_EXPRESSION = /^\s*\{\{([^}]*)\}\}\s*$/;

// A filter that hands back the expression's value itself: nunjucks only ever returns text.
// Rendering is synchronous, so one slot is enough.
let evaluated: unknown;
env.addFilter('__clusterflow_value', (v: unknown) => {
  evaluated = v;
  return '';
});

/** The value of one `{{ expr }}`, with its type; undefined when nunjucks would refuse to print it. */
function expressionValue(expression: string, vars: Vars): unknown {
  evaluated = undefined;
  env.renderString(`{{ (${expression}) | __clusterflow_value }}`, vars);
  return evaluated instanceof nunjucks.runtime.SafeString ? evaluated.toString() : evaluated;
}

function renderString(value: string, vars: Vars): unknown {
  const whole = WHOLE_EXPRESSION.exec(value);
  if (whole) {
    const v = expressionValue(whole[1], vars);
    // undefined and null: rendering it as text raises nunjucks' own error.
    if (v !== undefined && v !== null) return v;
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
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    try {
      return renderString(value, vars);
    } catch (err) {
      // nunjucks puts where in the template first and the reason on the last line.
      throw new TemplateError(at, (err as Error).message.split('\n').pop()?.trim() ?? '');
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => renderArgs(v, vars, [...at, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderArgs(v, vars, [...at, k])]));
  }
  return value;
}
