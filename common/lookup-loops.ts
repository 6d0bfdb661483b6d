import { invokeLookup, LOOKUP_NAMES, type LookupName } from './lookups';
import { renderArgs, renderTemplate, TemplateError, type Vars } from './templates';

// `with_<lookup>` loops as ansible-core runs them: the keyword's value is the lookup's terms
// (a list, or one term), rendered with the host's variables, and the lookup's list is the loop.

/** The `with_*` keywords a lookup gives; with_items and with_dict are task keywords of their own. */
export type WithLookupKey = `with_${Exclude<LookupName, 'items' | 'dict'>}`;

export const WITH_LOOKUP_KEYS = LOOKUP_NAMES.filter((n) => n !== 'items' && n !== 'dict').map(
  (n) => `with_${n}`,
) as WithLookupKey[];

export const isWithLookup = (kind: string): kind is WithLookupKey =>
  (WITH_LOOKUP_KEYS as readonly string[]).includes(kind);

const DROPPED = Symbol('dropped');

/**
 * with_first_found's terms: a name whose template does not render (an undefined fact in
 * `"{{ ansible_distribution }}.yml"`) is left out rather than failing, as Ansible does there.
 */
function renderDroppingUndefined(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    try {
      return renderArgs(value, vars);
    } catch (err) {
      if (err instanceof TemplateError && !err.deferred) return DROPPED;
      throw err;
    }
  }
  if (Array.isArray(value))
    return value.map((v) => renderDroppingUndefined(v, vars)).filter((v) => v !== DROPPED);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, renderDroppingUndefined(v, vars)])
        .filter(([, v]) => v !== DROPPED),
    );
  return value;
}

/** The items of a `with_<lookup>` loop. */
export function lookupLoopItems(kind: WithLookupKey, value: unknown, vars: Vars): unknown[] {
  const name = kind.slice('with_'.length);
  const rendered = name === 'first_found' ? renderDroppingUndefined(value, vars) : renderArgs(value, vars);
  const terms = Array.isArray(rendered) ? rendered : [rendered];
  const items = invokeLookup(name, terms, vars, true, renderTemplate);
  return Array.isArray(items) ? items : [items];
}
