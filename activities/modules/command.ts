import { parse } from 'shell-quote';
import type { z } from 'zod';
import type { CommandArgs, ModuleResult, RawArgs, ShellArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import type { ModuleContext, ModuleRunner } from './context';

type Guards = { creates?: string; removes?: string; chdir?: string; stdin?: string };

/**
 * Pure: the command line for `command` (argv, no shell features: every word quoted) or `shell`
 * (the operator's own shell code), run in `chdir` when given.
 */
export function commandLine(
  kind: 'command' | 'shell',
  a: { cmd?: string; argv?: string[]; chdir?: string },
): string {
  const body = kind === 'shell' ? a.cmd! : shellJoin(a.argv ?? splitWords(a.cmd!));
  return a.chdir ? `cd ${shellQuote(a.chdir)} && ${body}` : body;
}

/** Splits a command string into words as sh would, refusing shell operators (use `shell` for those). */
export function splitWords(cmd: string): string[] {
  const words = parse(cmd, (name) => `$${name}`);
  return words.map((w) => {
    if (typeof w !== 'string')
      throw new Error(`command does not run a shell; use the shell module for ${JSON.stringify(w)}`);
    return w;
  });
}

/** Pure: the guard test; it prints "skip" when creates exists or removes does not. */
export function guardScript(a: Guards): string | undefined {
  const tests = [
    a.creates ? `[ -e ${shellQuote(a.creates)} ] && echo skip` : '',
    a.removes ? `[ -e ${shellQuote(a.removes)} ] || echo skip` : '',
  ].filter(Boolean);
  return tests.length ? `${tests.join('; ')}; true` : undefined;
}

export async function runGuarded(
  ctx: ModuleContext,
  a: Guards,
  line: string,
  options: { stdin?: string } = {},
): Promise<ModuleResult> {
  const guard = guardScript(a);
  if (guard && (await ctx.remote.run(guard)).stdout.includes('skip')) {
    return { changed: false, msg: a.creates ? `${a.creates} exists` : `${a.removes} does not exist` };
  }
  // Like Ansible: a command cannot say what it would do, so check mode skips it.
  if (ctx.check) return { changed: true, skipped: true, msg: `would run: ${line}` };
  const r = await ctx.remote.run(line, { stdin: options.stdin ?? a.stdin, timeoutMs: 3_600_000 });
  const result: ModuleResult = {
    changed: true,
    rc: r.exitCode ?? undefined,
    // As Ansible's command module: the output without its last line break.
    stdout: r.stdout.replace(/\r?\n$/, ''),
    stderr: r.stderr.replace(/\r?\n$/, ''),
    msg: r.timedOut ? 'timed out' : r.cancelled ? 'cancelled' : `rc=${r.exitCode ?? r.signal}`,
  };
  if (r.exitCode !== 0) result.failed = true;
  return result;
}

export const command: ModuleRunner<z.infer<typeof CommandArgs>> = (ctx, a) =>
  runGuarded(ctx, a, commandLine('command', a));

export const shell: ModuleRunner<z.infer<typeof ShellArgs>> = (ctx, a) =>
  runGuarded(ctx, a, commandLine('shell', a));

/** raw: the line as written, or handed to `executable -c`; like Ansible's, never guarded. */
export const raw: ModuleRunner<z.infer<typeof RawArgs>> = (ctx, a) =>
  runGuarded(ctx, {}, a.executable ? `${shellQuote(a.executable)} -c ${shellQuote(a.cmd)}` : a.cmd);
