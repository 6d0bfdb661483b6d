import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget, JumpHost } from '../../common/hosts';
import { resolveSecret } from '../secrets';
import { connectToHost, unreachable, type HostConnection } from './connection';
import { ConnectionLost } from './exec';
import { decideHostKey, readKnownHosts, recordHostKey, trustFrom } from './trust';

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
  connection: Promise<HostConnection>;
  channels: Semaphore;
  inUse: number;
  idleTimer?: NodeJS.Timeout;
  /** The socket closed (host gone, keepalive timeout, sshd killed): nothing more can run on it. */
  closed?: boolean;
  /** known_hosts text last found to trust the presented key: an unchanged file needs no new decision. */
  trustedText?: string;
  /** What the credentials of the chain were when it opened (credentialDigest). */
  credential: string;
}

export interface SshPoolOptions {
  /** sshd allows 10 sessions per connection by default (MaxSessions); stay under it. */
  maxChannelsPerConnection?: number;
  /** Close a connection nobody used for this long. */
  idleMs?: number;
}

/**
 * The identity a connection is shared under: who logs in where (user, address, port, the bastion
 * chain), with which credential (key or password reference, else the agent) and under which
 * host-key trust (known_hosts file, checking mode, the name the host is looked up by). Two tasks
 * that differ in any of these never share an authenticated session. JSON, so no field can run
 * into the next.
 */
export function keyOf(target: JumpHost & { jump?: JumpHost }): string {
  const self = JSON.stringify({
    user: target.user,
    address: target.address,
    port: target.port,
    name: target.name,
    key: target.privateKey ?? null,
    password: target.password ?? null,
    // Without a key or password the agent authenticates; which agent is part of the identity too.
    agent: target.privateKey || target.password ? null : (process.env.SSH_AUTH_SOCK ?? null),
    knownHosts: target.knownHostsFile,
    checking: target.hostKeyChecking,
  });
  return target.jump ? `${keyOf(target.jump)}>${self}` : self;
}

/** What ssh2 says about a call on a connection whose socket is gone. */
const LOST = /^(No response from server|Not connected|Keepalive timeout)$/;
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE']);

function connectionLost(err: unknown, entry: Entry): err is Error {
  if (!(err instanceof Error) || err instanceof ApplicationFailure) return false;
  return (
    err instanceof ConnectionLost ||
    Boolean(entry.closed) ||
    LOST.test(err.message) ||
    LOST_CODES.has((err as { code?: string }).code ?? '')
  );
}

/**
 * A hash of what the chain's credential references hold now. The references are the identity's
 * name; their content is the identity: a key file replaced under the same path (a rotated key)
 * must not keep using the session the old key opened. Read per use (a small local read); only the
 * hash is kept, in memory.
 */
