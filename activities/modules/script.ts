import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { ScriptArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { runGuarded } from './command';
import type { ModuleRunner } from './context';

// script: the worker's file goes to the host on the command's stdin, into a private temporary
// file that is removed however the script ends, and runs there with its arguments.

/** Pure: the host-side line that writes the script from stdin (base64) and runs it. */
export function scriptLine(a: Pick<z.infer<typeof ScriptArgs>, 'args' | 'executable' | 'chdir'>): string {
  const run = a.executable ? `${a.executable} "$t"` : '"$t"';
  return [
    `t=$(mktemp) && trap 'rm -f "$t"' EXIT && base64 -d > "$t" && chmod 700 "$t"`,
    ...(a.chdir ? [`cd ${shellQuote(a.chdir)}`] : []),
    `${run}${a.args ? ` ${a.args}` : ''} < /dev/null`,
  ].join(' && ');
}

export const script: ModuleRunner<z.infer<typeof ScriptArgs>> = async (ctx, a) => {
  const content = await readFile(a.src);
  // The guards apply before chdir, as the script module's do; runGuarded checks them first.
  return runGuarded(ctx, { creates: a.creates, removes: a.removes }, scriptLine(a), {
    stdin: content.toString('base64'),
  });
};
