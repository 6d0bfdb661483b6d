// Replication operations, one per file; what they share (activity options, the progress tracker,
// probes, refusals) is in shared.ts.
export { replicationBootstrap, dbTopology } from './bootstrap';
export { dbSwitchover } from './switchover';
export { dbFailover } from './failover';
export { dbRejoin } from './rejoin';
export { acknowledgeSignal, approveSignal, type DbOperationResult } from './shared';
