import { ApplicationFailure, defineSignal, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  endpointOf,
  type DatabaseInput,
  type DbEndpoint,
  type DbMember,
  type MemberState,
  type Topology,
} from '../../common/db';
import { nonRetryableFailureTypes, FailureTypes } from '../../common/errors';
import type { ResultEnvelope } from '../../common/progress';
import { ProgressBook } from '../progress';

// Replication operations. Each step is one activity against one member; the order of steps is
// what keeps "at most one writable member" true at every moment, so it is spelled out here.

export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Short, so that a worker killed mid-step is noticed within seconds and the step re-run elsewhere.
  heartbeatTimeout: '8 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 6,
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

/** Probes never fail (an unreachable member is a state), so one attempt each, quickly. */
export const probeActs = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 2, initialInterval: '200 milliseconds' },
});

export const approveSignal = defineSignal('approve');
export const acknowledgeSignal = defineSignal('acknowledge');

export interface DbOperationResult extends ResultEnvelope {
  primary?: string;
  previousPrimary?: string;
  /** Per member: what was changed on it (empty: nothing). */
  hosts: Record<string, string[]>;
  notes: string[];
  /** Milliseconds from the start of the workflow at which key moments happened. */
  timings: Record<string, number>;
  topology?: Topology;
}

/** A replication operation's progress (one entry per member) and its result, kept together. */
export function tracker(operation: string, cluster: string, members: DbMember[]) {
  const book = new ProgressBook(
    operation,
    cluster,
    members.map((m) => m.name),
    'member',
  );
  const started = Date.now();
  const result: DbOperationResult = {
    ...book.envelope(false),
    hosts: Object.fromEntries(members.map((m) => [m.name, []])),
    notes: [],
    timings: {},
  };
  return {
    result,
    phase(name: string) {
      if (name === 'done') book.finishAll();
      book.phase(name);
    },
    changed(host: string, what: string) {
      (result.hosts[host] ??= []).push(what);
      result.changed = true;
      book.changed(host, what);
    },
    note(text: string) {
      result.notes.push(text);
      book.note(text);
    },
    mark(moment: string) {
      result.timings[moment] = Date.now() - started;
    },
  };
}

export function secretRefs(input: DatabaseInput): { field: string; ref: string }[] {
  return [
    { field: 'database.admin.password', ref: input.settings.admin.password },
    { field: 'database.replication.password', ref: input.settings.replication.password },
    ...input.applications.map((a, i) => ({ field: `database.applications[${i}].password`, ref: a.password })),
  ];
}

export function memberNamed(input: DatabaseInput, name: string): DbMember {
  return input.members.find((m) => m.name === name) as DbMember;
}

export function endpointFor(input: DatabaseInput, name: string): DbEndpoint {
  return endpointOf(memberNamed(input, name), input.settings);
}

export async function probeAll(
  input: DatabaseInput,
  timeoutMs?: number,
  skip?: string,
): Promise<MemberState[]> {
  return Promise.all(
    input.members
      .filter((m) => m.name !== skip)
      .map((m) => probeActs.dbProbe(endpointOf(m, input.settings), { timeoutMs })),
  );
}

export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FailureTypes.Refused);
}

export function precheckFailed(problems: string[]): never {
  throw ApplicationFailure.nonRetryable(
    `pre-checks failed, nothing was changed:\n- ${problems.join('\n- ')}`,
    FailureTypes.PrecheckFailed,
  );
}

export async function updateAppConfig(
  input: DatabaseInput,
  primary: DbMember,
  t: ReturnType<typeof tracker>,
): Promise<void> {
  if (!input.appConfig.length) return;
  t.phase('app-config');
  for (const hook of input.appConfig) {
    await Promise.all(
      hook.hosts.map(async (host) => {
        const r = await acts.dbUpdateAppConfig({
          hook,
          host,
          primary: { name: primary.name, address: primary.address },
          // A JDBC failover URL lists the primary first, then the others (seed 000).
          failoverHosts: [primary, ...input.members.filter((m) => m.name !== primary.name)].map(
            (m) => `${m.address}:${input.settings.port}`,
          ),
        });
        if (r.changed) t.changed(host.name, `${hook.path}: ${hook.key} -> ${primary.name}`);
      }),
    );
  }
}

/** After a promotion: every other member replicating from the new primary, app nodes told, recorded. */
export async function verifyNewPrimary(
  input: DatabaseInput,
  newPrimary: string,
  others: string[],
  t: ReturnType<typeof tracker>,
): Promise<void> {
  t.phase('verify');
  const source = endpointFor(input, newPrimary).address;
  await Promise.all(
    others.map((name) =>
      acts.dbWaitReplicating({ endpoint: endpointFor(input, name), source, timeoutSeconds: 60 }),
    ),
  );
  t.mark('verified');
  await updateAppConfig(input, memberNamed(input, newPrimary), t);
  t.result.primary = newPrimary;
}

export type Tracker = ReturnType<typeof tracker>;
