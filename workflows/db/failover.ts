import { condition, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { DatabaseInput } from '../../common/db';
import { analyseTopology } from '../../common/db-topology';
import {
  chooseNewPrimary,
  confirmationBudget,
  judgeCheck,
  startConfirmation,
} from '../../common/failover-checks';
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
    // whom the replicas replicate from; until one says, the spec's primary stands in
    let check = startConfirmation(input.members, states, input.primary);
    t.result.previousPrimary = check.primary;
    const budget = confirmationBudget(settings);
    const deadline = Date.now() + budget.seconds * 1000;
    // The budget counts checks, not time: a worker that dies mid-confirmation costs the
    // workflow tens of seconds before the next one goes on, and a clock deadline would refuse a
    // failover the replicas would have confirmed in the next check (the chaos matrix, kill
    // points 4 and 5). Histories from before keep the clock.
    const budgetInChecks = patched('failover-confirm-budget-in-checks');
    // With no replica answering there is nobody to promote, nobody to ask whether the primary is
    // gone, and (at the start) nobody to say who the primary is: the spec's primary is a guess,
    // wrong after any switchover. A blip on the replicas' network (the chaos matrix cuts one for
    // 30 s) refused the failover and left the cluster without a writer. Now it waits for a
    // replica, within its own budget, and learns the primary from it. Histories from before
    // refuse as they did.
    const waitsForReplica = patched('failover-waits-for-a-replica');
    const rules = {
      cluster: input.cluster,
      failover: f,
      checksAllowed: budget.checks,
      deadline,
      budgetInChecks,
      waitsForReplica,
    };
    for (;;) {
      const judged = judgeCheck(check, states, input.members, rules, Date.now());
      check = judged.confirmation;
      t.result.previousPrimary = check.primary;
      if (judged.note) t.note(judged.note);
      if (judged.verdict === 'refuse') refuse(judged.message);
      if (judged.verdict === 'confirmed') break;
      // Checks start `intervalSeconds` apart however long the last one took (a dead host costs a timeout).
      const wait = checkStarted + f.intervalSeconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      checkStarted = Date.now();
      states = await probeAll(input, quick);
    }
    const oldPrimary = check.primary;
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
    const choice = chooseNewPrimary(ready, input.candidate);
    if ('refused' in choice) refuse(choice.refused);
    const { newPrimary, flavour } = choice;
    t.note(`chose ${newPrimary} at ${choice.position}`);
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
