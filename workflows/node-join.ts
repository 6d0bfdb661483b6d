import { FailureTypes } from '../common/errors';
import { ApplicationFailure, executeChild, workflowInfo } from '@temporalio/workflow';
import type { NodeInfo } from '../common/lb';
import type { TaskReport } from '../common/play';
import { licenseActivation } from './license';
import { play } from './play';
import { storageNode } from './storage';
import { withClusterLock } from './lock';
import { acts, memberFor, opResult, type NodeOperationResult, type NodeJoinInput } from './node-operations';
import { ProgressBook } from './progress';

/** `: task "X": its message`, for the first task that failed or could not reach the node. */
function failedTask(tasks: TaskReport[], host: string): string {
  for (const t of tasks) {
    const h = t.hosts.find((r) => r.host === host && (r.status === 'failed' || r.status === 'unreachable'));
    if (h) return `: task "${t.task}": ${h.result?.msg ?? h.reason ?? h.status}`;
  }
  return '';
}

/**
 * `node-join`, seed 000's "further nodes": the pre-cluster test (every problem at once), then
 * packages, service user, the app, its config derived from the reference node, start, health, and
 * into every LB — disabled first, enabled only once healthy.
 */
export async function nodeJoin(input: NodeJoinInput): Promise<NodeOperationResult> {
  const { joining: node, settings } = input;
  const result = opResult(input, 'node-join', node.name);
  const book = new ProgressBook('node-join', input.cluster, [node.name], 'node');
  result.entries = book.entries;
  const did = (what: string, changed: boolean | string[] | number) => {
    if (Array.isArray(changed) ? changed.length : changed) {
      const change = Array.isArray(changed) ? `${what} on ${changed.join(', ')}` : what;
      result.changes.push(change);
      result.changed = true;
      book.changed(node.name, change);
    }
  };
  const phase = (p: string) => {
    if (p === 'done') book.finishAll();
    else book.at(node.name, p);
    book.phase(`${node.name}: ${p}`);
  };
  return withClusterLock(input, 'node-join', async () => {
    phase('pre-cluster test');
    const reference = input.nodes.find((n) => n.name === input.reference) as NodeInfo;
    const problems = await acts.joinPrecheck({
      node: node.target,
      nodeName: node.name,
      reference: reference.target,
      peers: [...input.nodes.filter((n) => n.name !== node.name), ...(input.loadBalancer?.hosts ?? [])].map(
        (p) => ({ name: p.name, address: 'member' in p ? p.member.address : p.address }),
      ),
      port: settings.port,
      service: settings.service,
      user: settings.user,
      database: input.database,
    });
    if (problems.length)
      throw ApplicationFailure.nonRetryable(
        `${node.name} cannot join:\n  ${problems.join('\n  ')}`,
        FailureTypes.PrecheckFailed,
        problems,
      );

    phase('packages and service user');
    const task = (module: 'package' | 'group' | 'user' | 'service', args: unknown) =>
      acts.runTask({ host: node.target, module, args, vars: {}, check: false, diff: false });
    const must = async (what: string, module: 'package' | 'group' | 'user' | 'service', args: unknown) => {
      const r = await task(module, args);
      if (r.failed)
        throw ApplicationFailure.nonRetryable(`${node.name}: ${what}: ${r.msg}`, FailureTypes.ModuleFailed);
      did(what, r.changed);
    };
    if (settings.packages.length)
      await must(`packages ${settings.packages.join(' ')}`, 'package', { name: settings.packages });
    if (settings.user) {
      const u = settings.user;
      await must(`group ${u.group ?? u.name}`, 'group', { name: u.group ?? u.name, gid: u.gid });
      await must(`user ${u.name}`, 'user', { name: u.name, uid: u.uid, group: u.group ?? u.name });
    }
    if (input.storage) {
      phase('shared storage');
      const attached = await executeChild(storageNode, {
        workflowId: `${workflowInfo().workflowId}/storage`,
        args: [{ ...input.storage, node: node.target, detach: false }],
      });
      did(`shared storage: ${attached.changes.join('; ')}`, attached.changed);
      if (!attached.ok)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: shared storage: ${attached.failures.join('; ')}`,
          FailureTypes.StorageUnavailable,
        );
    }
    if (input.install) {
      phase('installing');
      const played = await executeChild(play, {
        workflowId: `${workflowInfo().workflowId}/install`,
        args: [input.install],
      });
      const recap = played.recap[node.name];
      if (!recap || recap.failed || recap.unreachable)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: the install play failed${failedTask(played.tasks, node.name)}`,
          FailureTypes.ModuleFailed,
        );
      did(`install play: ${recap.changed} task(s) changed`, recap.changed);
    }
    let configChanged = false;
    // The first node of a new cluster is its own reference: its config comes from its install play.
    if (settings.config && reference.name !== node.name) {
      phase('server config');
      configChanged = await acts.deriveConfig({
        reference: reference.target,
        node: node.target,
        address: node.member.address,
        config: settings.config,
      });
      did(`${settings.config.path} derived from ${reference.name}`, configChanged);
    }
    phase('starting');
    await must(`${settings.service} ${configChanged ? 'restarted' : 'started'}`, 'service', {
      name: settings.service,
      state: configChanged ? 'restarted' : 'started',
      enabled: true,
    });
    phase('health');
    const gate = await acts.healthGate({
      node: node.target,
      address: node.member.address,
      port: settings.port,
      from: input.loadBalancer?.hosts[0] ?? node.target,
      health: settings.health,
    });
    if (!gate.healthy)
      throw ApplicationFailure.nonRetryable(
        `${node.name} is not healthy after the join (${gate.last}); it was not added to the LB`,
        FailureTypes.Unhealthy,
      );
    const lb = input.skipLoadBalancer ? undefined : input.loadBalancer;
    if (lb) {
      phase('into the load balancer');
      const member = await memberFor(lb, node, settings.config);
      did('added to the LB (disabled)', await acts.lbAddMember({ lb, member, state: 'disabled' }));
      did('enabled in the LB', await acts.lbEnable({ lb, member, timeoutMs: 30_000 }));
    }
    if (input.license) {
      phase('license');
      const lic = await executeChild(licenseActivation, {
        workflowId: `${workflowInfo().workflowId}/license`,
        args: [{ ...input.license, force: false }],
      });
      const n = lic.nodes[0];
      if (!lic.ok)
        throw ApplicationFailure.nonRetryable(
          `${node.name}: license: ${n?.reason}`,
          FailureTypes.LicenseFailed,
        );
      did(`license activated (expires ${n?.expires ?? 'unknown'})`, lic.changed);
    }
    phase('done');
    return result;
  });
}
