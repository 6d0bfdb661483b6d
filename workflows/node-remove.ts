import { FailureTypes } from '../common/errors';
import { ApplicationFailure, executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { NodeInfo } from '../common/lb';
import { Phase } from '../common/search-attributes';
import { licenseDeactivate } from './license';
import { storageNode } from './storage';
import { withClusterLock } from './lock';
import { acts, opResult, type NodeOperationResult, type NodeRemoveInput } from './node-operations';
import { NodeRunner } from './node-runner';

/** `node-remove`: drain, disable, stop, out of every LB, report. */
export async function nodeRemove(input: NodeRemoveInput): Promise<NodeOperationResult> {
  const result = opResult(input, 'node-remove', input.removing);
  const node = input.nodes.find((n) => n.name === input.removing) as NodeInfo;
  return withClusterLock(input, 'node-remove', async () => {
    const runner = new NodeRunner(input, 'node-remove');
    const r = runner.report(node, 1);
    result.entries = runner.progress.nodes;
    const lb = input.loadBalancer;
    const inLb = lb ? (await acts.lbMemberViews({ lb, member: node.member })).some((v) => v.present) : false;
    if (lb && inLb) {
      runner.phase(r, 'draining');
      const drained = await runner.drain(node, r, input.settings.maintenance.drainTimeoutSeconds);
      if (drained !== 'drained' && input.settings.maintenance.onDrainTimeout !== 'force') {
        await runner.enable(node, r);
        throw ApplicationFailure.nonRetryable(
          `${node.name}: ${r.sessionsLeft} session(s) left after ${input.settings.maintenance.drainTimeoutSeconds} s; put back, nothing removed (set onDrainTimeout: force to remove anyway)`,
          FailureTypes.DrainTimeout,
        );
      }
      runner.phase(r, 'disabling');
      await runner.setState(node, r, 'disabled');
    }
    const stopped = await acts.runTask({
      host: node.target,
      module: 'service',
      args: { name: input.settings.service, state: 'stopped', enabled: false },
      vars: {},
      check: false,
      diff: false,
    });
    if (stopped.failed)
      throw ApplicationFailure.nonRetryable(
        `${node.name}: stopping ${input.settings.service}: ${stopped.msg}`,
        FailureTypes.ModuleFailed,
      );
    if (stopped.changed) r.changes.push(`${input.settings.service} stopped and disabled`);
    if (lb) {
      const removed = await acts.lbRemoveMember({ lb, member: node.member });
      if (removed.length) r.changes.push(`removed from the LB on ${removed.join(', ')}`);
    }
    if (input.license) {
      const lic = await executeChild(licenseDeactivate, {
        workflowId: `${workflowInfo().workflowId}/license`,
        args: [input.license],
      });
      if (!lic.ok)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: license: ${lic.nodes[0]?.reason}`,
          FailureTypes.LicenseFailed,
        );
      if (lic.changed) r.changes.push('license deactivated (seat freed)');
    }
    if (input.storage) {
      const detached = await executeChild(storageNode, {
        workflowId: `${workflowInfo().workflowId}/storage`,
        args: [{ ...input.storage, node: node.target, detach: true }],
      });
      if (detached.changed) r.changes.push(...detached.changes);
    }
    result.changes = r.changes;
    result.changed = r.changes.length > 0;
    runner.finish(r, 'done');
    upsertSearchAttributes([{ key: Phase, value: 'done' }]);
    return result;
  });
}
