import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';

// `delegate_to: localhost` and `ansible_connection: local`: the command runs on the worker, in a
// shell of its own. It looks like an SSH connection to the one exec primitive (execCommand), so
// process groups, timeouts, cancellation and output caps work exactly as on a remote host.

class LocalChannel extends EventEmitter {
  readonly stderr = new EventEmitter();
  constructor(private readonly child: ReturnType<typeof spawn>) {
    super();
    child.stdout!.on('data', (c: Buffer) => this.emit('data', c));
    child.stderr!.on('data', (c: Buffer) => this.stderr.emit('data', c));
    child.on('exit', (code, signal) => this.emit('exit', code, signal ?? undefined));
    child.on('close', () => this.emit('close'));
    child.on('error', () => this.emit('close'));
    // A command that does not read its stdin: writing to it must not crash the worker.
    child.stdin!.on('error', () => undefined);
  }
  write(data: string | Buffer): boolean {
    return this.child.stdin!.write(data);
  }
  end(data?: string | Buffer): void {
    this.child.stdin!.end(data);
  }
  close(): void {
    this.child.kill('SIGKILL');
  }
  resume(): void {}
}

/** A stand-in for an ssh2 client whose `exec` runs `sh -c` on this machine. */
export function localClient(): Client {
  const client = {
    exec(command: string, cb: (err: Error | undefined, channel: LocalChannel) => void) {
      const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const channel = new LocalChannel(child);
      (channel.stderr as EventEmitter & { resume?: () => void }).resume = () => undefined;
      cb(undefined, channel);
      return client;
    },
  };
  return client as unknown as Client;
}
