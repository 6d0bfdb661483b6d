import { FailureTypes } from '../common/errors';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { HostTarget } from '../common/hosts';
import { ModuleArgs, type ModuleName, type ModuleResult } from '../common/modules';
import { taskArguments } from '../common/task-arguments';
import type { Vars } from '../common/templates';
import { MODULES } from './modules';
import { Remote } from './remote';
import type { SshPool } from './ssh/pool';

export interface TaskInput {
  host: HostTarget;
  module: ModuleName;
  args: unknown;
  vars: Vars;
  check: boolean;
  diff: boolean;
  /** Task-level become: true forces it (as root unless the host says otherwise), false turns it off. */
  become?: boolean;
}

/** Renders the task's arguments with host vars, validates them, then runs the module on the host. */
export async function runTask(
  pool: SshPool,
  input: TaskInput,
  hooks: { signal?: AbortSignal; onTick?: () => void } = {},
): Promise<ModuleResult> {
  if (!Object.hasOwn(ModuleArgs, input.module))
    throw ApplicationFailure.nonRetryable(`unknown module ${input.module}`, FailureTypes.BadTask);
  // A play's tasks were checked so before it started; the tasks operations build (node-join, db)
  // are checked only here, with the same messages.
  const checked = taskArguments(input.module, input.args, input.vars);
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
  const result = await runner(
    { remote, check: input.check, diff: input.diff, vars: input.vars },
    checked.args,
  );
  // The remote process group is already killed; tell Temporal the activity ended by cancellation.
  if (hooks.signal?.aborted) throw new CancelledFailure(`${input.module} on ${input.host.name} cancelled`);
  return result;
}
