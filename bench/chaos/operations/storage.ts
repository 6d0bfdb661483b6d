import { loadSpec } from '../../../client/spec';
import { buildStorageOperation } from '../../../client/storage';
import type { StorageResult } from '../../../workflows/storage';
import { onHost } from '../../../test/integration/helpers';
import { APPS, FILE_SERVERS, MOUNT_POINT } from '../lab';
import { execute, startSpec, type ChaosOperation } from './operation';

// The storage export, checked against what each app node has mounted.

export const storageExport: ChaosOperation = {
  name: 'storage-export',
  reset: `${APPS[2]} unmounted and its fstab entry removed, so each run has a client to mount`,
  async prepare() {
    onHost(APPS[2], `umount ${MOUNT_POINT} 2>/dev/null; sed -i '\\# ${MOUNT_POINT} #d' /etc/fstab`);
    return {};
  },
  start: (ctx) => startSpec(ctx, buildStorageOperation(loadSpec(ctx.lab.spec), 'storage-export')),
  async resultMatches(result) {
    const r = result as StorageResult;
    const problems = r.failures.map((f) => `failure: ${f}`);
    for (const app of APPS) {
      const mounted = onHost(app, `findmnt -n -o FSTYPE ${MOUNT_POINT} || true`) === 'fuse.glusterfs';
      if (r.clients[app]?.mounted !== mounted)
        problems.push(`${app}: result says mounted=${r.clients[app]?.mounted}, host says ${mounted}`);
    }
    return problems;
  },
  async rerun(ctx, prep) {
    return (await execute<StorageResult>(ctx, prep, storageExport)).changes;
  },
  netcutTarget: () => FILE_SERVERS[1],
  drains: false,
};
