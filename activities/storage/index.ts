import type { Hooks } from '../hooks';
import type { SshPool } from '../ssh/pool';
import { storageContext } from './context';
import { crossCheckActivities } from './cross-check';
import { mountActivities } from './mounts';
import { nfsActivities } from './nfs';
import { ownerActivities } from './owner';
import { glusterActivities } from './volume';

// Shared storage over SSH: the service user's ids everywhere, NFS exports (kernel nfsd or
// nfs-ganesha), client mounts where the kernel can, and the seeds' cross-node check.
// The storage activities, by concern; the workflows decide the order.

export function createStorageActivities(pool: SshPool, hooks: Hooks) {
  const ctx = storageContext(pool, hooks);
  return {
    ...ownerActivities(ctx),
    ...nfsActivities(ctx),
    ...mountActivities(ctx),
    ...glusterActivities(ctx),
    ...crossCheckActivities(ctx),
  };
}