export async function credentialDigest(target: JumpHost & { jump?: JumpHost }): Promise<string> {
  const hash = createHash('sha256');
  for (let hop: (JumpHost & { jump?: JumpHost }) | undefined = target; hop; hop = hop.jump) {
    hash.update(hop.privateKey ? await resolveSecret(hop.privateKey, 'privateKey') : '');
    hash.update('\0');
    hash.update(hop.password ? await resolveSecret(hop.password, 'password') : '');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * One SSH connection per identity, shared by every activity in the worker, with many channels on
 * it. Each use re-checks the server's host key against the caller's own known_hosts (a local
 * read, no round trip), so a pooled connection is refused exactly when a fresh one would be. A
 * dropped connection is forgotten and re-opened on next use; idle ones are closed.
 */
export class SshPool {
  private readonly entries = new Map<string, Entry>();
  private readonly maxChannels: number;
  private readonly idleMs: number;

  constructor(options: SshPoolOptions = {}) {
    this.maxChannels = options.maxChannelsPerConnection ?? 8;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Runs `fn` with a channel slot on the connection of the target's identity. */
  async withConnection<T>(target: HostTarget | JumpHost, fn: (client: Client) => Promise<T>): Promise<T> {
    const key = keyOf(target);
    const credential = await credentialDigest(target);
    let entry = this.entries.get(key);
    if (entry && entry.credential !== credential) {
      // Out of the pool; tasks still running on it finish, the last one ends it.
      this.entries.delete(key);
      if (entry.inUse === 0) {
        clearTimeout(entry.idleTimer);
        this.endWhenOpen(entry);
      }
      entry = undefined;
    }
    if (!entry) {
      const opening: Entry = {
        connection: undefined!,
        channels: new Semaphore(this.maxChannels),
        inUse: 0,
        credential,
      };
      opening.connection = this.open(target, key, opening);
      entry = opening;
      this.entries.set(key, entry);
    }
    const current = entry;
    clearTimeout(current.idleTimer);
    current.inUse++;
    try {
      const { client, hostKey } = await current.connection;
      await this.checkTrust(target, key, current, hostKey);
      await current.channels.acquire();
      try {
        return await fn(client);
      } catch (err) {
        if (!connectionLost(err, current)) throw err;
        // Typed as a failed connect would be, so the task is retried and reported unreachable.
        this.discardEntry(key, current);
        throw unreachable(target, err);
      } finally {
        current.channels.release();
      }
    } finally {
      current.inUse--;
      if (current.inUse === 0) {
        if (this.entries.get(key) === current) {
          current.idleTimer = setTimeout(() => this.drop(key, current), this.idleMs);
          current.idleTimer.unref();
        } else {
          // Out of the pool while in use (its trust failed, or it was lost): end it with its last user.
          this.endWhenOpen(current);
        }
      }
    }
  }

  /**
   * The host-key decision for this caller, against its known_hosts as it is now and the key the
   * server presented when the connection opened: the same decision and failure as a fresh connect.
   */
  private async checkTrust(target: JumpHost, key: string, entry: Entry, hostKey: Buffer): Promise<void> {
    // Parsing a long file of hashed names costs milliseconds; an unchanged one was judged already.
    const text = await readKnownHosts(target);
    if (text === entry.trustedText) return;
    const decision = decideHostKey(target, trustFrom(target, text), hostKey);
    if (!decision.ok) {
      // Nobody of this identity may use it any more; users already past this check finish first.
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw decision.failure;
    }
    if (decision.record) await recordHostKey(target, decision.record);
    else entry.trustedText = text;
  }

  private async open(target: HostTarget | JumpHost, key: string, entry: Entry): Promise<HostConnection> {
    try {
      let sock: Duplex | undefined;
      const jump = 'jump' in target ? target.jump : undefined;
      if (jump) {
        // ProxyJump: a direct-tcpip channel through the bastion carries the target's SSH session.
        sock = await this.withConnection(jump, (bastion) => forward(bastion, target.address, target.port));
      }
      const connection = await connectToHost(target, sock);
      const forget = () => {
        entry.closed = true;
        if (this.entries.get(key) === entry) this.entries.delete(key);
      };
      connection.client.on('close', forget);
      connection.client.on('error', forget);
      return connection;
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry || entry.inUse > 0) return;
    this.entries.delete(key);
    this.endWhenOpen(entry);
  }

  private endWhenOpen(entry: Entry): void {
    void entry.connection.then(
      (c) => c.client.end(),
      () => undefined,
    );
  }

  private discardEntry(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    void entry.connection.then(
      (c) => c.client.destroy(),
      () => undefined,
    );
  }

  /**
   * Forgets a host's connection now. For a host that stopped answering: keepalives take several
   * seconds to notice, and a new connection attempt fails fast.
   */
  discard(target: HostTarget | JumpHost): void {
    const key = keyOf(target);
    const entry = this.entries.get(key);
    if (entry) this.discardEntry(key, entry);
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
        e.connection.then(
          (c) => c.client.end(),
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
