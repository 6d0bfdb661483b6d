import { FailureTypes } from '../common/errors';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { HostTarget } from '../common/hosts';
import { ModuleArgs, type ModuleName, type ModuleResult } from '../common/modules';
import { MODULES } from './modules';
import { renderArgs, type Vars } from './modules/render';
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
  const schema = ModuleArgs[input.module];
  if (!schema) throw ApplicationFailure.nonRetryable(`unknown module ${input.module}`, FailureTypes.BadTask);
  let rendered: unknown;
  try {
    rendered = renderArgs(input.args, input.vars);
  } catch (err) {
    return {
      changed: false,
      failed: true,
      msg: `${input.module}: ${(err as Error).message.split('\n').pop()?.trim()}`,
    };
  }
  const parsed = schema.safeParse(rendered);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      changed: false,
      failed: true,
      msg: `${input.module}: ${issue.path.join('.') || 'args'}: ${issue.message}`,
    };
  }
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
    parsed.data,
  );
  // The remote process group is already killed; tell Temporal the activity ended by cancellation.
  if (hooks.signal?.aborted) throw new CancelledFailure(`${input.module} on ${input.host.name} cancelled`);
  return result;
}
