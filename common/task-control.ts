import type { ModuleResult } from './modules';
import type { Vars } from './templates';
import type { WithLookupKey } from './lookup-loops';

// Ansible's task keywords around a module run (when, loop, until, register…) as data, and the
// value `register` stores. No template engine here: workflows import this to keep what a host
// registered; the conditions themselves are evaluated on the worker (common/conditions.ts).

/** A task's keywords that steer its module: conditions, loop, retries, registered result. */
export interface TaskControl {
  /** `when`: every condition must hold (a list is AND); evaluated per loop item. */
  when?: Condition[];
  /** `register`: the variable the result is stored in, for the host's later tasks. */
  register?: string;
  /** `loop` / `with_items` / `with_dict`: a list (or an expression giving one), and how it was named; `with_<lookup>`: the lookup's terms. */
  loop?: { items: unknown; kind: 'loop' | 'with_items' | 'with_dict' | WithLookupKey };
  loopVar?: string;
  indexVar?: string;
  /** `loop_control.label`: what a result shows instead of the whole item. */
  label?: string;
  changedWhen?: Condition[];
  failedWhen?: Condition[];
  /** `until` with `retries` and `delay`: the module runs again until the condition holds. */
  until?: Condition[];
  retries?: number;
  delay?: number;
  /** `vars` on the task (and a role's vars and params): visible to its arguments and conditions. */
  vars?: Vars;
  /** A role's defaults: below every other variable. */
  defaults?: Vars;
  /** `no_log`: the result keeps its verdict only; output, diff and messages never reach history. */
  /** no_log: true, or a template the worker evaluates for the host. */
  noLog?: boolean | string;
  /** Where its lookups find a relative file: the role's directory (if any), then the playbook's. */
  searchPath?: string[];
}

/** A condition as Ansible takes it: a bare Jinja expression, or a boolean. */
export type Condition = string | boolean;

const lines = (s?: string) => (s ? s.replace(/\n$/, '').split('\n') : []);

/** The value `register` stores: Ansible's result fields, as later tasks read them. */
export function registeredValue(result: ModuleResult): Record<string, unknown> {
  const rest: Partial<ModuleResult> = { ...result };
  const { results, data } = result;
  // What a module reports for the run, not what later tasks read: the diff, the facts it set.
  for (const k of ['diff', 'ansibleFacts', 'results', 'data'] as const) delete rest[k];
  const value: Record<string, unknown> = {
    ...rest,
    ...data,
    failed: Boolean(result.failed),
    changed: result.changed,
  };
  if (result.skipped) value.skipped = true;
  if (result.stdout !== undefined) value.stdout_lines = lines(result.stdout);
  if (result.stderr !== undefined) value.stderr_lines = lines(result.stderr);
  if (results) value.results = results.map((r) => ({ ...registeredValue(r), item: r.item }));
  return value;
}

/** One loop's results as one task result: changed if any item changed, failed if any failed. */
export function loopResult(results: ModuleResult[]): ModuleResult {
  // An empty loop skips the task, as in Ansible (with_first_found's `skip: true` relies on it).
  if (results.length === 0)
    return {
      changed: false,
      skipped: true,
      msg: 'No items in the list',
      data: { skipped_reason: 'No items in the list' },
      results,
    };
  const failed = results.some((r) => r.failed);
  const ran = results.filter((r) => !r.skipped);
  return {
    changed: results.some((r) => r.changed),
    failed,
    skipped: results.length > 0 && ran.length === 0 ? true : undefined,
    msg: failed ? 'One or more items failed' : ran.length ? 'All items completed' : 'All items skipped',
    results,
  };
}

export const HIDDEN =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/** A result as no_log leaves it: changed, failed, skipped and rc; set_fact's variables still set. */
export function hidden(result: ModuleResult): ModuleResult {
  return {
    changed: result.changed,
    ...(result.failed ? { failed: true } : {}),
    ...(result.skipped ? { skipped: true } : {}),
    ...(result.rc !== undefined ? { rc: result.rc } : {}),
    ...(result.ansibleFacts ? { ansibleFacts: result.ansibleFacts } : {}),
    ...(result.results ? { results: result.results.map(hidden) } : {}),
    msg: HIDDEN,
  };
}
