import Table from 'cli-table3';
import type { NodesInput } from '../common/lb';
import type { ClusterSetupInput, ClusterSetupResult } from '../workflows/cluster';
import type { NodeJoinInput } from '../workflows/node-operations';
import { playbook, type StartableOperation } from './nodes';
import { databaseInput, licenseInput, nodesInput, specPath, storageInput, type LoadedSpec } from './spec';

// `cluster-setup`: every section of the spec resolved into one workflow input. Each part is the
// same input its own command would build, so the checks that guard those guard this too.

/**
 * The playbooks cluster-setup runs: the first node's install (`firstInstall`, else `install`),
 * the further nodes' `install`, and the LB's own `install`; each loaded, so a bad one fails here.
 */
export function setupPlaybooks(loaded: LoadedSpec, base: NodesInput = nodesInput(loaded)) {
  const { spec } = loaded;
  const nodes = spec.nodes!;
  const [first, ...further] = [
    base.nodes.find((n) => n.name === base.reference)!,
    ...base.nodes.filter((n) => n.name !== base.reference),
  ];
  const firstFile = nodes.firstInstall ?? nodes.install;
  const load = (file: string | undefined, host: string, field: string) =>
    file ? playbook(loaded, specPath(loaded, file), [host], field) : undefined;
  return {
    first,
    further,
    firstInstall: load(firstFile, first.name, nodes.firstInstall ? 'nodes.firstInstall' : 'nodes.install'),
    installs: further.map((n) => load(nodes.install, n.name, 'nodes.install')),
    lbInstall:
      spec.loadBalancer?.install && base.loadBalancer
        ? playbook(
            loaded,
            specPath(loaded, spec.loadBalancer.install),
            base.loadBalancer.hosts.map((h) => h.name),
            'loadBalancer.install',
          )
        : undefined,
  };
}

export function buildClusterSetup(loaded: LoadedSpec): StartableOperation {
  const { spec } = loaded;
  const input: ClusterSetupInput = { cluster: spec.cluster };
  const hosts: string[] = [];
  if (spec.storage) {
    input.storage = storageInput(loaded);
    hosts.push(...input.storage.servers.map((h) => h.name), ...input.storage.clients.map((h) => h.name));
  }
  if (spec.database) {
    input.database = databaseInput(loaded);
    hosts.push(...input.database.members.map((m) => m.name));
  }
  if (spec.nodes) {
    const base = nodesInput(loaded);
    const p = setupPlaybooks(loaded, base);
    // A join sees the cluster as it is then: the first node alone, its own reference.
    const joinOf = (joining: typeof p.first, install: NodeJoinInput['install']): NodeJoinInput => ({
      ...base,
      nodes: [p.first],
      reference: p.first.name,
      joining,
      install,
    });
    input.nodes = {
      ...base,
      joins: [joinOf(p.first, p.firstInstall), ...p.further.map((n, i) => joinOf(n, p.installs[i]))],
      joinConcurrency: spec.nodes.joinConcurrency,
    };
    input.lbInstall = p.lbInstall;
    hosts.push(...base.nodes.map((n) => n.name), ...(base.loadBalancer?.hosts.map((h) => h.name) ?? []));
  }
  if (spec.license) {
    input.license = licenseInput(loaded);
    hosts.push(...input.license.nodes.map((n) => n.name));
  }
  const parts = [
    input.storage && `${input.storage.section.kind} storage`,
    input.database && `${input.database.members.length}-member database`,
    input.nodes && `${input.nodes.nodes.length} node(s)`,
    input.nodes?.loadBalancer && `${input.nodes.loadBalancer.kind} LB`,
    input.license && 'licenses',
  ].filter(Boolean);
  return {
    operation: 'cluster-setup',
    workflowType: 'clusterSetup',
    cluster: spec.cluster,
    hosts: [...new Set(hosts)],
    input,
    summary: `set up ${spec.cluster}: ${parts.join(', ') || 'nothing (the spec has no sections)'}`,
  };
}

export function renderClusterSetup(result: ClusterSetupResult): string {
  const steps = new Table({
    head: ['step', 'status', 'time', 'what it did'],
    colWidths: [null, null, null, 80],
    wordWrap: true,
  });
  for (const s of result.steps)
    steps.push([s.step, s.status, s.ms === undefined ? '' : `${(s.ms / 1000).toFixed(1)} s`, s.summary]);
  const recap = Object.entries(result.recap)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([host, r]) =>
        `${host.padEnd(16)} : ok=${r.ok}  changed=${r.changed}  unreachable=${r.unreachable}  failed=${r.failed}`,
    );
  return [
    steps.toString(),
    ...result.verification.map((v) => `verify ${v.ok ? 'ok    ' : 'FAILED'} ${v.check}: ${v.detail}`),
    ...result.failures.map((f) => `FAILED: ${f}`),
    '',
    'CLUSTER RECAP',
    ...recap,
    '',
    `cluster-setup ${result.cluster}: ${result.ok ? (result.changed ? 'changed' : 'ok (no change)') : 'FAILED'}`,
  ].join('\n');
}
