import { CancellationScope, condition, setHandler } from '@temporalio/workflow';
import type { DatabaseInput } from '../../common/db';
import { analyseTopology } from '../../common/db-topology';
import { switchoverPlan } from '../../common/switchover-checks';
import { withClusterLock } from '../lock';
import {
  acts,
  tracker,
  secretRefs,
  endpointFor,
  probeAll,
  refuse,
  precheckFailed,
  verifyNewPrimary,
  approveSignal,
  type DbOperationResult,
} from './shared';

/** Planned switchover: pre-checks, approval, then read-only → catch-up → promote → repoint. */
export async function dbSwitchover(
  input: DatabaseInput & { candidate?: string },
): Promise<DbOperationResult> {
  const t = tracker('db-switchover', input.cluster, input.members);
  let approved = false;
  setHandler(approveSignal, () => void (approved = true));
  return withClusterLock(input, 'db-switchover', async () => {
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const states = await probeAll(input);
    const plan = switchoverPlan(analyseTopology(input.cluster, states), settings.switchover, input.candidate);
    if (plan.alreadyPrimary) {
      t.note(`${plan.candidate} is already the primary; nothing to do`);
      t.result.primary = plan.candidate;
      t.phase('done');
      return t.result;
    }
    if (plan.problems.length) precheckFailed(plan.problems);
    const oldPrimary = plan.oldPrimary as string;
    const newPrimary = plan.candidate as string;
    t.result.previousPrimary = oldPrimary;

    if (settings.switchover.approval.required) {
      t.phase('awaiting-approval');
      const ok = await condition(() => approved, settings.switchover.approval.timeoutSeconds * 1000);
      if (!ok && settings.switchover.approval.onTimeout === 'abort')
        refuse(`no approval within ${settings.switchover.approval.timeoutSeconds} s; nothing was changed`);
      t.note(ok ? 'approved by an operator' : 'approval timed out; proceeding as the spec says');
    }

    // From here until promotion, any failure puts the old primary back in charge.
    let promoted = false;
    try {
      t.phase('read-only');
      t.mark('readOnly');
      await acts.dbSetReadOnly({ endpoint: ep(oldPrimary), readOnly: true });
      t.changed(oldPrimary, 'read_only on');
      const killed = await acts.dbKillClients(ep(oldPrimary));
      if (killed.killed) t.note(`${oldPrimary}: ended ${killed.killed} client sessions`);
      const { gtid } = await acts.dbBinlogPosition(ep(oldPrimary));

      t.phase('catch-up');
      const wait = await acts.dbWaitForPosition({
        endpoint: ep(newPrimary),
        position: gtid,
        timeoutSeconds: settings.switchover.catchUpTimeoutSeconds,
      });
      if (!wait.reached)
        refuse(
          `${newPrimary} did not apply ${gtid} within ${settings.switchover.catchUpTimeoutSeconds} s; rolled back`,
        );
      t.note(`${newPrimary} caught up with ${oldPrimary} at ${gtid} in ${wait.waitedMs} ms`);

      t.phase('promote');
      await acts.dbPromote(ep(newPrimary));
      promoted = true;
      t.mark('promoted');
      t.changed(newPrimary, 'promoted: replication reset, writable');
    } catch (err) {
      if (!promoted) {
        await CancellationScope.nonCancellable(async () => {
          t.phase('rolling-back');
          await acts.dbSetReadOnly({ endpoint: ep(oldPrimary), readOnly: false });
          t.note(`rolled back: ${oldPrimary} is writable again; nothing else changed`);
        });
      }
      throw err;
    }

    // After promotion the new primary is authoritative: we roll forward, never back.
    t.phase('repoint');
    const others = input.members.filter((m) => m.name !== newPrimary);
    const source = { address: ep(newPrimary).address, port: settings.port };
    await Promise.all(
      others.map(async (m) => {
        await acts.dbReplicate({
          replica: ep(m.name),
          source,
          replication: settings.replication,
          mode: m.name === oldPrimary ? 'adopt' : 'keep',
        });
        t.changed(m.name, `replicates from ${newPrimary}`);
      }),
    );
    await verifyNewPrimary(
      input,
      newPrimary,
      others.map((m) => m.name),
      t,
    );
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}
