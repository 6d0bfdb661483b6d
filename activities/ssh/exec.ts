import type { Client } from 'ssh2';
import { shellQuote } from './quote';

/** What one remote command did, as plain data. */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Bytes dropped beyond the cap, so a truncated output is never mistaken for a whole one. */
  stdoutDroppedBytes: number;
  stderrDroppedBytes: number;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** Run as another user through `sudo` (or `su`); `password` is the resolved sudo password, if one is needed. */
  become?: BecomeAs;
  /** Aborting kills the remote command's whole process group. */
  signal?: AbortSignal;
}

const PGID_MARKER = '__CLUSTERFLOW_PGID=';

export interface BecomeAs {
  user: string;
  password?: string;
  method?: 'sudo' | 'su';
}

/**
 * The command line actually sent: the command runs in a session of its own (`setsid -w`), whose
 * id it reports first on stderr, so that a timeout or cancellation can kill the whole process
 * group rather than leave it orphaned; then `sudo` when becoming another user.
 */
export function wrapCommand(command: string, become?: BecomeAs): string {
  const inner = `printf '${PGID_MARKER}%s\\n' "$$" >&2; exec sh -c "$1"`;
  const grouped = `setsid -w sh -c ${shellQuote(inner)} sh ${shellQuote(command)}`;
  return becomeWrap(grouped, become);
}

function becomeWrap(commandLine: string, become?: BecomeAs): string {
  if (!become) return `exec ${commandLine}`;
  // su: from root it asks nothing; a password would need a terminal, which the activity refuses.
  if (become.method === 'su')
    return `exec su -s /bin/sh -c ${shellQuote(commandLine)} ${shellQuote(become.user)}`;
  // -n: never prompt (a missing password fails at once); -S -p '': read the password from stdin.
  const sudo = become.password ? "sudo -S -p ''" : 'sudo -n';
  return `exec ${sudo} -H -u ${shellQuote(become.user)} -- sh -c ${shellQuote(commandLine)}`;
}

class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = Math.max(this.cap - this.size, 0);
    const kept = chunk.subarray(0, room);
    if (kept.length) {
      this.chunks.push(kept);
      this.size += kept.length;
    }
    this.dropped += chunk.length - kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Kills a remote process group: TERM first, KILL after a grace period. Best effort. */
function killGroup(client: Client, pgid: number, become?: BecomeAs): Promise<void> {
  // pkill -g: dash's kill builtin cannot take a negative (process group) id.
  const script = `pkill -TERM -g ${pgid}; sleep 1; pkill -KILL -g ${pgid}; true`;
  return new Promise((resolve) => {
    try {
      client.exec(becomeWrap(`sh -c ${shellQuote(script)}`, become), (err, channel) => {
        if (err) return resolve();
        if (become?.password) channel.write(`${become.password}\n`);
        channel.on('close', () => resolve());
        channel.resume();
        channel.stderr.resume();
      });
    } catch {
      resolve();
    }
  });
}

/** The connection under a running command went away: the host is unreachable, as Ansible says. */
export class ConnectionLost extends Error {
  override name = 'ConnectionLost';
}

/** Runs one command line on an open connection and collects its result. */
export function execCommand(client: Client, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  const { timeoutMs = 120_000, maxOutputBytes = 1 << 20 } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    client.exec(wrapCommand(command, options.become), (err, channel) => {
      if (err) return reject(err);
      const stdout = new CappedBuffer(maxOutputBytes);
      const stderr = new CappedBuffer(maxOutputBytes);
      let pgid: number | undefined;
      let stderrHead = '';
      let exitCode: number | null = null;
      let signal: string | null = null;
      let timedOut = false;
      let cancelled = false;

      // A stop requested before the wrapper reported its process group waits for that report,
      // so a command cancelled in its first milliseconds is still killed, not orphaned.
      let stopRequested = false;
      const kill = async () => {
        if (pgid) await killGroup(client, pgid, options.become);
        channel.close();
      };
      const stop = async (why: 'timeout' | 'cancel') => {
        if (why === 'timeout') timedOut = true;
        else cancelled = true;
        stopRequested = true;
        if (pgid !== undefined) await kill();
        // No report at all (a wrapper that never started): closing the channel is all we can do.
        else setTimeout(() => channel.close(), 2000).unref();
      };
      const timer = setTimeout(() => void stop('timeout'), timeoutMs);
      const onAbort = () => void stop('cancel');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();

      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        if (pgid !== undefined) return stderr.push(chunk);
        // The first stderr line is the process group id from the wrapper; the command's own stderr follows.
        stderrHead += chunk.toString('utf8');
        const newline = stderrHead.indexOf('\n');
        if (newline < 0) return;
        const first = stderrHead.slice(0, newline);
        if (first.startsWith(PGID_MARKER)) {
          pgid = Number(first.slice(PGID_MARKER.length));
          stderr.push(Buffer.from(stderrHead.slice(newline + 1)));
        } else {
          pgid = 0; // no marker (sudo refused before the wrapper ran): keep everything
          stderr.push(Buffer.from(stderrHead));
        }
        if (stopRequested) void kill();
      });
      channel.on('exit', (code: number | null, sig?: string) => {
        exitCode = code;
        signal = sig ?? null;
      });
      channel.on('close', () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        // sshd always reports how a command ended; a channel closed with no word of it is a
        // connection that died under the command (host gone, sshd killed), not a command that failed.
        if (exitCode === null && signal === null && !timedOut && !cancelled) {
          return reject(new ConnectionLost('the connection was lost while the command ran'));
        }
        if (pgid === undefined && stderrHead) stderr.push(Buffer.from(stderrHead));
        resolve({
          exitCode,
          signal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          stdoutDroppedBytes: stdout.dropped,
          stderrDroppedBytes: stderr.dropped,
          durationMs: Date.now() - started,
          timedOut,
          cancelled,
        });
      });
      if (options.become?.password) channel.write(`${options.become.password}\n`);
      channel.end(options.stdin);
    });
  });
}
