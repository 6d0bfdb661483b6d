import { ApplicationFailure } from '@temporalio/common';
import type { LbHost } from '../../activities/lb/driver';
import type { ExecResult } from '../../activities/ssh/exec';
import { LoadBalancerSectionSchema, type LoadBalancerInput } from '../../common/lb';

// For the LB driver tests: recognises the one-round-trip "replace, test, restore" script of
// replaceConfigTested (activities/lb/driver.ts) so a fake host can play it out step by step with
// its own file and its own answer to the config test.

export interface ReplaceScript {
  path: string;
  content: string;
  test: string;
}

export function replaceScript(command: string, stdin?: string | Buffer): ReplaceScript | undefined {
  const path = /^cp -p -- (\S+) "\$b"$/m.exec(command)?.[1];
  const test = /^if ! out=\$\( \((.*)\) 2>&1\); then/m.exec(command)?.[1];
  if (!path || !test || stdin === undefined) return undefined;
  return {
    path: path.replace(/^'|'$/g, ''),
    test,
    content: Buffer.from(stdin.toString(), 'base64').toString('utf8'),
  };
}

/**
 * Plays the script out: write the new content, run the test through the fake, put the old file
 * back and answer exit 3 if the test failed — as the real script does on the host.
 */
export async function playReplace(
  s: ReplaceScript,
  file: { read: () => string; write: (text: string) => void },
  runTest: (command: string) => Promise<ExecResult>,
): Promise<ExecResult> {
  const before = file.read();
  file.write(s.content);
  const t = await runTest(s.test);
  if (t.exitCode === 0) return { ...t, stdout: '', stderr: '' };
  file.write(before);
  return { ...t, exitCode: 3, stderr: `${t.stdout}${t.stderr}` };
}

export const execResult = (exitCode: number, stdout: string, stderr = ''): ExecResult => ({
  exitCode,
  signal: null,
  stdout,
  stderr,
  stdoutDroppedBytes: 0,
  stderrDroppedBytes: 0,
  durationMs: 1,
  timedOut: false,
  cancelled: false,
});

/**
 * An LB host named lb1 whose one config file lives in the test (`read`/`write`), and whose other
 * commands are answered by `runPlain`; the driver's replace-test-restore script is played out.
 */
export function fakeLbHost(o: {
  path: string;
  read: () => string;
  write: (text: string) => void;
  runPlain: (command: string) => Promise<ExecResult>;
}): LbHost {
  const run = async (command: string, options?: { stdin?: string | Buffer }): Promise<ExecResult> => {
    const script = replaceScript(command, options?.stdin);
    return script ? playReplace(script, o, o.runPlain) : o.runPlain(command);
  };
  return {
    target: { name: 'lb1' },
    run,
    must: async (command, step) => {
      const r = await run(command);
      if (r.exitCode !== 0)
        throw ApplicationFailure.nonRetryable(`lb1: ${step} failed: ${r.stderr.trim()}`, 'CommandFailed');
      return r;
    },
    stat: async (p) =>
      p === o.path ? { exists: true, kind: 'file', content: Buffer.from(o.read()) } : { exists: false },
    writeFile: async (p, content) => {
      if (p !== o.path) throw new Error(`unexpected write to ${p}`);
      o.write(content.toString());
      return undefined;
    },
  };
}

/** A load balancer as the workflows pass it, from spec fields (the schema fills the defaults). */
export function lbInput(section: Record<string, unknown>): LoadBalancerInput {
  return { ...LoadBalancerSectionSchema.parse({ hosts: 'lb1', ...section }), hosts: [] };
}
