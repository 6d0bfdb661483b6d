import { ApplicationFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import { endpointOf } from '../common/db';
import { FailureTypes } from '../common/errors';
import type { LbMember } from '../common/lb';
import { acts, causeOf, type ClusterSetupInput, type Verification } from './cluster-steps';

// cluster-setup's last step: the cluster checked as its users will use it.

export /** The whole cluster, as users will use it: through every LB, on every replica, across the shared storage. */
async function verify(input: ClusterSetupInput, primaryNow?: string): Promise<Verification[]> {
  const checks: Verification[] = [];
  const lb = input.nodes?.loadBalancer;
  if (input.nodes && lb) {
    const members: LbMember[] = input.nodes.nodes.map((n) => n.member);
    const reports = await acts.lbServesEveryNode.executeWithOptions(
      { summary: `every LB: HTTP reaches every node` },
      [{ lb, members }],
    );
    for (const rep of reports)
      checks.push({
        check: `HTTP through ${rep.lb}`,
        ok: rep.ok,
        detail: rep.ok
          ? Object.entries(rep.answered)
              .map(([node, n]) => `${node} ×${n}`)
              .join(', ')
          : rep.problems.join('; '),
      });
  }
  const db = input.database;
  if (db && db.members.length > 1) {
    const primary = db.members.find((m) => m.name === (primaryNow ?? db.primary));
    if (!primary)
      throw ApplicationFailure.nonRetryable(
        `database.primary ${db.primary} is not a member`,
        FailureTypes.BadInput,
      );
    const replicas = db.members.filter((m) => m !== primary);
    try {
      const canary = await acts.dbCanary.executeWithOptions(
        { summary: `${primary.name}: a write seen on every replica` },
        [
          {
            primary: endpointOf(primary, db.settings),
            replicas: replicas.map((m) => endpointOf(m, db.settings)),
            name: `clusterflow_verify_${workflowInfo().runId.slice(0, 8)}`,
            timeoutSeconds: 60,
          },
        ],
      );
      checks.push({
        check: 'replication',
        ok: true,
        detail: `written on ${primary.name}, seen on ${Object.entries(canary.replicatedMs)
          .map(([h, ms]) => `${h} in ${ms} ms`)
          .join(', ')}`,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      checks.push({ check: 'replication', ok: false, detail: causeOf(err) });
    }
  }
  const storage = input.storage;
  if (storage && storage.clients.length >= 2) {
    const [writer, reader] = storage.clients;
    try {
      const { ms } = await acts.storageCrossCheck.executeWithOptions(
        { summary: `${writer.name} → ${reader.name}: shared storage` },
        [
          {
            writer,
            reader,
            mountPoint: storage.section.clients.mountPoint,
            user: storage.section.owner.user,
            uid: storage.section.owner.uid,
            token: `verify-${workflowInfo().runId}`,
          },
        ],
      );
      checks.push({
        check: 'shared storage',
        ok: true,
        detail: `written on ${writer.name} as ${storage.section.owner.user}, seen and removed on ${reader.name} in ${ms} ms`,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      checks.push({ check: 'shared storage', ok: false, detail: causeOf(err) });
    }
  }
  return checks;
}
