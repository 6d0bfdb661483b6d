import type { PlayResult } from '../common/play';
import type { ClusterSetupResult } from '../workflows/cluster';
import { renderClusterSetup } from './cluster';
import type { ConfigDriftResult } from '../workflows/config-drift';
import type { LicenseResult } from '../workflows/license';
import type { NodeOperationResult, RollingResult } from '../workflows/node-operations';
import type { StorageResult } from '../workflows/storage';
import { renderLicense } from './license';
import { renderDrift, renderNodeResult, renderRolling } from './nodes';
import { renderRecap } from './play-output';
import { renderStorage } from './storage';

// A finished operation's result as the operator reads it, and whether it means exit 1: one place
// for the commands that start operations and for `watch`.

export function renderResult(operation: string | undefined, result: unknown): string {
  if (operation === 'cluster-setup') return renderClusterSetup(result as ClusterSetupResult);
  if (operation === 'rolling-maintenance') return renderRolling(result as RollingResult);
  if (operation === 'node-join' || operation === 'node-remove')
    return renderNodeResult(result as NodeOperationResult);
  if (operation === 'config-drift') return renderDrift(result as ConfigDriftResult);
  if (operation?.startsWith('storage-')) return renderStorage(result as StorageResult);
  if (operation?.startsWith('license-')) return renderLicense(result as LicenseResult);
  if (operation === 'play') return renderRecap(result as PlayResult);
  return JSON.stringify(result, null, 2);
}

/** Exit 1: a failed or aborted node, a node left drained, unfixed drift, or a result not ok. */
export function resultFailed(operation: string | undefined, result: unknown): boolean {
  if (operation === 'rolling-maintenance') {
    const r = result as RollingResult;
    return Boolean(r.aborted) || r.nodes.some((n) => n.outcome === 'failed' || n.outcome === 'left-drained');
  }
  if (operation === 'config-drift') {
    const r = result as ConfigDriftResult;
    return !r.fixed && Object.values(r.drift).some((d) => d.length);
  }
  return (result as { ok?: boolean }).ok === false;
}
