import type { z } from 'zod';
import type { SlurpArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { failed, type ModuleRunner } from './context';

// `slurp`: a file's bytes, base64-encoded, as `content` (read it with `| b64decode`). Read-only.
// A result travels through Temporal's history, and the exec primitive keeps 1 MiB of output: a
// file whose base64 is larger is refused rather than cut short.

type Slurp = z.infer<typeof SlurpArgs>;

/** ansible-core's wording of why a file cannot be read, by the exit code of slurpScript. */
const WHY: Record<number, string> = {
  3: 'file not found',
  4: 'file is not readable',
  5: 'source is a directory and must be a file',
};

export function slurpScript(src: string): string {
  const p = shellQuote(src);
  return [
    `[ -e ${p} ] || exit 3`,
    `[ -r ${p} ] || exit 4`,
    `[ -d ${p} ] && exit 5`,
    `exec base64 -w0 -- ${p}`,
  ].join('\n');
}

export const slurp: ModuleRunner<Slurp> = async (ctx, a) => {
  const r = await ctx.remote.run(slurpScript(a.src));
  const shown = `'${a.src}'`;
  if (r.exitCode !== null && WHY[r.exitCode]) return failed(`${WHY[r.exitCode]}: ${shown}`);
  if (r.exitCode !== 0) return failed(`unable to slurp file: ${(r.stderr || r.stdout).trim()}`);
  if (r.stdoutDroppedBytes > 0)
    return failed(`${shown} is too large to slurp: its base64 is over ${r.stdout.length} bytes`);
  return {
    changed: false,
    msg: `read ${a.src}`,
    data: { content: r.stdout.trim(), source: a.src, encoding: 'base64' },
  };
};
