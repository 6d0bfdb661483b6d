import nunjucks from 'nunjucks';

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

export type Vars = Record<string, unknown>;

/** Renders Jinja-like template text with host vars (nunjucks: Jinja2's syntax in JavaScript). */
export function renderTemplate(text: string, vars: Vars): string {
  return env.renderString(text, vars);
}

const WHOLE_EXPRESSION = /^\s*\{\{[^}]*\}\}\s*$/;

/**
 * Renders every string in task arguments. A value that is one whole `{{ expr }}` keeps a number or
 * boolean type, as Ansible does, so `port: "{{ http_port }}"` is still a number.
 */
export function renderArgs(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    const rendered = renderTemplate(value, vars);
    if (WHOLE_EXPRESSION.test(value) && /^(-?\d+(\.\d+)?|true|false)$/.test(rendered))
      return JSON.parse(rendered);
    return rendered;
  }
  if (Array.isArray(value)) return value.map((v) => renderArgs(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderArgs(v, vars)]));
  }
  return value;
}
