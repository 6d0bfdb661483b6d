import { FailureTypes } from '../common/errors';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { HostTarget } from '../common/hosts';
import { ModuleArgs, type ModuleName, type ModuleResult } from '../common/modules';
import { taskArguments } from '../common/task-arguments';
import { conditionHolds, falseCondition, itemLabel, loopItems } from '../common/conditions';
import {
  hidden,
  loopResult,
  registeredValue,
  type Condition,
  type TaskControl,
} from '../common/task-control';
import type { Vars } from '../common/templates';
import { MODULES } from './modules';
import { Remote } from './remote';
import type { SshPool } from './ssh/pool';

export interface TaskInput {
  host: HostTarget;
  module: ModuleName;
  args: unknown;
  /** The host's variables, with what earlier tasks registered and set. */
  vars: Vars;
  check: boolean;
  diff: boolean;
  /** Task-level become: true forces it (as root unless the host says otherwise), false turns it off. */
  become?: boolean;
  /** when, loop, until, changed_when, failed_when, task vars: Ansible's keywords around the module. */
  control?: TaskControl;
}

type Hooks = { signal?: AbortSignal; onTick?: () => void };

const reason = (err: unknown) => (err as Error).message.split('\n').pop()?.trim() ?? String(err);

/**
 * One task on one host, as ansible-core runs it: for each loop item (or once), the `when`
 * conditions, then the module (again until `until` holds, `retries` times, `delay` apart), then
 * `changed_when` and `failed_when` on its result. The whole loop is one activity: a worker that
 * dies runs the task in flight again, never one already reported.
 */
export async function runTask(pool: SshPool, input: TaskInput, hooks: Hooks = {}): Promise<ModuleResult> {
  const result = await runTaskOnHost(pool, input, hooks);
  return input.control?.noLog ? hidden(result) : result;
}

async function runTaskOnHost(pool: SshPool, input: TaskInput, hooks: Hooks): Promise<ModuleResult> {
  if (!Object.hasOwn(ModuleArgs, input.module))
    throw ApplicationFailure.nonRetryable(`unknown module ${input.module}`, FailureTypes.BadTask);
  const control = input.control ?? {};
  const vars = { ...control.defaults, ...input.vars, ...control.vars };
  if (!control.loop) return runOnce(pool, input, vars, hooks);
  let items: unknown[];
  try {
    items = loopItems(control.loop, vars);
  } catch (err) {
    return { changed: false, failed: true, msg: `${control.loop.kind}: ${reason(err)}` };
  }
  const loopVar = control.loopVar ?? 'item';
  const results: ModuleResult[] = [];
  for (const [index, item] of items.entries()) {
    const itemVars: Vars = { ...vars, [loopVar]: item, ansible_loop_var: loopVar };
    if (control.indexVar) itemVars[control.indexVar] = index;
    const r = await runOnce(pool, input, itemVars, hooks);
    results.push({ ...r, item: itemLabel(control, itemVars, item) });
    hooks.onTick?.();
  }
  return loopResult(results);
}

/** The conditions on a result see it under the `register` name, as Ansible binds it. */
function withResult(vars: Vars, control: TaskControl, result: ModuleResult): Vars {
  return control.register ? { ...vars, [control.register]: registeredValue(result) } : vars;
}

function check(keyword: string, conditions: Condition[], vars: Vars): boolean | string {
  try {
    return conditionHolds(conditions, vars);
  } catch (err) {
    return `${keyword}: ${reason(err)}`;
  }
}

async function runOnce(pool: SshPool, input: TaskInput, vars: Vars, hooks: Hooks): Promise<ModuleResult> {
  const control = input.control ?? {};
  if (control.when) {
    const holds = check('when', control.when, vars);
    if (typeof holds === 'string') return { changed: false, failed: true, msg: holds };
    if (!holds)
      return {
        changed: false,
        skipped: true,
        msg: 'Conditional result was False',
        data: {
          false_condition: falseCondition(control.when, vars),
          skip_reason: 'Conditional result was False',
        },
      };
  }
  // Ansible: `retries` more attempts after the first (3 when unset), `delay` seconds apart (5).
  const attempts = control.until ? Math.max(0, control.retries ?? 3) + 1 : 1;
  let result: ModuleResult = { changed: false, failed: true, msg: 'not run' };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    result = await runModule(pool, input, vars, hooks);
    result = judged(result, control, vars);
    if (!control.until) return result;
    const done = check('until', control.until, withResult(vars, control, result));
    if (typeof done === 'string') return { ...result, failed: true, msg: done };
    if (done) return { ...result, data: { ...result.data, attempts: attempt } };
    if (attempt < attempts) await pause((control.delay ?? 5) * 1000, hooks);
  }
  return {
    ...result,
    failed: true,
    msg: result.failed ? result.msg : `${result.msg} (until not met after ${attempts} attempts)`.trim(),
    data: { ...result.data, attempts },
  };
}

/** changed_when and failed_when: the task's own verdict on what the module reported. */
function judged(result: ModuleResult, control: TaskControl, vars: Vars): ModuleResult {
  const seen = withResult(vars, control, result);
  let r = result;
  if (control.changedWhen) {
    const c = check('changed_when', control.changedWhen, seen);
    if (typeof c === 'string') return { ...r, failed: true, msg: c };
    r = { ...r, changed: c };
  }
  if (control.failedWhen) {
    const f = check('failed_when', control.failedWhen, withResult(vars, control, r));
    if (typeof f === 'string') return { ...r, failed: true, msg: f };
    r = { ...r, failed: f, ...(f ? { msg: r.msg || 'failed_when condition met' } : {}) };
  }
  return r;
}

function pause(ms: number, hooks: Hooks): Promise<void> {
  return new Promise((resolve, reject) => {
    // Heartbeat through the wait, so Temporal knows the worker is alive between attempts.
    const tick = setInterval(() => hooks.onTick?.(), 2000);
    const done = setTimeout(() => (clearInterval(tick), resolve()), ms);
    hooks.signal?.addEventListener('abort', () => {
      clearInterval(tick);
      clearTimeout(done);
      reject(new CancelledFailure('cancelled while waiting to retry'));
    });
  });
}

/** Renders the task's arguments with the vars, validates them, then runs the module on the host. */
async function runModule(pool: SshPool, input: TaskInput, vars: Vars, hooks: Hooks): Promise<ModuleResult> {
  // A play's tasks were checked so before it started; the tasks operations build (node-join, db)
  // are checked only here, with the same messages.
  const checked = taskArguments(input.module, input.args, vars);
  if (checked.problems) return { changed: false, failed: true, msg: checked.problems.join('; ') };
  const host: HostTarget = {
    ...input.host,
    become:
      input.become === false
        ? undefined
        : input.become
          ? (input.host.become ?? { user: 'root' })
          : input.host.become,
  };
  const remote = new Remote(pool, host, hooks);
  const runner = MODULES[input.module] as (ctx: unknown, args: unknown) => Promise<ModuleResult>;
  const result = await runner({ remote, check: input.check, diff: input.diff, vars }, checked.args);
  // The remote process group is already killed; tell Temporal the activity ended by cancellation.
  if (hooks.signal?.aborted) throw new CancelledFailure(`${input.module} on ${input.host.name} cancelled`);
  return result;
}
