import { buildClusterSetup } from '../../../client/cluster';
import { loadSpec } from '../../../client/spec';
import type { ClusterSetupResult } from '../../../workflows/cluster';
import { DBS, freshHosts } from '../lab';
import { execute, startSpec, type ChaosOperation } from './operation';

// The whole cluster set up on really fresh hosts, checked by its own verification.

export const clusterSetup: ChaosOperation = {
  name: 'cluster-setup',
  reset: 'really fresh hosts: every cx host removed and created again',
  async prepare(ctx) {
    await freshHosts(ctx.lab.licensing);
    return {};
  },
  start: (ctx) => startSpec(ctx, buildClusterSetup(loadSpec(ctx.lab.spec))),
  async resultMatches(result) {
    const r = result as ClusterSetupResult;
    return [
      ...r.failures.map((f) => `failure: ${f}`),
      ...r.verification.filter((v) => !v.ok).map((v) => `verification ${v.check}: ${v.detail}`),
    ];
  },
  async rerun(ctx, prep) {
    const r = await execute<ClusterSetupResult>(ctx, prep, clusterSetup);
    return r.steps.filter((s) => s.status !== 'ok').map((s) => `${s.step}: ${s.status}`);
  },
  netcutTarget: () => DBS[1],
  drains: false,
};
