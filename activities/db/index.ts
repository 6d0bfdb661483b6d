import type { Client as TemporalClient } from '@temporalio/client';
import type { Hooks } from '../hooks';
import type { SshPool } from '../ssh/pool';
import { accountActivities } from './accounts';
import { appConfigActivities } from './app-config';
import { dbContext } from './context';
import { failoverHistoryActivities } from './failover-history';
import { fencingActivities } from './fencing';
import { probeActivities } from './probe';
import { replicationActivities } from './replication';
import { roleActivities } from './roles';
import { serverActivities } from './server';

// The database activities, by concern. Each step of a replication workflow is one of these against
// one member; the workflows decide the order.

export { probe } from './probe';
export type { AccountSpec } from './accounts';
export type { ReplicateInput } from './replication';

export function createDbActivities(pool: SshPool, hooks: Hooks, temporal?: TemporalClient) {
  const ctx = dbContext(pool, hooks, temporal);
  return {
    ...probeActivities(ctx),
    ...serverActivities(ctx),
    ...accountActivities(ctx),
    ...replicationActivities(ctx),
    ...roleActivities(ctx),
    ...fencingActivities(ctx),
    ...appConfigActivities(ctx),
    ...failoverHistoryActivities(ctx),
  };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
