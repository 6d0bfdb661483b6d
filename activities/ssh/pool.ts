import type { Client } from 'ssh2';
import type { Duplex } from 'node:stream';
import type { HostTarget, JumpHost } from '../../common/hosts';
import { connectToHost } from './connection';

/** A counting semaphore: bounds the channels open at once on one connection. */
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private available: number) {}
  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.available++;
  }
}

interface Entry {
  client: Promise<Client>;
  channels: Semaphore;
  inUse: number;
  idleTimer?: NodeJS.Timeout;
}

export interface SshPoolOptions {
  /** sshd allows 10 sessions per connection by default (MaxSessions); stay under it. */
  maxChannelsPerConnection?: number;
  /** Close a connection nobody used for this long. */
  idleMs?: number;
}

/** Identity of a connection: same user, address, port and path through the same bastion. */
function keyOf(target: JumpHost & { jump?: JumpHost }): string {
  const self = `${target.user}@${target.address}:${target.port}`;
  return target.jump ? `${keyOf(target.jump)}>${self}` : self;
}

/**
 * One SSH connection per host, shared by every activity in the worker, with many channels on it.
 * A dropped connection is forgotten and re-opened on next use; idle ones are closed.
 */
export class SshPool {
  private readonly entries = new Map<string, Entry>();
  private readonly maxChannels: number;
  private readonly idleMs: number;

  constructor(options: SshPoolOptions = {}) {
    this.maxChannels = options.maxChannelsPerConnection ?? 8;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Runs `fn` with a channel slot on the host's connection. */
  async withConnection<T>(target: HostTarget | JumpHost, fn: (client: Client) => Promise<T>): Promise<T> {
    const key = keyOf(target);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { client: this.open(target, key), channels: new Semaphore(this.maxChannels), inUse: 0 };
      this.entries.set(key, entry);
    }
    const current = entry;
    clearTimeout(current.idleTimer);
    current.inUse++;
    try {
      const client = await current.client;
      await current.channels.acquire();
      try {
        return await fn(client);
      } finally {
        current.channels.release();
      }
    } finally {
      current.inUse--;
      if (current.inUse === 0 && this.entries.get(key) === current) {
        current.idleTimer = setTimeout(() => this.drop(key, current), this.idleMs);
        current.idleTimer.unref();
      }
    }
  }

  private async open(target: HostTarget | JumpHost, key: string): Promise<Client> {
    try {
      let sock: Duplex | undefined;
      const jump = 'jump' in target ? target.jump : undefined;
      if (jump) {
        // ProxyJump: a direct-tcpip channel through the bastion carries the target's SSH session.
        sock = await this.withConnection(jump, (bastion) => forward(bastion, target.address, target.port));
      }
      const client = await connectToHost(target, sock);
      const forget = () => {
        const entry = this.entries.get(key);
        if (entry)
          void entry.client.then(
            (c) => c === client && this.entries.delete(key),
            () => undefined,
          );
      };
      client.on('close', forget);
      client.on('error', forget);
      return client;
    } catch (err) {
      this.entries.delete(key);
      throw err;
    }
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry || entry.inUse > 0) return;
    this.entries.delete(key);
    void entry.client.then(
      (c) => c.end(),
      () => undefined,
    );
  }

  /**
   * Forgets a host's connection now. For a host that stopped answering: TCP keepalives would take
   * most of a minute to notice, and a new connection attempt fails fast.
   */
  discard(target: HostTarget | JumpHost): void {
    const key = keyOf(target);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    void entry.client.then(
      (c) => c.destroy(),
      () => undefined,
    );
  }

  /** Number of open (or opening) connections, for tests and metrics. */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map((e) =>
        e.client.then(
          (c) => c.end(),
          () => undefined,
        ),
      ),
    );
  }
}

function forward(bastion: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    bastion.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream))),
  );
}
