import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { Client as TemporalClient } from '@temporalio/client';
import type { DbEndpoint } from '../../common/db';
import type { HostTarget } from '../../common/hosts';
import type { ModuleResult } from '../../common/modules';
import { resolveSecret } from '../secrets';
import type { SshPool } from '../ssh/pool';
import { runTask } from '../tasks';
import { withSql, type Sql } from './sql';
import type { Hooks } from '../hooks';

// What every database activity works with: the SSH pool, the activity's hooks, SQL on a member
// (over SSH to its own loopback) and a deadline for members that may have gone away.

export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function secret(ref: string, field: string): Promise<string> {
  return (await resolveSecret(ref, field)).toString().trimEnd();
}

/** Runs one module through the same path as a play task, failing the activity if the module fails. */
export async function module(
  pool: SshPool,
  host: HostTarget,
  name: 'ini' | 'service' | 'properties',
  args: unknown,
  hooks: ReturnType<Hooks> = {},
): Promise<ModuleResult> {
  const result = await runTask(
    pool,
    { host, module: name, args, vars: {}, check: false, diff: false },
    hooks,
  );
  if (result.failed) {
    throw ApplicationFailure.nonRetryable(`${host.name}: ${name}: ${result.msg}`, FailureTypes.ModuleFailed);
  }
  return result;
}

/** A shell command as the database's local superuser (root over the socket), with sudo if we log in as someone else. */
export function asRoot(target: HostTarget, command: string): string {
  return target.user === 'root' ? command : `sudo -n ${command}`;
}

export interface DbContext {
  pool: SshPool;
  hooks: Hooks;
  /** For the visibility query of failover history. */
  temporal?: TemporalClient;
  withMember<T>(endpoint: DbEndpoint, fn: (sql: Sql) => Promise<T>): Promise<T>;
  withinDeadline<T>(target: HostTarget, ms: number, work: Promise<T>): Promise<T>;
}

export function dbContext(pool: SshPool, hooks: Hooks, temporal?: TemporalClient): DbContext {
  /**
   * Runs `work` against a host that may have gone away: past `ms` the host counts as not
   * answering, and its pooled SSH connection is dropped (a vanished host leaves a dead TCP
   * session that keepalives would take most of a minute to notice).
   */
  async function withinDeadline<T>(target: HostTarget, ms: number, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            pool.discard(target);
            reject(new Error(`no answer within ${ms} ms`));
          }, ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    pool,
    hooks,
    temporal,
    withMember: (endpoint, fn) => withSql(pool, endpoint, fn),
    withinDeadline,
  };
}
