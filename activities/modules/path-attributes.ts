import type { FileMode } from '../../common/file-mode';
import type { ModuleContext } from './context';
import { createdPath, resolveAttributes } from './files';

/**
 * Sets owner, group and mode on a path a module just wrote (get_url, uri), or in check mode
 * says what it would set; a path check mode has not created yet is judged as written fresh.
 */
export async function settleAttributes(
  ctx: ModuleContext,
  path: string,
  wanted: { owner?: string; group?: string; mode?: FileMode },
): Promise<string[]> {
  if (wanted.owner === undefined && wanted.group === undefined && wanted.mode === undefined) return [];
  let current = await ctx.remote.stat(path);
  if (!current.exists) {
    if (!ctx.check) return [];
    current = createdPath('written', current.umask);
  }
  return ctx.remote.fixAttributes(path, current, resolveAttributes(wanted, current), ctx.check);
}
