import { CancelledFailure } from '@temporalio/common';
import type { ActivityHooks } from './hooks';

/**
 * Waits `ms` inside an activity, heartbeating all along so Temporal knows the worker is alive,
 * and ends at once (CancelledFailure) when the activity is cancelled.
 */
export function heartbeatSleep(ms: number, hooks: ActivityHooks = {}, waitingFor = 'waiting'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (hooks.signal?.aborted) return reject(new CancelledFailure(`cancelled while ${waitingFor}`));
    const tick = setInterval(() => hooks.onTick?.(), 2000);
    const done = setTimeout(() => (clearInterval(tick), resolve()), ms);
    hooks.signal?.addEventListener('abort', () => {
      clearInterval(tick);
      clearTimeout(done);
      reject(new CancelledFailure(`cancelled while ${waitingFor}`));
    });
  });
}
