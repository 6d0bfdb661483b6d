import type { Client } from 'ssh2';

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
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (room > 0) {
      const kept = chunk.subarray(0, room);
      this.chunks.push(kept);
      this.size += kept.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Runs one command line on an open connection and collects its result. */
export function execCommand(client: Client, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  const { timeoutMs = 120_000, maxOutputBytes = 1 << 20 } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const stdout = new CappedBuffer(maxOutputBytes);
      const stderr = new CappedBuffer(maxOutputBytes);
      let exitCode: number | null = null;
      let signal: string | null = null;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        channel.close();
      }, timeoutMs);
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('exit', (code: number | null, sig?: string) => {
        exitCode = code;
        signal = sig ?? null;
      });
      channel.on('close', () => {
        clearTimeout(timer);
        resolve({
          exitCode,
          signal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          stdoutDroppedBytes: stdout.dropped,
          stderrDroppedBytes: stderr.dropped,
          durationMs: Date.now() - started,
          timedOut,
        });
      });
      channel.end(options.stdin);
    });
  });
}
