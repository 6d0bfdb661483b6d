import { existsSync } from 'node:fs';
import path from 'node:path';
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
import { renderArgs, type Vars } from '../common/templates';
import { truthy } from '../common/jinja-ansible';
import { lookupSubdir, withLookups } from '../common/lookups';
import { workerLookupIO } from './lookup-io';
import './worker-filters';
import { selinuxRefusal } from './modules/selinux';
import { MODULES } from './modules';
import type { ActivityHooks } from './hooks';
import { Remote } from './remote';
import { heartbeatSleep } from './wait';
import { withVaultOpened } from './vault-task';
import type { SshPool } from './ssh/pool';

export interface TaskInput {
  host: HostTarget;
  module: ModuleName;
  args: unknown;
  /** The host's variables (inventory, play, magic). */
  vars: Vars;
  /** What the host's earlier tasks registered and set (set_fact, facts): above task and role vars. */
  learned?: Vars;
  check: boolean;
  diff: boolean;
  /** Task-level become: true forces it (as root unless the host says otherwise), false turns it off. */
  become?: boolean;
  /** become_user / become_method: whom become becomes, and how (only when become is on). */
  becomeUser?: string;
  becomeMethod?: 'sudo' | 'su';
  /** environment: exported before each command of the task; values are templates. */
  environment?: Record<string, string>;
  /** when, loop, until, changed_when, failed_when, task vars: Ansible's keywords around the module. */
  control?: TaskControl;
}

type Hooks = ActivityHooks;

const reason = (err: unknown) => (err as Error).message.split('\n').pop()?.trim() ?? String(err);

/**
 * One task on one host, as ansible-core runs it: for each loop item (or once), the `when`
 * conditions, then the module (again until `until` holds, `retries` times, `delay` apart), then
 * `changed_when` and `failed_when` on its result. The whole loop is one activity: a worker that
 * dies runs the task in flight again, never one already reported.
 */
export async function runTask(pool: SshPool, input: TaskInput, hooks: Hooks = {}): Promise<ModuleResult> {
  const result = await withVaultOpened(input, (opened) => runTaskOnHost(pool, opened, hooks));
  return hides(input) ? hidden(result) : result;
}

/** no_log, evaluated for the host when it is a template; a template that does not render hides. */
function hides(input: TaskInput): boolean {
  const noLog = input.control?.noLog;
  if (typeof noLog !== 'string') return Boolean(noLog);
  const c = input.control ?? {};
  try {
    return truthy(renderArgs(noLog, { ...c.defaults, ...input.vars, ...c.vars, ...input.learned }));
  } catch {
    return true;
  }
}

async function runTaskOnHost(pool: SshPool, input: TaskInput, hooks: Hooks): Promise<ModuleResult> {
  if (!Object.hasOwn(ModuleArgs, input.module))
    throw ApplicationFailure.nonRetryable(`unknown module ${input.module}`, FailureTypes.BadTask);
  const control = input.control ?? {};
  // Lookups read the worker's files and environment, as Ansible's read the controller's.
  const vars = withLookups(
    { ...control.defaults, ...input.vars, ...control.vars, ...input.learned },
    { io: workerLookupIO, searchPath: control.searchPath ?? [], subdir: lookupSubdir(input.module) },
  );
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

// Heartbeat through the wait, so Temporal knows the worker is alive between attempts.
const pause = (ms: number, hooks: Hooks) => heartbeatSleep(ms, hooks, 'waiting to retry');

/**
 * A relative `src` that only rendering gave (`src: "{{ haproxy_template }}"`) is found as the
 * client finds a written one: the role's templates/ (template) or files/, the role, the playbook.
 */
function localSource(
  module: string,
  args: { src?: unknown; remote_src?: unknown },
  searchPath?: string[],
): void {
  if (!['copy', 'template', 'unarchive', 'script'].includes(module) || args.remote_src === true) return;
  if (typeof args.src !== 'string' || path.isAbsolute(args.src) || !searchPath?.length) return;
  const sub = module === 'template' ? 'templates' : 'files';
  const src = args.src;
  const found = searchPath
    .flatMap((d) => [path.join(d, sub, src), path.join(d, src)])
    .find((f) => existsSync(f));
  if (found) args.src = found;
}

/** Renders the task's arguments with the vars, validates them, then runs the module on the host. */
async function runModule(pool: SshPool, input: TaskInput, vars: Vars, hooks: Hooks): Promise<ModuleResult> {
  // A play's tasks were checked so before it started; the tasks operations build (node-join, db)
  // are checked only here, with the same messages.
  const checked = taskArguments(input.module, input.args, vars);
  if (checked.problems) return { changed: false, failed: true, msg: checked.problems.join('; ') };
  localSource(
    input.module,
    checked.args as { src?: unknown; remote_src?: unknown },
    input.control?.searchPath,
  );
  const become =
    input.become === false
      ? undefined
      : input.become
        ? (input.host.become ?? { user: 'root' })
        : input.host.become;
  const host: HostTarget = {
    ...input.host,
    become: become && {
      ...become,
      user: input.becomeUser ?? become.user,
      ...(input.becomeMethod ? { method: input.becomeMethod } : {}),
    },
  };
  let environment: Record<string, string> | undefined;
  if (input.environment) {
    try {
      environment = Object.fromEntries(
        Object.entries(renderArgs(input.environment, vars) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : JSON.stringify(v),
        ]),
      );
    } catch (err) {
      return { changed: false, failed: true, msg: `environment: ${reason(err)}` };
    }
  }
  const remote = new Remote(pool, host, { ...hooks, environment });
  const runner = MODULES[input.module] as (ctx: unknown, args: unknown) => Promise<ModuleResult>;
  const refused = await selinuxRefusal(remote, checked.args);
  if (refused) return refused;
  const result = await runner({ remote, check: input.check, diff: input.diff, vars, hooks }, checked.args);
  // The remote process group is already killed; tell Temporal the activity ended by cancellation.
  if (hooks.signal?.aborted) throw new CancelledFailure(`${input.module} on ${input.host.name} cancelled`);
  return result;
}
