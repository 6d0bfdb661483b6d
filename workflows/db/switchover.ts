import { CancellationScope, condition, setHandler } from '@temporalio/workflow';
import type { DatabaseInput, Topology } from '../../common/db';
import { analyseTopology } from '../../common/db-topology';
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

function pickCandidate(topology: Topology, requested?: string): string | undefined {
  if (requested) return requested;
  const healthy = topology.replicas.filter(
    (r) => r.source === topology.primary && r.ioState === 'running' && r.sqlRunning && !r.errant.length,
  );
  return [...healthy].sort((a, b) => (a.lagSeconds ?? 1e9) - (b.lagSeconds ?? 1e9))[0]?.name;
}

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
    const topo = analyseTopology(input.cluster, states);
    const problems: string[] = [];
    for (const s of states) if (!s.reachable) problems.push(`${s.name} is unreachable: ${s.error}`);
    if (!topo.primary || topo.writable.length !== 1)
      problems.push(`no single writable primary (${topo.writable.join(', ') || 'none'})`);
    const oldName = topo.primary;
    const candidate = pickCandidate(topo, input.candidate);
    if (oldName && candidate === oldName) {
      t.note(`${candidate} is already the primary; nothing to do`);
      t.result.primary = candidate;
      t.phase('done');
      return t.result;
    }
    const cand = states.find((s) => s.name === candidate);
    const candLink = topo.replicas.find((r) => r.name === candidate);
    if (!candidate || !cand)
      problems.push(
        `no healthy replica to promote (${topo.replicas.map((r) => `${r.name}: source ${r.source}, io ${r.ioState}, sql ${r.sqlRunning ? 'running' : 'stopped'}, errant ${r.errant.join(' ') || 'none'}`).join('; ')})`,
      );
    else if (!candLink || candLink.source !== oldName)
      problems.push(`${candidate} is not a replica of the primary ${oldName}`);
    else {
      if (candLink.errant.length)
        problems.push(`${candidate} has errant transactions: ${candLink.errant.join(', ')}`);
      if (!cand.logBin || !cand.logReplicaUpdates)
        problems.push(`${candidate} needs log_bin and log_slave_updates to serve the others`);
    }
    for (const r of topo.replicas) {
      if (r.ioState !== 'running' || !r.sqlRunning) problems.push(`${r.name}: replication not running`);
      else if ((r.lagSeconds ?? Infinity) > settings.switchover.maxLagSeconds)
        problems.push(`${r.name} lags ${r.lagSeconds} s (max ${settings.switchover.maxLagSeconds})`);
    }
    const old = states.find((s) => s.name === oldName);
    if (old && (old.oldestTransactionSeconds ?? 0) > settings.switchover.maxTransactionAgeSeconds)
      problems.push(
        `${oldName} has a transaction open for ${old.oldestTransactionSeconds} s (max ${settings.switchover.maxTransactionAgeSeconds})`,
      );
    if (problems.length) precheckFailed(problems);
    const oldPrimary = oldName as string;
    const newPrimary = candidate as string;
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
