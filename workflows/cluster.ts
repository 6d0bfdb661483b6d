import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { endpointOf, type DatabaseInput } from '../common/db';
import { nonRetryableFailureTypes, FailureTypes, innermostCause } from '../common/errors';
import type { LbMember, NodesInput } from '../common/lb';
import type { LicenseInput } from '../common/license';
import { emptyRecap, type HostRecap, type PlayInput } from '../common/play';
import type { StorageInput } from '../common/storage';
import { replicationBootstrap } from './db';
import { licenseActivation } from './license';
import { withClusterLock } from './lock';
import { play } from './play';
import { nodeJoin } from './node-join';
import type { NodeJoinInput } from './node-operations';
import { storageExport } from './storage';
import { detailsTable, showPhase } from './ui';

// `cluster-setup`: the seeds' whole procedure from one spec, each part the same workflow an
// operator can run alone, started here as a child: storage export, replication bootstrap, the
// first node, further nodes in parallel, the LB members, licenses, then a check of the whole.
// It holds the cluster lock for all of it; each child is told so and takes none of its own.
// Every child converges, so a re-run on a converged cluster changes nothing, and a run resumed
// after a crash picks up at the child it was in.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '10 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

export interface ClusterSetupInput {
  cluster: string;
  storage?: StorageInput;
  database?: DatabaseInput;
  /** Every node and the LB; `joins[0]` is the first node (the reference), the rest join in parallel. */
  nodes?: NodesInput & { joins: NodeJoinInput[]; joinConcurrency: number };
  /** Installs the LB itself (its frontend and an empty pool) before the members go in. */
  lbInstall?: PlayInput;
  license?: LicenseInput;
}

export type StepStatus = 'pending' | 'running' | 'ok' | 'changed' | 'failed' | 'skipped';

export interface SetupStep {
  step: string;
  status: StepStatus;
  /** The child workflow that did it, to open in the UI. */
  workflowId?: string;
  /** One line: what the step did. */
  summary: string;
  /** How long it took (workflow time). */
  ms?: number;
}

export interface Verification {
  check: string;
  ok: boolean;
  detail: string;
}

export interface ClusterSetupResult {
  cluster: string;
  operation: 'cluster-setup';
  ok: boolean;
  changed: boolean;
  steps: SetupStep[];
  /** Ansible-style, per host, over every step: changes counted one each, an untouched step as one ok. */
  recap: Record<string, HostRecap>;
  verification: Verification[];
  failures: string[];
}

export const setupProgressQuery = defineQuery<{ steps: SetupStep[] }>('progress');

class Setup {
  readonly result: ClusterSetupResult;
  constructor(input: ClusterSetupInput, names: string[]) {
    this.result = {
      cluster: input.cluster,
      operation: 'cluster-setup',
      ok: true,
      changed: false,
      steps: names.map((step) => ({ step, status: 'pending', summary: '' })),
      recap: {},
      verification: [],
      failures: [],
    };
    setHandler(setupProgressQuery, () => ({ steps: this.result.steps }));
  }

  step(name: string): SetupStep {
    return this.result.steps.find((s) => s.step === name) as SetupStep;
  }

  show(phase: string): void {
    showPhase(phase, [
      detailsTable(
        ['step', 'status', 'what it did'],
        this.result.steps.map((s) => [s.step, s.status, s.summary]),
      ),
    ]);
  }

  /** One host's part in one step: `changes` counted as changed, none as one ok. */
  host(name: string, changes: number, failed = false): void {
    const r = (this.result.recap[name] ??= emptyRecap());
    if (failed) r.failed++;
    else if (changes) r.changed += changes;
    else r.ok++;
  }

  /** Runs one step; a failure is recorded, not thrown, so the recap shows how far the cluster got. */
  async run(
    name: string,
    childId: string | undefined,
    work: (s: SetupStep) => Promise<{ changed: boolean; summary: string; failed?: string }>,
  ): Promise<boolean> {
    const s = this.step(name);
    s.status = 'running';
    s.workflowId = childId;
    this.show(name);
    const started = Date.now();
    try {
      const r = await work(s);
      s.summary = r.summary;
      if (r.failed) throw new Error(r.failed);
      s.status = r.changed ? 'changed' : 'ok';
      if (r.changed) this.result.changed = true;
      return true;
    } catch (err) {
      // A cancelled setup ends cancelled (children cancelled, lock released), not "failed".
      if (isCancellation(err)) throw err;
      s.status = 'failed';
      const message = causeOf(err);
      s.summary ||= message;
      this.result.failures.push(`${name}: ${message}`);
      this.result.ok = false;
      return false;
    } finally {
      s.ms = Date.now() - started;
    }
  }

  skipRest(): void {
    for (const s of this.result.steps) if (s.status === 'pending') s.status = 'skipped';
  }
}

/** The innermost cause's message: a child's failure arrives wrapped as ChildWorkflowFailure. */
const causeOf = (err: unknown): string => innermostCause(err).message;

