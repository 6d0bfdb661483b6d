import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import { Remote } from '../remote';
import type { SshPool } from '../ssh/pool';
import type { Hooks } from '../hooks';

// What every storage activity works with: a Remote on a host through the shared SSH pool, the
// activity's hooks, and a poll that waits for the storage to settle while it heartbeats.

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export interface StorageContext {
  hooks: Hooks;
  remote(t: HostTarget): Remote;
  waitFor(r: Remote, command: string, done: (out: string) => boolean, tries?: number): Promise<string>;
}

export function storageContext(pool: SshPool, hooks: Hooks): StorageContext {
  const remote = (t: HostTarget) => new Remote(pool, t, hooks());

  /** Polls a read-only command until `done` says so (returning its output); each poll heartbeats. */
  async function waitFor(
    r: Remote,
    command: string,
    done: (out: string) => boolean,
    tries = 300,
  ): Promise<string> {
    let last = '';
    for (let i = 0; i < tries; i++) {
      last = (await r.run(command)).stdout;
      if (done(last)) return last;
      hooks().onTick?.();
      await sleep(1000);
    }
    throw ApplicationFailure.nonRetryable(
      `${r.target.name}: still waiting after ${tries} s for: ${command}\n${last.slice(0, 800)}`,
      FailureTypes.StorageNotReady,
    );
  }

  return { hooks, remote, waitFor };
}
