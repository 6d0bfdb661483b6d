import { CancelledFailure } from '@temporalio/common';
import type { ActivityHooks } from '../hooks';
import { heartbeatSleep } from '../wait';

// The loop behind wait_for_connection and reboot: try, and on any failure (the host is down, sshd
// not up yet, the boot id unchanged) wait and try again until the time is up. Heartbeats go on
// all along: while connecting (Remote.run ticks) and between attempts.

/** Pure: ansible-core's reboot back-off: 2^failures seconds, at most 12, plus up to 1 s of jitter. */
export function backoffMs(failures: number, jitter = Math.random()): number {
  return (Math.min(2 ** failures, 12) + jitter) * 1000;
}

export type Outcome = { ok: true } | { ok: false; error: string };

export async function untilSuccess(
  attempt: () => Promise<void>,
  options: { timeoutMs: number; pauseMs: (failures: number) => number; hooks?: ActivityHooks; what: string },
): Promise<Outcome> {
  const end = Date.now() + options.timeoutMs;
  let error = 'no attempt made';
  for (let failures = 0; Date.now() < end; failures++) {
    try {
      await attempt();
      return { ok: true };
    } catch (err) {
      if (err instanceof CancelledFailure || options.hooks?.signal?.aborted) throw err;
      error = ((err as Error).message ?? String(err)).split('\n').pop()!.trim();
    }
    const pause = Math.min(options.pauseMs(failures), Math.max(0, end - Date.now()));
    if (pause > 0) await heartbeatSleep(pause, options.hooks, options.what);
  }
  return { ok: false, error };
}
