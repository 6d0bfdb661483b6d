import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Who holds a lock, written into the lock file so that whoever waits can say for whom. */
interface Holder {
  pid: number;
  command: string;
  since: string;
}

/** The lock files the current async call chain holds: a nested call takes them again for free. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();
/** Callers in this process queue here first: one OS lock per process, handed on in turn. */
const queues = new Map<string, Promise<void>>();

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const WAIT_NOTICE_MS = 2_000;

/**
 * Runs `fn` holding an exclusive lock on `file`, across processes and within this one.
 *
 * The OS lock is flock(2), held by a `flock` child process that lives as long as its stdin pipe
 * from us: when this process ends in any way (even SIGKILL) the pipe closes, the child exits and
 * the kernel drops the lock. Nothing stale is ever left to detect or break, which a PID file
 * cannot promise (two waiters breaking one stale lock can both win). Calls nested inside `fn` (a
 * lab `up` that has to take the lab `down`) run at once instead of waiting for themselves.
 */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number; notice?: (line: string) => void } = {},
): Promise<T> {
  const mine = held.getStore() ?? new Set<string>();
  if (mine.has(file)) return fn();
  const previous = queues.get(file) ?? Promise.resolve();
  let done!: () => void;
  const turn = new Promise<void>((resolve) => (done = resolve));
  queues.set(
    file,
    previous.then(() => turn),
  );
  await previous;
  try {
    const lock = await acquire(file, options.timeoutMs ?? lockTimeoutMs(), options.notice ?? stderrNotice);
    try {
      return await held.run(new Set([...mine, file]), fn);
    } finally {
      await release(lock);
    }
  } finally {
    done();
  }
}

function lockTimeoutMs(): number {
  const fromEnv = Number(process.env.CLUSTERFLOW_LAB_LOCK_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIMEOUT_MS;
}

function stderrNotice(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The holder a waiter names; best effort, the lock itself does not depend on it. */
export function lockHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function describeHolder(file: string): string {
  const h = lockHolder(file);
  return h ? `pid ${h.pid} (${h.command}) since ${h.since}` : 'another process';
}

function acquire(file: string, timeoutMs: number, notice: (line: string) => void): Promise<ChildProcess> {
  mkdirSync(path.dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C at the terminal reaches us, not the lock, so the lock
    // stays ours while we clean up and goes only when we are gone.
    const child = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(noticeTimer);
      clearTimeout(deadline);
      if (!err) {
        const holder: Holder = {
          pid: process.pid,
          command: process.argv.slice(1).join(' '),
          since: new Date().toISOString(),
        };
        writeFileSync(file, `${JSON.stringify(holder)}\n`);
        resolve(child);
        return;
      }
      child.kill('SIGKILL');
      reject(err);
    };
    const noticeTimer = setTimeout(
      () => notice(`waiting for the lock ${file}, held by ${describeHolder(file)}`),
      WAIT_NOTICE_MS,
    );
    const deadline = setTimeout(
      () =>
        finish(
          new Error(
            `${file}: still locked after ${Math.round(timeoutMs / 1000)} s by ${describeHolder(file)}`,
          ),
        ),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) finish();
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (err) =>
      finish(new Error(`cannot lock ${file}: flock (util-linux): ${err.message}`)),
    );
    child.once('exit', (code) =>
      finish(new Error(`cannot lock ${file}: flock exited ${code}: ${stderr.trim()}`)),
    );
  });
}

async function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.end();
  await exited;
}
