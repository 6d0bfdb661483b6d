import { Context } from '@temporalio/activity';
import type { Client as TemporalClient } from '@temporalio/client';
import { createDbActivities } from './db';
import type { HostTarget } from '../common/hosts';
import { gatherFacts } from './facts';
import { createLbActivities } from './lb';
import { createLicenseActivities } from './license';
import { createNodeActivities } from './nodes';
import { createRollingActivities } from './rolling';
import type { ActivityHooks } from './hooks';
import { Remote } from './remote';
import { SshPool } from './ssh/pool';
import { createStorageActivities } from './storage';
import { runTask, type TaskInput } from './tasks';

export interface ActivityDeps {
  /** One pool per worker: one SSH connection per host, shared by all activities. */
  pool?: SshPool;
  /** For activities that read Temporal's visibility (failover anti-flapping). */
  temporal?: TemporalClient;
}

/** Inside an activity: heartbeat while a command runs, and hear cancellation. */
function activityHooks(): ActivityHooks {
  try {
    const ctx = Context.current();
    return { signal: ctx.cancellationSignal, onTick: () => ctx.heartbeat() };
  } catch {
    return {};
  }
}

/**
 * runTask's hooks: also a checkpoint kept in the heartbeat's details, which every heartbeat
 * carries on, so a retried attempt of a long module (reboot) resumes where the last one was.
 */
function taskHooks(): ActivityHooks {
  try {
    const ctx = Context.current();
    let saved = ctx.info.heartbeatDetails as unknown;
    const checkpoint = {
      saved,
      save: (details: unknown) => {
        saved = details;
        ctx.heartbeat(details);
      },
    };
    return { signal: ctx.cancellationSignal, onTick: () => ctx.heartbeat(saved), checkpoint };
  } catch {
    return {};
  }
}

/**
 * Everything that touches the network or disk lives behind this factory. The worker builds the
 * shared dependencies once and tests pass their own, the same way.
 */
export function createActivities(deps: ActivityDeps = {}) {
  const pool = deps.pool ?? new SshPool();
  const lb = createLbActivities(pool, activityHooks);
  const nodes = createNodeActivities(pool, activityHooks);
  return {
    gatherFacts: (target: HostTarget) => gatherFacts(new Remote(pool, target, activityHooks())),
    runTask: (input: TaskInput) => runTask(pool, input, taskHooks()),
    ...createDbActivities(pool, activityHooks, deps.temporal),
    ...lb,
    ...nodes,
    ...createRollingActivities(lb, nodes),
    ...createStorageActivities(pool, activityHooks),
    ...createLicenseActivities(pool),
  };
}

export type Activities = ReturnType<typeof createActivities>;
