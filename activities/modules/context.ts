import type { FileDiff, ModuleResult } from '../../common/modules';
import type { ActivityHooks } from '../hooks';
import type { Remote } from '../remote';
import type { Vars } from '../../common/templates';

export interface ModuleContext {
  remote: Remote;
  /** Report what would change; change nothing. */
  check: boolean;
  /** Include before/after of changed files. */
  diff: boolean;
  vars: Vars;
  /** The activity's heartbeat, cancellation and checkpoint, for modules that wait (reboot). */
  hooks?: ActivityHooks;
}

export type ModuleRunner<A> = (ctx: ModuleContext, args: A) => Promise<ModuleResult>;

export const ok = (msg: string): ModuleResult => ({ changed: false, msg });

export function changed(ctx: ModuleContext, msg: string, diff?: FileDiff): ModuleResult {
  return { changed: true, msg: ctx.check ? `would ${msg}` : msg, ...(ctx.diff && diff ? { diff } : {}) };
}

export function failed(msg: string, extra: Partial<ModuleResult> = {}): ModuleResult {
  return { changed: false, failed: true, msg, ...extra };
}
