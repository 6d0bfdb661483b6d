import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { Client, type ConnectConfig } from 'ssh2';
import { FailureTypes } from '../../common/errors';
import type { HostTarget } from '../../common/hosts';
import { resolveSecret } from '../secrets';
import {
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
export async function connectToHost(target: HostTarget): Promise<Client> {
  const knownHostsText = await readFile(target.knownHostsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
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
  if (keyTypes.length > 0) config.algorithms = { serverHostKey: keyTypes as never };
  if (target.privateKey) config.privateKey = await resolveSecret(target.privateKey, 'privateKey');
  if (target.password) config.password = (await resolveSecret(target.password, 'password')).toString();
  if (!target.privateKey && !target.password && process.env.SSH_AUTH_SOCK)
    config.agent = process.env.SSH_AUTH_SOCK;

  let rejected: HostKeyVerdict | undefined;
  config.hostVerifier = (key: Buffer) => {
    const verdict = verifyHostKey(entries, names, key, target.knownHostsFile);
    if (!verdict.ok) rejected = verdict;
    return verdict.ok;
  };

  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    client.once('ready', () => resolve(client));
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
