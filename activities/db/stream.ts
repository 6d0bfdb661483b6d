import { FailureTypes } from '../../common/errors';
import type { ClientChannel } from 'ssh2';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import type { SshPool } from '../ssh/pool';

function exec(client: import('ssh2').Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))),
  );
}

function finished(channel: ClientChannel, stderr: Buffer[]): Promise<number | null> {
  channel.stderr.on('data', (d: Buffer) => {
    if (stderr.reduce((n, b) => n + b.length, 0) < 64 * 1024) stderr.push(d);
  });
  return new Promise((resolve) => {
    let code: number | null = null;
    channel.on('exit', (c: number | null) => (code = c));
    channel.on('close', () => resolve(code));
  });
}

/**
 * Pipes one host's command output into another host's command, through the worker's memory with
 * back-pressure (nothing lands on the worker's disk). Returns the bytes moved; fails if either side
 * exits non-zero, naming the host and its stderr.
 */
export async function streamBetweenHosts(
  pool: SshPool,
  o: {
    from: HostTarget;
    fromCommand: string;
    to: HostTarget;
    toCommand: string;
    /** Written to the receiving side before the stream (e.g. session settings). */
    prefix?: string;
    onProgress?: () => void;
  },
): Promise<number> {
  return pool.withConnection(o.to, (toClient) =>
    pool.withConnection(o.from, async (fromClient) => {
      const sink = await exec(toClient, o.toCommand);
      const source = await exec(fromClient, o.fromCommand);
      const sinkErr: Buffer[] = [];
      const sourceErr: Buffer[] = [];
      const sinkDone = finished(sink, sinkErr);
      const sourceDone = finished(source, sourceErr);
      let bytes = 0;
      let lastTick = 0;
      source.on('data', (d: Buffer) => {
        bytes += d.length;
        if (o.onProgress && Date.now() - lastTick > 1000) {
          lastTick = Date.now();
          o.onProgress();
        }
      });
      // The sink's stdout must flow too: a channel only closes once both of its sides have ended.
      sink.on('data', (d: Buffer) => sinkErr.length < 16 && sinkErr.push(d));
      if (o.prefix) sink.write(o.prefix);
      source.pipe(sink);
      const [sourceCode, sinkCode] = await Promise.all([sourceDone, sinkDone]);
      if (sourceCode !== 0) {
        sink.close();
        throw ApplicationFailure.nonRetryable(
          `${o.from.name}: ${o.fromCommand.split(' ')[0]} failed (exit ${sourceCode}): ${Buffer.concat(sourceErr).toString().trim().slice(0, 1000)}`,
          FailureTypes.CommandFailed,
        );
      }
      if (sinkCode !== 0) {
        throw ApplicationFailure.nonRetryable(
          `${o.to.name}: loading the stream failed (exit ${sinkCode}): ${Buffer.concat(sinkErr).toString().trim().slice(0, 1000)}`,
          FailureTypes.CommandFailed,
        );
      }
      return bytes;
    }),
  );
}
