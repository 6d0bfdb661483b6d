// Every workflow the worker serves. Code under workflows/ runs in Temporal's deterministic sandbox:
// no I/O, no clocks, no randomness; activities are imported as types only.
export { facts } from './facts';
export { play, playBatch } from './play';
export { clusterLock } from './lock';
export { replicationBootstrap, dbTopology, dbSwitchover, dbFailover, dbRejoin } from './db';
export { rollingMaintenance } from './rolling-maintenance';
export { nodeJoin } from './node-join';
export { nodeRemove } from './node-remove';
export { configDrift } from './config-drift';
export { storageExport, storageExpand, storageNode } from './storage';
export { licenseActivation, licenseDeactivate, licenseStatus } from './license';
export { clusterSetup } from './cluster';
