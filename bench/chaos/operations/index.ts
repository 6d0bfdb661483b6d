import { clusterSetup } from './cluster-setup';
import { failover, rejoin, switchover } from './db';
import { licenseActivation } from './license';
import { nodeJoin, nodeRemove, rolling } from './nodes';
import type { ChaosOperation } from './operation';
import { storageExport } from './storage';

// The operations of the matrix, one table entry each: how the cluster is brought to the
// operation's starting point, how it is started, and how its own result is checked against the
// hosts. The cluster-wide invariants (invariants.ts) are checked after every run of every entry.
// Each group of entries has its file here; operation.ts says what an entry provides.

export type { ChaosOperation, OperationContext, Prepared } from './operation';

/** Every operation the matrix knows; adding one is adding an entry here. */
export const OPERATIONS: Record<string, ChaosOperation> = Object.fromEntries(
  [
    rolling,
    switchover,
    failover,
    rejoin,
    storageExport,
    licenseActivation,
    nodeJoin,
    nodeRemove,
    clusterSetup,
  ].map((op) => [op.name, op]),
);
