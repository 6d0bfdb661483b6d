import type { z } from 'zod';
import type { TempfileArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, type ModuleRunner } from './context';

// `tempfile`: a new, private temporary file (0600) or directory (0700) with mktemp(1), its path
// returned as `path`. Always changed, as in ansible-core; and like ansible-core's, it does not
// run in check mode (it is skipped there: no path exists to report).

type Tempfile = z.infer<typeof TempfileArgs>;

export function tempfileScript(a: Tempfile): string {
  const dir = a.path ? shellQuote(a.path) : '"${TMPDIR:-/tmp}"';
  return [
    'mktemp',
    ...(a.state === 'directory' ? ['-d'] : []),
    '-p',
    dir,
    ...(a.suffix ? [`--suffix=${shellQuote(a.suffix)}`] : []),
    '--',
    shellQuote(`${a.prefix}XXXXXXXX`),
  ].join(' ');
}

export const tempfile: ModuleRunner<Tempfile> = async (ctx, a) => {
  if (ctx.check)
    return { changed: false, skipped: true, msg: 'remote module (tempfile) does not support check mode' };
  const r = await ctx.remote.run(tempfileScript(a));
  if (r.exitCode !== 0) return failed((r.stderr || r.stdout).trim() || `mktemp failed (exit ${r.exitCode})`);
  const path = r.stdout.trim();
  return { ...changed(ctx, `created ${path}`, { path, before: 'absent', after: a.state }), data: { path } };
};
