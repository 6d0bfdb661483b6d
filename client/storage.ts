import Table from 'cli-table3';
import type { StorageResult } from '../workflows/storage';
import { SpecError, storageInput, type LoadedSpec } from './spec';
import type { StartableOperation } from './nodes';

export const STORAGE_OPERATIONS = {
  'storage-export': 'storageExport',
  'storage-expand': 'storageExpand',
} as const;
export type StorageOperation = keyof typeof STORAGE_OPERATIONS;

export function buildStorageOperation(loaded: LoadedSpec, operation: StorageOperation): StartableOperation {
  const input = storageInput(loaded);
  const { section } = input;
  if (operation === 'storage-expand' && section.kind !== 'glusterfs')
    throw new SpecError(loaded.file, ['storage.kind: storage-expand grows a GlusterFS volume; this is nfs']);
  const what =
    section.kind === 'nfs'
      ? `NFS (${section.nfs!.backend}) from ${input.servers[0].name}`
      : `GlusterFS volume ${section.glusterfs!.volume} on ${input.servers.map((s) => s.name).join(', ')}`;
  return {
    operation,
    workflowType: STORAGE_OPERATIONS[operation],
    cluster: input.cluster,
    hosts: [...new Set([...input.servers, ...input.clients].map((h) => h.name))],
    input,
    summary: `${operation === 'storage-expand' ? 'expand' : 'export'} ${what} to ${input.clients.length} client(s) at ${section.clients.mountPoint}`,
  };
}

export function renderStorage(result: StorageResult): string {
  const table = new Table({ head: ['host', 'ok', 'changed', 'failed', 'mount'] });
  for (const [host, r] of Object.entries(result.recap)) {
    const c = result.clients[host];
    table.push([host, r.ok, r.changed, r.failed, c ? (c.mounted ? 'mounted' : 'NOT MOUNTED') : '']);
  }
  const x = result.crossCheck;
  return [
    table.toString(),
    ...result.changes.map((c) => `changed: ${c}`),
    x.ran
      ? `cross-node check: written on ${x.writer}, seen and removed on ${x.reader} (${x.ms} ms)`
      : `cross-node check: not run: ${x.reason}`,
    ...result.failures.map((f) => `FAILED: ${f}`),
    `${result.operation}: ${result.ok ? (result.changed ? 'changed' : 'ok (no change)') : 'FAILED'}`,
  ].join('\n');
}
