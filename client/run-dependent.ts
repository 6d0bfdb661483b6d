import type { Vars } from '../common/templates';

// What the client cannot know before a play runs: what tasks register and set, the facts a
// gathering play collects, and every variable whose template reads one of those. A task whose
// arguments read any of them has only its keys checked when the playbook loads; its values are
// checked when it runs, with the real variables.

const NAME = /[A-Za-z_][A-Za-z0-9_]*/g;

/** The names a value's templates read (a superset: every word inside `{{ }}` and `{% %}`). */
function namesIn(value: unknown): Set<string> {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  const out = new Set<string>();
  for (const m of text.matchAll(/\{\{(.*?)\}\}|\{%(.*?)%\}/gs))
    for (const n of (m[1] ?? m[2]).match(NAME) ?? []) out.add(n);
  return out;
}

/**
 * A test for "reads something only the run gives": `runtime` names (registered, set_fact),
 * facts when the play gathers them (ansible_* names the host's variables do not define), and,
 * transitively, variables whose values read those.
 */
export function runDependence(runtime: string[], vars: Vars, gathers: boolean): (value: unknown) => boolean {
  const dependent = new Set(runtime);
  const isFact = (n: string) => gathers && n.startsWith('ansible_') && !Object.hasOwn(vars, n);
  const reads = new Map(Object.entries(vars).map(([k, v]) => [k, namesIn(v)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [k, names] of reads) {
      if (dependent.has(k)) continue;
      if ([...names].some((n) => dependent.has(n) || isFact(n))) {
        dependent.add(k);
        changed = true;
      }
    }
  }
  return (value) => {
    const names = namesIn(value);
    return [...names].some((n) => dependent.has(n) || isFact(n));
  };
}
