import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { hostOutcomeOf, nonRetryableFailureTypes } from '../common/errors';
import type { FactsInput, FactsResult, HostFactsOutcome, HostStatus } from '../common/facts';
import { ProgressBook } from './progress';

/** Gathers facts from every host in parallel; one host's trouble never stops the others. */
export async function facts(input: FactsInput): Promise<FactsResult> {
  const { gatherFacts } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: {
      maximumAttempts: input.connectAttempts,
      initialInterval: '1 second',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });

  const book = new ProgressBook(
    'facts',
    input.cluster,
    input.hosts.map((h) => h.name),
  );
  book.phase('gathering');

  const outcomes = await mapWithLimit(input.hosts, input.forks, async (host): Promise<HostFactsOutcome> => {
    book.at(host.name, 'gathering');
    let outcome: HostFactsOutcome;
    try {
      outcome = { host: host.name, address: host.address, status: 'ok', facts: await gatherFacts(host) };
    } catch (err) {
      outcome = classifyFailure(host.name, host.address, err);
    }
    book.finish(host.name, outcome.status, outcome.reason);
    return outcome;
  });

  const summary: Record<HostStatus, number> = { ok: 0, unreachable: 0, failed: 0 };
  for (const o of outcomes) summary[o.status]++;
  book.phase('done');
  return { ...book.envelope(false), hosts: outcomes, summary };
}

/** The host's outcome when its facts could not be gathered. */
function classifyFailure(host: string, address: string, err: unknown): HostFactsOutcome {
  return { host, address, ...hostOutcomeOf(err) };
}
