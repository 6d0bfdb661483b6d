import { executeChild, isCancellation, workflowInfo } from '@temporalio/workflow';
import { mapWithLimit } from '../common/concurrency';
import { emptyRecap } from '../common/play';
import { acts, causeOf, Setup, type ClusterSetupInput, type ClusterSetupResult } from './cluster-steps';
import { verify } from './cluster-verify';
import { replicationBootstrap } from './db';
import { licenseActivation } from './license';
import { withClusterLock } from './lock';
import { play } from './play';
import { nodeJoin } from './node-join';
import { memberFor, type NodeJoinInput } from './node-operations';
import { storageExport } from './storage';

// `cluster-setup`: the seeds' whole procedure from one spec, each part the same workflow an
// operator can run alone, started here as a child: storage export, replication bootstrap, the
// first node, further nodes in parallel, the LB members, licenses, then a check of the whole.
// It holds the cluster lock for all of it; each child is told so and takes none of its own.
// Every child converges, so a re-run on a converged cluster changes nothing, and a run resumed
// after a crash picks up at the child it was in.

export type {
  ClusterSetupInput,
  ClusterSetupResult,
  SetupStep,
  StepStatus,
  Verification,
} from './cluster-steps';

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

    // After a switchover the primary is another member than the spec's; verification writes there.
    let primaryNow: string | undefined;
    if (database)
      steps.push(() =>
        setup.run('replication bootstrap', `${id}/replication-bootstrap`, async () => {
          const d = await executeChild(replicationBootstrap, {
            workflowId: `${id}/replication-bootstrap`,
            args: [{ ...database, lockHeldBy }],
          });
          for (const m of database.members) setup.host(m.name, d.hosts[m.name]?.length ?? 0);
          primaryNow = d.primary;
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
            const member = await memberFor(lb, n, nodes.settings.config);
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
      r.verification = await verify(input, primaryNow);
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
