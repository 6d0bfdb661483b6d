import type { z } from 'zod';
import type { WaitForConnectionArgs } from '../../common/modules';
import { heartbeatSleep } from '../wait';
import { failed, type ModuleRunner } from './context';
import { untilSuccess } from './until-success';

// wait_for_connection: a reconnect loop from the activity over SSH, as ansible-core's action
// plugin runs its ping test: `delay` first, then a fresh connection (connect_timeout) every
// `sleep` seconds until one runs a command, or `timeout` passes.

type WaitForConnection = z.output<typeof WaitForConnectionArgs>;

export const waitForConnection: ModuleRunner<WaitForConnection> = async (ctx, a) => {
  // ansible-core skips it in check mode.
  if (ctx.check) return { changed: false, skipped: true, msg: 'skipped in check mode' };
  const start = Date.now();
  if (a.delay) await heartbeatSleep(a.delay * 1000, ctx.hooks, 'waiting to connect');
  const remote = ctx.remote.withConnectTimeout(a.connect_timeout * 1000);
  const outcome = await untilSuccess(
    async () => {
      const r = await remote.run('echo pong', { timeoutMs: (a.connect_timeout + 10) * 1000 });
      if (r.exitCode !== 0 || r.stdout.trim() !== 'pong') throw new Error('ping test failed');
    },
    {
      timeoutMs: a.timeout * 1000,
      pauseMs: () => a.sleep * 1000,
      hooks: ctx.hooks,
      what: 'waiting to connect',
    },
  );
  const elapsed = Math.floor((Date.now() - start) / 1000);
  if (!outcome.ok)
    return failed(`timed out waiting for ping module test success: ${outcome.error}`, { data: { elapsed } });
  return { changed: false, msg: `connected after ${elapsed}s`, data: { elapsed } };
};
