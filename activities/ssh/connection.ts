import type { Duplex } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { Client, type ConnectConfig } from 'ssh2';
import { FailureTypes } from '../../common/errors';
import type { JumpHost } from '../../common/hosts';
import { resolveSecret } from '../secrets';
import { decideHostKey, loadTrust, recordHostKey } from './trust';

/** Network-level errors that mean "not reachable right now" rather than "wrong configuration". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The retryable failure of a host that cannot be reached, whether on connect or on a pooled connection. */
export function unreachable(target: JumpHost, err: Error & { code?: string }): ApplicationFailure {
  const why = err.code && UNREACHABLE_CODES.has(err.code) ? err.code : err.message;
  return ApplicationFailure.retryable(
    `${target.name}: cannot reach ${target.address}:${target.port} (${why})`,
    FailureTypes.HostUnreachable,
  );
}

/** An open connection and the host key its server presented, to judge later tasks' trust by. */
export interface HostConnection {
  client: Client;
  hostKey: Buffer;
}

/**
 * Opens an SSH connection with the host key checked against known_hosts, the way
 * `StrictHostKeyChecking=yes` does. Failures come back as ApplicationFailures whose type tells the
 * workflow whether to retry (unreachable) or stop (key or credentials wrong).
 */
export async function connectToHost(target: JumpHost, sock?: Duplex): Promise<HostConnection> {
  const trust = await loadTrust(target);
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    readyTimeout: target.connectTimeoutMs,
    // A host that went away while its connection sat in the pool is noticed within ~15 s, so the
    // next task reconnects (or is told the host is unreachable) instead of waiting on a dead socket.
    keepaliveInterval: 5_000,
    keepaliveCountMax: 2,
  };
  if (sock) config.sock = sock;
  if (trust.keyTypes.length > 0) config.algorithms = { serverHostKey: trust.keyTypes as never };
  if (target.privateKey) config.privateKey = await resolveSecret(target.privateKey, 'privateKey');
  if (target.password) config.password = (await resolveSecret(target.password, 'password')).toString();
  if (!target.privateKey && !target.password && process.env.SSH_AUTH_SOCK)
    config.agent = process.env.SSH_AUTH_SOCK;

  let refused: ApplicationFailure | undefined;
  let record: string | undefined;
  let hostKey: Buffer | undefined;
  config.hostVerifier = (key: Buffer) => {
    const decision = decideHostKey(target, trust, key);
    if (!decision.ok) refused = decision.failure;
    else {
      hostKey = key;
      record = decision.record;
    }
    return decision.ok;
  };

  const client = new Client();
  return new Promise<HostConnection>((resolve, reject) => {
    client.once('ready', () => {
      const connection = { client, hostKey: hostKey! };
      if (!record) return resolve(connection);
      recordHostKey(target, record).then(
        () => resolve(connection),
        (err: Error) => {
          client.end();
          reject(err);
        },
      );
    });
    // `on`, not `once`: ssh2 may report a second error for one failed connect (a timeout, then
    // "Connection lost before handshake"), and an error nobody listens to crashes the worker.
    // The first decides; the promise ignores the rest.
    client.on('error', (err: Error & { code?: string; level?: string }) => {
      client.end();
      if (refused) reject(refused);
      else if (err.level === 'client-authentication') {
        reject(
          ApplicationFailure.nonRetryable(
            `${target.name}: ${target.user}@${target.address} refused every authentication method offered`,
            FailureTypes.AuthenticationFailed,
          ),
        );
      } else reject(unreachable(target, err));
    });
    client.connect(config);
  });
}