export async function clusterSetup(input: ClusterSetupInput): Promise<ClusterSetupResult> {
  const id = workflowInfo().workflowId;
  const lockHeldBy = id;
  const { storage, database, nodes, license } = input;
  const lb = nodes?.loadBalancer;
  const names = [
    storage && 'storage export',
    database && 'replication bootstrap',
    nodes && 'first node',
    nodes && nodes.joins.length > 1 && 'further nodes',
    lb && 'load balancer members',
    license && 'license activation',
    'verification',
  ].filter((n): n is string => Boolean(n));
  const setup = new Setup(input, names);
  const r = setup.result;

  return withClusterLock(input, 'cluster-setup', async () => {
    const steps: (() => Promise<boolean>)[] = [];

    if (storage)
      steps.push(() =>
        setup.run('storage export', `${id}/storage-export`, async () => {
          const s = await executeChild(storageExport, {
            workflowId: `${id}/storage-export`,
            args: [{ ...storage, lockHeldBy }],
          });
          for (const [host, h] of Object.entries(s.recap)) setup.host(host, h.changed, h.failed > 0);
          const mounted = Object.values(s.clients).filter((c) => c.mounted).length;
          return {
            changed: s.changed,
            summary: `${storage.section.kind} from ${storage.servers.map((h) => h.name).join(', ')}, mounted on ${mounted}/${storage.clients.length} client(s)`,
            failed: s.ok ? undefined : s.failures.join('; ') || 'storage export not ok',
          };
        }),
      );

    if (database)
      steps.push(() =>
        setup.run('replication bootstrap', `${id}/replication-bootstrap`, async () => {
          const d = await executeChild(replicationBootstrap, {
            workflowId: `${id}/replication-bootstrap`,
            args: [{ ...database, lockHeldBy }],
          });
          for (const m of database.members) setup.host(m.name, d.hosts[m.name]?.length ?? 0);
          return {
            changed: d.changed,
            summary: `primary ${d.primary ?? database.primary}, ${database.members.length - 1} replica(s)`,
          };
        }),
      );

    if (nodes) {
      const join = async (j: NodeJoinInput) => {
        const n = await executeChild(nodeJoin, {
          workflowId: `${id}/join-${j.joining.name}`,
          args: [{ ...j, lockHeldBy, skipLoadBalancer: true }],
        });
        setup.host(n.node, n.changes.length);
        return n;
      };
      const [first, ...further] = nodes.joins;
      steps.push(() =>
        setup.run('first node', `${id}/join-${first.joining.name}`, async () => {
          const n = await join(first);
          return { changed: n.changed, summary: `${n.node}: ${n.changes.length} change(s)` };
        }),
      );
      if (further.length)
        steps.push(() =>
          setup.run('further nodes', undefined, async (s) => {
            const failed: string[] = [];
            const done: string[] = [];
            let changed = false;
            await mapWithLimit(further, nodes.joinConcurrency, async (j) => {
              try {
                const n = await join(j);
                changed ||= n.changed;
                done.push(`${n.node}: ${n.changes.length} change(s)`);
              } catch (err) {
                if (isCancellation(err)) throw err;
                setup.host(j.joining.name, 0, true);
                failed.push(`${j.joining.name}: ${causeOf(err)}`);
              }
              s.summary = `${done.length + failed.length}/${further.length} joined`;
              setup.show('further nodes');
            });
            return {
              changed,
              summary: [...done.sort(), ...failed].join('; '),
              failed: failed.length ? failed.join('; ') : undefined,
            };
          }),
        );
    }

    if (nodes && lb)
      steps.push(() =>
        setup.run('load balancer members', undefined, async () => {
          let changes = 0;
          if (input.lbInstall) {
            const p = await executeChild(play, { workflowId: `${id}/lb-install`, args: [input.lbInstall] });
            for (const [host, h] of Object.entries(p.recap)) {
              if (h.failed || h.unreachable) throw new Error(`${host}: the LB install play failed`);
              setup.host(host, h.changed);
              changes += h.changed;
            }
          }
          // One member at a time: each change rewrites the same LB config file.
          for (const n of nodes.nodes) {
            const member = n.member;
            const added = await acts.lbAddMember.executeWithOptions({ summary: `${n.name}: into the LB` }, [
              { lb, member, state: 'disabled' },
            ]);
            const enabled = await acts.lbEnable.executeWithOptions(
              { summary: `${n.name}: enabled in the LB` },
              [{ lb, member, timeoutMs: 60_000 }],
            );
            for (const host of [...added, ...enabled]) setup.host(host, 1);
            changes += added.length + enabled.length;
          }
          for (const h of lb.hosts) r.recap[h.name] ??= { ...emptyRecap(), ok: 1 };
          return {
            changed: changes > 0,
            summary: `${nodes.nodes.length} member(s) ready in ${lb.kind} on ${lb.hosts.map((h) => h.name).join(', ')}${changes ? ` (${changes} change(s))` : ''}`,
          };
        }),
      );

    if (license)
      steps.push(() =>
        setup.run('license activation', `${id}/license-activation`, async () => {
          const l = await executeChild(licenseActivation, {
            workflowId: `${id}/license-activation`,
            args: [{ ...license, force: false }],
          });
          for (const n of l.nodes)
            setup.host(
              n.node,
              n.outcome === 'activated' ? 1 : 0,
              !['activated', 'already-active'].includes(n.outcome),
            );
          return { changed: l.changed, summary: l.summary, failed: l.ok ? undefined : l.summary };
        }),
      );

    for (const step of steps) {
      if (!(await step())) {
        setup.skipRest();
        setup.show(`failed: ${r.failures[0]}`);
        return r;
      }
    }

    await setup.run('verification', undefined, async () => {
      r.verification = await verify(input);
      const bad = r.verification.filter((v) => !v.ok);
      return {
        changed: false,
        summary: r.verification.map((v) => `${v.check}: ${v.ok ? 'ok' : 'FAILED'}`).join('; '),
        failed: bad.length ? bad.map((v) => `${v.check}: ${v.detail}`).join('; ') : undefined,
      };
    });
    setup.show(r.ok ? (r.changed ? 'done' : 'done, nothing to change') : `failed: ${r.failures[0]}`);
    return r;
  });
}

/** The whole cluster, as users will use it: through every LB, on every replica, across the shared storage. */
async function verify(input: ClusterSetupInput): Promise<Verification[]> {
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
    const primary = db.members.find((m) => m.name === db.primary);
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
