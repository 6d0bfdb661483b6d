import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { AdminState, LbMember, LoadBalancerInput, MemberStatus } from '../../common/lb';
import type { Remote } from '../remote';
import { shellQuote } from '../ssh/quote';

/** What a driver needs of its LB host: run commands, read and replace files. Tests pass a fake. */
export type LbHost = Pick<Remote, 'run' | 'must' | 'stat' | 'writeFile'> & { target: { name: string } };

/**
 * One load-balancer product, driven over SSH on one LB host. Every change is idempotent (returns
 * whether it changed anything) and is made both at runtime and in the config file, so that a
 * reload or restart of the LB keeps what we did.
 */
export interface LbDriver {
  /** Every member of the pool as the LB sees it now. */
  members(): Promise<MemberStatus[]>;
  setState(member: LbMember, state: AdminState): Promise<boolean>;
  /** Adds the member in the given state (a joining node goes in disabled); a member already there is left as it is. */
  addMember(member: LbMember, state: AdminState): Promise<boolean>;
  removeMember(member: LbMember): Promise<boolean>;
}

export type DriverFactory = (host: LbHost, lb: LoadBalancerInput) => LbDriver;

export function memberMissing(
  host: LbHost,
  lb: LoadBalancerInput,
  member: LbMember,
  pool = lb.backend,
): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${host.target.name}: ${member.name} (${member.address}:${member.port}) is not a member of ${lb.kind} pool ${pool}`,
    FailureTypes.LbMemberMissing,
  );
}

export function refused(host: LbHost, what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${host.target.name}: ${what}`, FailureTypes.LbRefused);
}

/** Reads a config file the driver keeps in step; missing is an error naming the file. */
export async function readConfig(host: LbHost, path: string): Promise<string> {
  const file = await host.stat(path, true);
  if (!file.exists || !file.content)
    throw ApplicationFailure.nonRetryable(
      `${host.target.name}: ${path} does not exist`,
      FailureTypes.CommandFailed,
    );
  return file.content.toString('utf8');
}

/**
 * Replaces a config file, runs the product's config test, and puts the old file back when the
 * test fails, so a bad edit never reaches a reload. One round trip: the new file travels on stdin.
 */
export async function replaceConfigTested(
  host: LbHost,
  path: string,
  before: string,
  after: string,
  testCommand: string,
): Promise<void> {
  if (before === after) return;
  const p = shellQuote(path);
  const script = [
    'set -e',
    `b=$(mktemp -- "$(dirname -- ${p})/.clusterflow.XXXXXX")`,
    `t=$(mktemp -- "$(dirname -- ${p})/.clusterflow.XXXXXX")`,
    `trap 'rm -f -- "$t" "$b"' EXIT`,
    `cp -p -- ${p} "$b"`,
    'base64 -d > "$t"',
    `chmod --reference=${p} "$t"; chown --reference=${p} "$t"`,
    `mv -f -- "$t" ${p}`,
    `if ! out=$( (${testCommand}) 2>&1); then mv -f -- "$b" ${p}; printf '%s\\n' "$out" >&2; exit 3; fi`,
  ].join('\n');
  const r = await host.run(script, { stdin: Buffer.from(after).toString('base64') });
  if (r.exitCode === 3)
    throw ApplicationFailure.nonRetryable(
      `${host.target.name}: ${testCommand} rejected the edited ${path}; the previous file is back: ${r.stderr.trim().slice(0, 800)}`,
      FailureTypes.LbConfigInvalid,
    );
  if (r.exitCode !== 0)
    throw ApplicationFailure.nonRetryable(
      `${host.target.name}: writing ${path} failed: ${r.stderr.trim().slice(0, 800)}`,
      FailureTypes.CommandFailed,
    );
}
