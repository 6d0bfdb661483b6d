import { appendFile, readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { Client, type ConnectConfig } from 'ssh2';
import { FailureTypes } from '../../common/errors';
import type { JumpHost } from '../../common/hosts';
import { resolveSecret } from '../secrets';
import {
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
} from './known-hosts';

const verdictFailure: Record<Exclude<HostKeyVerdict, { ok: true }>['kind'], string> = {
  unknown: FailureTypes.HostKeyUnknown,
  changed: FailureTypes.HostKeyChanged,
  revoked: FailureTypes.HostKeyChanged,
};

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

/**
 * Opens an SSH connection with the host key checked against known_hosts, the way
 * `StrictHostKeyChecking=yes` does. Failures come back as ApplicationFailures whose type tells the
 * workflow whether to retry (unreachable) or stop (key or credentials wrong).
 */
export async function connectToHost(target: JumpHost, sock?: Duplex): Promise<Client> {
  const knownHostsText = await readFile(target.knownHostsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && target.hostKeyChecking === 'accept-new') return '';
    throw ApplicationFailure.nonRetryable(
      `known_hosts file ${target.knownHostsFile} cannot be read (${err.code ?? err.message})`,
      FailureTypes.HostKeyUnknown,
    );
  });
  const entries = parseKnownHosts(knownHostsText);
  const names = [
    ...new Set([knownHostsName(target.name, target.port), knownHostsName(target.address, target.port)]),
  ];
  const keyTypes = knownKeyTypes(entries, names);

  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
  };
  if (sock) config.sock = sock;
  if (keyTypes.length > 0) config.algorithms = { serverHostKey: keyTypes as never };
  if (target.privateKey) config.privateKey = await resolveSecret(target.privateKey, 'privateKey');
  if (target.password) config.password = (await resolveSecret(target.password, 'password')).toString();
  if (!target.privateKey && !target.password && process.env.SSH_AUTH_SOCK)
    config.agent = process.env.SSH_AUTH_SOCK;

  let rejected: HostKeyVerdict | undefined;
  let firstSeen: Buffer | undefined;
  config.hostVerifier = (key: Buffer) => {
    const verdict = verifyHostKey(entries, names, key, target.knownHostsFile);
    // Trust on first use only when asked for, only for a host with no key on record, and never
    // for a changed key: that stays a refusal whatever the policy.
    if (!verdict.ok && verdict.kind === 'unknown' && target.hostKeyChecking === 'accept-new') {
      firstSeen = key;
      return true;
    }
    if (!verdict.ok) rejected = verdict;
    return verdict.ok;
  };

  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    client.once('ready', () => {
      if (!firstSeen) return resolve(client);
      const line = `${names.join(',')} ${keyTypeOf(firstSeen)} ${firstSeen.toString('base64')}\n`;
      appendFile(target.knownHostsFile, line, { mode: 0o600 }).then(
        () => resolve(client),
        (err: Error) => {
          client.end();
          reject(
            ApplicationFailure.nonRetryable(
              `${target.name}: cannot record its new host key: ${err.message}`,
              FailureTypes.HostKeyUnknown,
            ),
          );
        },
      );
    });
    client.once('error', (err: Error & { code?: string; level?: string }) => {
      client.end();
      if (rejected && !rejected.ok) {
        reject(
          ApplicationFailure.nonRetryable(
            `${target.name}: ${rejected.message}`,
            verdictFailure[rejected.kind],
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          ApplicationFailure.nonRetryable(
            `${target.name}: ${target.user}@${target.address} refused every authentication method offered`,
            FailureTypes.AuthenticationFailed,
          ),
        );
      } else {
        const why = err.code && UNREACHABLE_CODES.has(err.code) ? err.code : err.message;
        reject(
          ApplicationFailure.retryable(
            `${target.name}: cannot reach ${target.address}:${target.port} (${why})`,
            FailureTypes.HostUnreachable,
          ),
        );
      }
    });
    client.connect(config);
  });
}
