import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a local program without a shell (arguments are passed as a vector, so nothing is
 * re-parsed). Throws with the program's stderr unless `allowFailure` is set.
 */
export function run(
  program: string,
  args: readonly string[],
  options: { allowFailure?: boolean; input?: string; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
): RunResult {
  const result = spawnSync(program, args, {
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: options.inherit ? ['ignore', 'inherit', 'inherit'] : 'pipe',
  });
  if (result.error) throw new Error(`${program}: ${result.error.message}`);
  const out: RunResult = {
    code: result.status ?? 128,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
  if (out.code !== 0 && !options.allowFailure) {
    throw new Error(
      `${program} ${args.join(' ')} exited ${out.code}: ${out.stderr.trim() || out.stdout.trim()}`,
    );
  }
  return out;
}

/** True while `pid` is alive and its command line contains `marker`, so a recycled PID is never mistaken for ours. */
export function processMatches(pid: number | undefined, marker: string): boolean {
  if (!pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').join(' ').includes(marker);
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Signals a process we started and waits for it to exit, escalating to SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, marker: string, graceMs = 10_000): Promise<void> {
  if (!processMatches(pid, marker)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processMatches(pid, marker)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
      break;
    }
    await sleep(100);
  }
}
