import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { FailureTypes } from '../../common/errors';
import type { RebootArgs } from '../../common/modules';
import type { ExecResult } from '../ssh/exec';
import { shellQuote } from '../ssh/quote';
import { heartbeatSleep } from '../wait';
import { failed, type ModuleRunner } from './context';
import { backoffMs, untilSuccess } from './until-success';

// reboot, as ansible-core's action plugin does it: read the boot id, run `shutdown -r`, then wait
// until the host answers with another boot id and the test command passes. The wait is durable:
// the boot id before and the start time go into the activity's checkpoint right after the reboot
// command, so an attempt retried after a worker restart waits on, and never reboots again.

type Reboot = z.output<typeof RebootArgs>;

/** What an attempt leaves for the next one once the reboot command has run. */
export interface RebootCheckpoint {
  reboot: { bootId: string; startedAt: number };
}

/** shutdown(8) lives in the sbin directories, which a non-login PATH may lack. */
const SBIN = 'PATH=/sbin:/usr/sbin:/usr/local/sbin:$PATH';

/** Pure: the reboot command; shutdown takes whole minutes, so a delay under 60 s is now, as in ansible-core. */
export function rebootCommand(a: Reboot): string {
  if (a.reboot_command) return `${SBIN} ${a.reboot_command}`;
  return `${SBIN} shutdown -r ${Math.floor(a.pre_reboot_delay / 60)} ${shellQuote(a.msg)}`;
}

/** Pure: the checkpoint a previous attempt saved, if it is one of ours. */
export function resumeFrom(saved: unknown): RebootCheckpoint['reboot'] | undefined {
  const r = (saved as Partial<RebootCheckpoint> | undefined)?.reboot;
  return r && typeof r.bootId === 'string' && typeof r.startedAt === 'number' ? r : undefined;
}

/**
 * Pure: whether the reboot command was taken. The host may end the session under it (no exit
 * code, or the connection lost): that is the reboot starting, as ansible-core reads it.
 */
export function rebootRefused(outcome: ExecResult | Error): string | undefined {
  if (outcome instanceof Error) {
    const lost = outcome instanceof ApplicationFailure && outcome.type === FailureTypes.HostUnreachable;
    return lost ? undefined : outcome.message;
  }
  if (outcome.exitCode === 0 || outcome.exitCode === null) return undefined;
  return `Reboot command failed. Error was ${outcome.stdout.trim()}, ${outcome.stderr.trim()}`;
}

export const reboot: ModuleRunner<Reboot> = async (ctx, a) => {
  if (ctx.remote.target.connection === 'local')
    return failed('Running reboot with local connection would reboot the control node.', {
      data: { rebooted: false, elapsed: 0 },
    });
  if (ctx.check) return { changed: true, msg: 'would reboot', data: { rebooted: true, elapsed: 0 } };
  const elapsed = (since: number) => Math.floor((Date.now() - since) / 1000);

  let started = resumeFrom(ctx.hooks?.checkpoint?.saved);
  if (!started) {
    const r = await ctx.remote.run(a.boot_time_command);
    const bootId = r.stdout.trim();
    if (r.exitCode !== 0 || !bootId)
      return failed(
        `reboot: failed to get host boot time info, rc: ${r.exitCode}, stderr: ${r.stderr.trim()}`,
        {
          data: { rebooted: false },
        },
      );
    const startedAt = Date.now();
    const outcome = await ctx.remote.run(rebootCommand(a), { timeoutMs: 60_000 }).catch((err: Error) => err);
    const refused = rebootRefused(outcome);
    if (refused) return failed(refused, { data: { rebooted: false, elapsed: elapsed(startedAt) } });
    started = { bootId, startedAt };
    ctx.hooks?.checkpoint?.save({ reboot: started } satisfies RebootCheckpoint);
    // The pooled connection dies with the host; a fresh one is opened for every check below.
    ctx.remote.forget();
    if (a.post_reboot_delay)
      await heartbeatSleep(a.post_reboot_delay * 1000, ctx.hooks, 'waiting after the reboot');
  }

  const remote = a.connect_timeout ? ctx.remote.withConnectTimeout(a.connect_timeout * 1000) : ctx.remote;
  const wait = { timeoutMs: a.reboot_timeout * 1000, pauseMs: (n: number) => backoffMs(n), hooks: ctx.hooks };
  const before = started.bootId;
  const booted = await untilSuccess(
    async () => {
      const r = await remote.run(a.boot_time_command, { timeoutMs: 30_000 });
      if (r.exitCode !== 0) throw new Error(`failed to get host boot time info, rc: ${r.exitCode}`);
      const now = r.stdout.trim();
      if (!now || now === before) throw new Error('boot time has not changed');
    },
    { ...wait, what: 'waiting for the host to come back' },
  );
  if (!booted.ok)
    return failed(
      `Timed out waiting for last boot time check (timeout=${a.reboot_timeout}): ${booted.error}`,
      {
        data: { rebooted: true, elapsed: elapsed(started.startedAt) },
      },
    );
  const tested = await untilSuccess(
    async () => {
      const r = await remote.run(a.test_command, { timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new Error(`Test command failed: ${r.stderr.trim()} ${r.stdout.trim()}`);
    },
    { ...wait, what: 'waiting for the test command' },
  );
  const data = { rebooted: true, elapsed: elapsed(started.startedAt) };
  if (!tested.ok)
    return failed(
      `Timed out waiting for post-reboot test command (timeout=${a.reboot_timeout}): ${tested.error}`,
      { data },
    );
  return { changed: true, msg: `rebooted; back after ${data.elapsed}s`, data };
};
