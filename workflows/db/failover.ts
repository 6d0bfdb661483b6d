import { condition, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { DatabaseInput, MemberState } from '../../common/db';
import { analyseTopology, positionForErrantCheck } from '../../common/db-topology';
import { errantGtids, mostAdvanced } from '../../common/gtid';
import { withClusterLock } from '../lock';
import {
  acts,
  tracker,
  endpointFor,
  probeAll,
  refuse,
  verifyNewPrimary,
  acknowledgeSignal,
  type DbOperationResult,
} from './shared';

/**
 * Unplanned failover: confirm the primary is gone (from the worker and from the replicas' IO
 * threads, several times), choose the most advanced replica, let the others catch up from it,
 * fence the old primary, promote, repoint.
 */
export async function dbFailover(input: DatabaseInput & { candidate?: string }): Promise<DbOperationResult> {
  const t = tracker('db-failover', input.cluster, input.members);
  let acknowledged = false;
  setHandler(acknowledgeSignal, () => void (acknowledged = true));
  return withClusterLock(input, 'db-failover', async () => {
    const { settings } = input;
    const f = settings.failover;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('anti-flapping');
    const recent = await acts.dbRecentFailovers({
      cluster: input.cluster,
      withinSeconds: f.antiFlappingSeconds,
      excludeWorkflowId: workflowInfo().workflowId,
    });
    if (recent.length) {
      t.note(
        `a failover of ${input.cluster} completed at ${recent[0].closedAt} (${recent[0].workflowId}); waiting for an operator to acknowledge`,
      );
      t.phase('awaiting-acknowledgement');
      if (!(await condition(() => acknowledged, f.acknowledgeTimeoutSeconds * 1000)))
        refuse(
          `refused: ${recent[0].workflowId} failed ${input.cluster} over within the last ${f.antiFlappingSeconds} s and nobody acknowledged`,
        );
      t.note('acknowledged by an operator');
    }

    t.phase('confirm-down');
    // The primary is whoever the replicas replicate from.
    // Failover probes give up quickly: a member that does not answer within this is down for now.
    const quick = Math.max(1000, Math.min(2000, f.intervalSeconds * 1000));
    let checkStarted = Date.now();
    let states = await probeAll(input, quick);
    const byAddress = new Map(input.members.map((m) => [m.address, m.name]));
    const sourceOf = (of: MemberState[]) =>
      of
        .flatMap((s) => (s.reachable && s.replica ? [byAddress.get(s.replica.sourceHost)] : []))
        .find(Boolean);
    // whom the replicas replicate from; until one says, the spec's primary stands in
    let knownPrimary = sourceOf(states);
    let oldPrimary = knownPrimary ?? input.primary;
    t.result.previousPrimary = oldPrimary;
    const budgetSeconds = f.checks * f.intervalSeconds + settings.replication.netTimeoutSeconds * 2 + 5;
    const deadline = Date.now() + budgetSeconds * 1000;
    // The budget counts checks, not time: a worker that dies mid-confirmation costs the
    // workflow tens of seconds before the next one goes on, and a clock deadline would refuse a
    // failover the replicas would have confirmed in the next check (the chaos matrix, kill
    // points 4 and 5). Histories from before keep the clock.
    const inChecks = patched('failover-confirm-budget-in-checks');
    const checksAllowed = Math.ceil(budgetSeconds / f.intervalSeconds);
    // With no replica answering there is nobody to promote, nobody to ask whether the primary is
    // gone, and (at the start) nobody to say who the primary is: the spec's primary is a guess,
    // wrong after any switchover. A blip on the replicas' network (the chaos matrix cuts one for
    // 30 s) refused the failover and left the cluster without a writer. Now it waits for a
    // replica, within its own budget, and learns the primary from it. Histories from before
    // refuse as they did.
    const waitsForReplica = patched('failover-waits-for-a-replica');
    let checksMade = 1;
    let checksWaiting = 0;
    let waitingSince: number | undefined;
    let confirmations = 0;
    let lastDoubt = '';
    for (;;) {
      if (waitsForReplica && !knownPrimary) {
        knownPrimary = sourceOf(states);
        if (knownPrimary) oldPrimary = t.result.previousPrimary = knownPrimary;
      }
      const old = states.find((s) => s.name === oldPrimary) as MemberState;
      if (old.reachable && old.readOnly === false)
        refuse(
          `refused: the primary ${oldPrimary} answers and is writable; use db switchover for a planned change`,
        );
      const answering = states.filter((s) => s.reachable && s.name !== oldPrimary);
      if (waitsForReplica && (!knownPrimary || !answering.length)) {
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince >= f.replicaWaitSeconds * 1000)
          refuse(
            `refused: no replica of ${input.cluster} answered for ${f.replicaWaitSeconds} s (failover.replicaWaitSeconds); nobody to promote, nothing was changed`,
          );
        // the worker's misses count again, from none, once a replica answers with it
        confirmations = 0;
        checksWaiting++;
        lastDoubt = 'no replica answers';
      } else {
        if (waitingSince !== undefined)
          t.note(`no replica answered for ${Math.round((Date.now() - waitingSince) / 1000)} s; waited`);
        waitingSince = undefined;
        const stillConnected = states.filter(
          (s) =>
            s.reachable &&
            s.replica?.ioState === 'running' &&
            byAddress.get(s.replica.sourceHost) === oldPrimary,
        );
        // The worker must miss the primary in `checks` consecutive checks, and at the last of them
        // no replica may still receive from it: a primary only the worker cannot see is a
        // partition between the two, not a dead primary.
        if (old.reachable) {
          confirmations = 0;
          lastDoubt = `${oldPrimary} answers (read-only)`;
        } else confirmations++;
        if (stillConnected.length)
          lastDoubt = `${stillConnected.map((s) => s.name).join(', ')} still receive from ${oldPrimary}`;
        if (confirmations >= f.checks && !stillConnected.length) break;
        if (inChecks ? checksMade - checksWaiting >= checksAllowed : Date.now() > deadline)
          refuse(
            `refused: could not confirm ${oldPrimary} is down in ${checksMade} checks (${lastDoubt || `missed by ${confirmations} consecutive checks of the ${f.checks} needed`}); nothing was changed`,
          );
      }
      // Checks start `intervalSeconds` apart however long the last one took (a dead host costs a timeout).
      const wait = checkStarted + f.intervalSeconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      checkStarted = Date.now();
      states = await probeAll(input, quick);
      checksMade++;
    }
    t.mark('confirmed');
    t.note(
      `${oldPrimary} confirmed down by ${f.checks} consecutive checks from the worker and by every replica`,
    );

    t.phase('choose');
    const replicas = states.filter((s) => s.reachable && s.name !== oldPrimary);
    if (!replicas.length) refuse('refused: no reachable replica to promote');
    await Promise.all(
      replicas.map((r) =>
        acts.dbWaitRelayApplied({ endpoint: ep(r.name), timeoutSeconds: f.relayApplyTimeoutSeconds }),
      ),
    );
    states = await probeAll(input, quick, oldPrimary);
    const ready = states.filter((s) => s.reachable);
    const flavour = ready[0].flavour ?? 'mariadb';
    const ranked = ready.map((s) => ({ name: s.name, position: s.gtidExecuted ?? '' }));
    const best = mostAdvanced(flavour, ranked) as { name: string; position: string };
    let newPrimary = best.name;
    if (input.candidate && input.candidate !== best.name) {
      const asked = ranked.find((r) => r.name === input.candidate);
      if (!asked) refuse(`refused: ${input.candidate} is not a reachable replica`);
      const missing = errantGtids(
        flavour,
        positionForErrantCheck(states.find((s) => s.name === best.name) as MemberState),
        positionForErrantCheck(states.find((s) => s.name === input.candidate) as MemberState),
      );
      if (missing.length)
        refuse(
          `refused: ${input.candidate} lacks ${missing.join(', ')} that ${best.name} has; promoting it would lose them`,
        );
      newPrimary = input.candidate;
    }
    t.note(`chose ${newPrimary} at ${best.position}`);
    t.mark('chosen');

    // The others catch up from the chosen one while the old primary is fenced; both finish
    // before anyone is made writable.
    t.phase('catch-up-and-fence');
    const source = { address: ep(newPrimary).address, port: settings.port };
    const others = ready.filter((s) => s.name !== newPrimary);
    const [fence] = await Promise.all([
      acts.dbFence({
        endpoint: ep(oldPrimary),
        mode: f.fence,
        service: settings.config.service ?? (flavour === 'mariadb' ? 'mariadb' : 'mysql'),
      }),
      ...others.map(async (s) => {
        await acts.dbReplicate({
          replica: ep(s.name),
          source,
          replication: settings.replication,
          mode: 'keep',
        });
        t.changed(s.name, `replicates from ${newPrimary}`);
      }),
    ]);
    t.mark('caughtUpAndFenced');
    t.note(`fence ${oldPrimary}: ${fence.how}`);
    if (fence.fenced) t.changed(oldPrimary, `fenced: ${fence.how}`);

    t.phase('promote');
    await acts.dbPromote(ep(newPrimary));
    t.mark('promoted');
    t.changed(newPrimary, 'promoted: replication reset, writable');

    await verifyNewPrimary(
      input,
      newPrimary,
      others.map((s) => s.name),
      t,
    );
    // The old primary was just found down; probing it again would only cost another timeout.
    t.result.topology = analyseTopology(input.cluster, [
      ...(await probeAll(input, quick, oldPrimary)),
      {
        name: oldPrimary,
        address: ep(oldPrimary).address,
        reachable: false,
        error: `failed over (${fence.how})`,
      },
    ]);
    t.note(`${oldPrimary} stays out until \`clusterflow db rejoin ${oldPrimary}\``);
    t.phase('done');
    return t.result;
  });
}
