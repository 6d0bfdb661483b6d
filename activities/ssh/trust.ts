import { appendFile, readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type FailureType } from '../../common/errors';
import type { JumpHost } from '../../common/hosts';
import {
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts';

/** One task's host-key trust: its known_hosts file as read now, and the names it looks the host up by. */
export interface HostTrust {
  entries: KnownHostEntry[];
  names: string[];
  /** Key types on record for the host, so the server is asked for a key we can check. */
  keyTypes: string[];
}

const verdictFailure: Record<Exclude<HostKeyVerdict, { ok: true }>['kind'], FailureType> = {
  unknown: FailureTypes.HostKeyUnknown,
  changed: FailureTypes.HostKeyChanged,
  revoked: FailureTypes.HostKeyChanged,
};

/** The target's known_hosts text; a missing file is empty only under accept-new. */
export async function readKnownHosts(target: JumpHost): Promise<string> {
  return readFile(target.knownHostsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && target.hostKeyChecking === 'accept-new') return '';
    throw ApplicationFailure.nonRetryable(
      `known_hosts file ${target.knownHostsFile} cannot be read (${err.code ?? err.message})`,
      FailureTypes.HostKeyUnknown,
    );
  });
}

/** The trust `text` (a known_hosts file's content) gives for reaching `target`. */
export function trustFrom(target: JumpHost, text: string): HostTrust {
  const entries = parseKnownHosts(text);
  const names = [
    ...new Set([knownHostsName(target.name, target.port), knownHostsName(target.address, target.port)]),
  ];
  return { entries, names, keyTypes: knownKeyTypes(entries, names) };
}

export async function loadTrust(target: JumpHost): Promise<HostTrust> {
  return trustFrom(target, await readKnownHosts(target));
}

export type HostKeyDecision =
  | {
      ok: true;
      /** known_hosts line to append first (accept-new, host seen for the first time) */ record?: string;
    }
  | { ok: false; failure: ApplicationFailure };

/**
 * Whether `presented` may be used for `target` under `trust`: the one decision a fresh connection
 * and a pooled one both make, so both refuse with the same type and message.
 */
export function decideHostKey(target: JumpHost, trust: HostTrust, presented: Buffer): HostKeyDecision {
  const verdict = verifyHostKey(trust.entries, trust.names, presented, target.knownHostsFile);
  if (verdict.ok) return { ok: true };
  // Trust on first use only when asked for, only for a host with no key on record, and never for
  // a changed key: that stays a refusal whatever the policy.
  if (verdict.kind === 'unknown' && target.hostKeyChecking === 'accept-new')
    return {
      ok: true,
      record: `${trust.names.join(',')} ${keyTypeOf(presented)} ${presented.toString('base64')}\n`,
    };
  return {
    ok: false,
    failure: ApplicationFailure.nonRetryable(
      `${target.name}: ${verdict.message}`,
      verdictFailure[verdict.kind],
    ),
  };
}

/** Appends an accepted key to the target's known_hosts, as OpenSSH's accept-new does. */
export async function recordHostKey(target: JumpHost, line: string): Promise<void> {
  try {
    await appendFile(target.knownHostsFile, line, { mode: 0o600 });
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `${target.name}: cannot record its new host key: ${(err as Error).message}`,
      FailureTypes.HostKeyUnknown,
    );
  }
}
