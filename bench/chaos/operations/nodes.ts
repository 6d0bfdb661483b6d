import { buildNodeOperation } from '../../../client/nodes';
import { loadSpec } from '../../../client/spec';
import type { NodeOperationResult, RollingResult } from '../../../workflows/node-operations';
import { onHost } from '../../../test/integration/helpers';
import { up } from '../../../lab/hosts';
import { lbMembers } from '../invariants';
import { APPS, SPARE } from '../lab';
import { startSpec, type ChaosOperation, type OperationContext } from './operation';

// The node operations: rolling maintenance over the app nodes, and the spare node joined and
// removed again.

export const rolling: ChaosOperation = {
  name: 'rolling-maintenance',
  reset: 'none: the run leaves the cluster converged',
  prepare: async () => ({ since: String(Math.floor(Date.now() / 1000) - 1) }),
  start: (ctx) => startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.spec), 'rolling-maintenance')),
  // A node the run failed (e.g. unreachable through a netcut) is a truthful report, not a broken
  // one: what must hold is that "done" and "not-run" say what the hosts show.
  async resultMatches(result, _ctx, prep) {
    const r = result as RollingResult;
    const problems: string[] = [];
    // the maintenance play stamps the time on each node it ran on
    for (const n of r.nodes) {
      const stamp = Number(onHost(n.node, 'cat /var/lib/cfapp-last-maintenance 2>/dev/null || echo 0'));
      const ran = stamp >= Number(prep.since);
      if (n.outcome === 'done' && !ran) problems.push(`${n.node} reported done but its action did not run`);
      if (n.outcome === 'not-run' && ran) problems.push(`${n.node} reported not-run but its action ran`);
    }
    return problems;
  },
  summary: (result) => {
    const r = result as RollingResult;
    const notDone = r.nodes.filter((n) => n.outcome !== 'done');
    return [
      ...notDone.map((n) => `${n.node} ${n.outcome ?? n.phase}${n.reason ? ` (${n.reason})` : ''}`),
      ...(r.aborted ? [`aborted: ${r.aborted}`] : []),
    ].join('; ');
  },
  rerun: { notApplicable: 'the maintenance action runs on every run by design' },
  netcutTarget: () => APPS[1],
  leftOut: (result) =>
    Object.fromEntries(
      (result as RollingResult).leftDrained.map((n) => [
        n,
        (result as RollingResult).nodes.find((x) => x.node === n)?.reason ?? 'left drained',
      ]),
    ),
  drains: true,
};

const startJoin = (ctx: OperationContext) =>
  startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.spec), 'node-join', { node: SPARE }));
const startRemove = (ctx: OperationContext) =>
  startSpec(ctx, buildNodeOperation(loadSpec(ctx.lab.specWithSpare), 'node-remove', { node: SPARE }));
const nodeChanges = (r: unknown) => (r as NodeOperationResult).changes;

export const nodeJoin: ChaosOperation = {
  name: 'node-join',
  reset: `${SPARE} removed again by node-remove after the checks`,
  async prepare(ctx) {
    await up([SPARE]);
    if (SPARE in lbMembers()) await ctx.settle(() => startRemove(ctx));
    return {};
  },
  start: (ctx) => startJoin(ctx),
  async resultMatches(result) {
    const r = result as NodeOperationResult;
    const active = onHost(SPARE, 'systemctl is-active cfapp || true');
    return r.node === SPARE && active === 'active' ? [] : [`${r.node} joined, ${SPARE}'s cfapp is ${active}`];
  },
  rerun: async (ctx) => nodeChanges(await (await startJoin(ctx)).result()),
  netcutTarget: () => SPARE,
  drains: false,
  nodes: () => [...APPS, SPARE],
  restore: async (ctx) => void (await ctx.settle(() => startRemove(ctx))),
};

export const nodeRemove: ChaosOperation = {
  name: 'node-remove',
  reset: `${SPARE} joined by node-join first`,
  async prepare(ctx) {
    await up([SPARE]);
    if (!(SPARE in lbMembers())) await ctx.settle(() => startJoin(ctx));
    return {};
  },
  start: (ctx) => startRemove(ctx),
  async resultMatches(result) {
    const r = result as NodeOperationResult;
    const active = onHost(SPARE, 'systemctl is-active cfapp || true');
    return r.node === SPARE && active !== 'active'
      ? []
      : [`${r.node} removed, ${SPARE}'s cfapp is ${active}`];
  },
  rerun: async (ctx) => nodeChanges(await (await startRemove(ctx)).result()),
  netcutTarget: () => SPARE,
  drains: true,
};
