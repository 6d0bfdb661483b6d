import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { FailureTypes, nonRetryableFailureTypes } from '../common/errors';
import type { FactsInput, FactsResult, HostFactsOutcome, HostStatus } from '../common/facts';
import { Phase } from '../common/search-attributes';

export interface FactsProgress {
  total: number;
  done: number;
  hosts: Record<string, HostStatus | 'gathering' | 'pending'>;
}

export const factsProgressQuery = defineQuery<FactsProgress>('progress');

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

  const progress: FactsProgress = {
    total: input.hosts.length,
    done: 0,
    hosts: Object.fromEntries(input.hosts.map((h) => [h.name, 'pending' as const])),
  };
  setHandler(factsProgressQuery, () => progress);
  upsertSearchAttributes([{ key: Phase, value: 'gathering' }]);

  const outcomes = await mapWithLimit(input.hosts, input.forks, async (host): Promise<HostFactsOutcome> => {
    progress.hosts[host.name] = 'gathering';
    let outcome: HostFactsOutcome;
    try {
      outcome = { host: host.name, address: host.address, status: 'ok', facts: await gatherFacts(host) };
    } catch (err) {
      outcome = classifyFailure(host.name, host.address, err);
    }
    progress.hosts[host.name] = outcome.status;
    progress.done++;
    return outcome;
  });

  const summary: Record<HostStatus, number> = { ok: 0, unreachable: 0, failed: 0 };
  for (const o of outcomes) summary[o.status]++;
  upsertSearchAttributes([{ key: Phase, value: 'done' }]);
  return { cluster: input.cluster, hosts: outcomes, summary };
}

/** Ansible's distinction: a host we could not reach is `unreachable`; anything else that went wrong is `failed`. */
function classifyFailure(host: string, address: string, err: unknown): HostFactsOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const type = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const status: HostStatus = type === FailureTypes.HostUnreachable ? 'unreachable' : 'failed';
  return { host, address, status, reason, failureType: type };
}
