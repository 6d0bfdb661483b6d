import type { z } from 'zod';
import type { WaitForArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { failed, type ModuleRunner } from './context';

type WaitFor = z.infer<typeof WaitForArgs>;

/** Pure: the condition, as a bash test that succeeds when the wait is over. */
export function waitCondition(a: WaitFor): string {
  if (a.port) {
    const open = `(exec 3<>/dev/tcp/${a.host}/${a.port}) 2>/dev/null`;
    if (a.state === 'stopped') return `! ${open}`;
    // Drained: no established connection left on the local port (new ones are the balancer's job).
    if (a.state === 'drained')
      return `[ "$(ss -Htn state established '( sport = :${a.port} )' | wc -l)" -eq 0 ]`;
    return open;
  }
  const p = shellQuote(a.path!);
  if (a.state === 'absent' || a.state === 'stopped') return `[ ! -e ${p} ]`;
  return a.search_regex ? `grep -qE -- ${shellQuote(a.search_regex)} ${p} 2>/dev/null` : `[ -e ${p} ]`;
}

/** Waits on the host itself, in one command: no round trip per poll. */
export function waitScript(a: WaitFor): string {
  const script = [
    `sleep ${a.delay}`,
    `end=$((SECONDS + ${Math.ceil(a.timeout)}))`,
    `until ${waitCondition(a)}; do`,
    `  if [ "$SECONDS" -ge "$end" ]; then exit 3; fi`,
    `  sleep ${a.sleep}`,
    'done',
  ].join('\n');
  return `bash -c ${shellQuote(script)}`;
}

export const waitFor: ModuleRunner<WaitFor> = async (ctx, a) => {
  const what = a.port
    ? `port ${a.host}:${a.port} ${a.state}`
    : `${a.path} ${a.state}${a.search_regex ? ` matching ${a.search_regex}` : ''}`;
  const r = await ctx.remote.run(waitScript(a), { timeoutMs: (a.delay + a.timeout + 30) * 1000 });
  if (r.exitCode === 3) return failed(`timed out after ${a.timeout}s waiting for ${what}`);
  if (r.exitCode !== 0)
    return failed(`waiting for ${what}: ${(r.stderr || r.stdout).trim() || `exit ${r.exitCode}`}`);
  return { changed: false, msg: `${what} after ${(r.durationMs / 1000).toFixed(1)}s` };
};
