import Table from 'cli-table3';
import type { NodesInput } from '../common/lb';
import type { NodeOperationResult, RollingInput, RollingResult } from '../workflows/node-operations';
import type { ConfigDriftResult } from '../workflows/config-drift';
import { loadPlaybook, PlaybookError } from './play';
import type { LicenseInput } from '../common/license';
import type { StorageInput } from '../common/storage';
import { licenseInput, nodesInput, SpecError, specPath, storageInput, type LoadedSpec } from './spec';

// The node operations as the CLI and Schedules start them: one function builds the workflow input
// from a spec, so a scheduled run and a hand-started one are the same thing.

export const NODE_OPERATIONS = {
  'rolling-maintenance': 'rollingMaintenance',
  'node-join': 'nodeJoin',
  'node-remove': 'nodeRemove',
  'config-drift': 'configDrift',
} as const;

export type NodeOperation = keyof typeof NODE_OPERATIONS;

export interface NodeOperationOptions {
  /** rolling-maintenance: the action playbook (default: nodes.maintenance.play). */
  play?: string;
  /** rolling-maintenance: only these nodes. */
  only?: string[];
  /** node-join / node-remove: the node. */
  node?: string;
  /** config-drift: converge the drift. */
  fix?: boolean;
}

export interface StartableOperation {
  operation: string;
  workflowType: string;
  cluster: string;
  hosts: string[];
  input: unknown;
  summary: string;
}

export function playbook(loaded: LoadedSpec, file: string, hosts: string[], field: string) {
  try {
    return loadPlaybook(file, loaded.inventory, {
      check: false,
      diff: false,
      tags: [],
      forks: 50,
      cluster: loaded.spec.cluster,
      limit: hosts,
    });
  } catch (err) {
    // Each of the playbook's problems is one of the spec's, under the field that names it.
    const problems = err instanceof PlaybookError ? err.problems : [(err as Error).message];
    throw new SpecError(
      loaded.file,
      problems.map((p) => `${field}: ${p}`),
    );
  }
}

/** A joining or leaving node's share of the storage and license sections, when they name it. */
function nodeSections(loaded: LoadedSpec, node: string): { storage?: StorageInput; license?: LicenseInput } {
  const storage = loaded.spec.storage && storageInput(loaded);
  const licensed = loaded.spec.license && licenseInput(loaded);
  return {
    storage: storage?.clients.some((c) => c.name === node) ? storage : undefined,
    license: licensed?.nodes.some((n) => n.name === node) ? licenseInput(loaded, [node]) : undefined,
  };
}

/** The validated workflow input for one node operation; every problem is a SpecError before anything runs. */
export function buildNodeOperation(
  loaded: LoadedSpec,
  operation: NodeOperation,
  options: NodeOperationOptions = {},
): StartableOperation {
  const needsNode = operation === 'node-join' || operation === 'node-remove';
  if (needsNode && !options.node) throw new SpecError(loaded.file, [`${operation}: name the node`]);
  const resolved = nodesInput(loaded, { joining: operation === 'node-join' ? options.node : undefined });
  const { joining, ...base } = resolved;
  const names = base.nodes.map((n) => n.name);
  const common = { operation, workflowType: NODE_OPERATIONS[operation], cluster: base.cluster };

  if (operation === 'rolling-maintenance') {
    const unknown = (options.only ?? []).filter((n) => !names.includes(n));
    if (unknown.length)
      throw new SpecError(loaded.file, [`--only: not nodes of this cluster: ${unknown.join(', ')}`]);
    const nodes = options.only?.length
      ? base.nodes.filter((n) => options.only?.includes(n.name))
      : base.nodes;
    const play =
      options.play ?? (base.settings.maintenance.play && specPath(loaded, base.settings.maintenance.play));
    const input: RollingInput = {
      ...base,
      nodes,
      action: play
        ? playbook(
            loaded,
            play,
            nodes.map((n) => n.name),
            'nodes.maintenance.play',
          )
        : undefined,
    };
    return {
      ...common,
      hosts: nodes.map((n) => n.name),
      input,
      summary: `rolling maintenance of ${nodes.length} node(s) behind ${base.loadBalancer?.kind ?? 'no LB'}${play ? ` running ${play.split('/').pop()}` : ''}`,
    };
  }
  if (operation === 'node-join') {
    const install =
      base.settings.install &&
      playbook(loaded, specPath(loaded, base.settings.install), [options.node as string], 'nodes.install');
    return {
      ...common,
      hosts: [options.node as string],
      input: { ...base, joining, install, ...nodeSections(loaded, options.node as string) },
      summary: `join ${options.node} to ${base.cluster} (reference ${base.reference})`,
    };
  }
  if (operation === 'node-remove') {
    if (!names.includes(options.node as string))
      throw new SpecError(loaded.file, [
        `node: "${options.node}" is not one of the nodes (${names.join(', ')})`,
      ]);
    return {
      ...common,
      hosts: [options.node as string],
      input: { ...base, removing: options.node, ...nodeSections(loaded, options.node as string) },
      summary: `remove ${options.node} from ${base.cluster}`,
    };
  }
  if (!base.settings.config)
    throw new SpecError(loaded.file, ['nodes.config: the spec names no server config to compare']);
  return {
    ...common,
    hosts: names,
    input: { ...base, fix: Boolean(options.fix) } satisfies NodesInput & { fix: boolean },
    summary: `${options.fix ? 'fix' : 'check'} config drift of ${names.length} node(s) against ${base.reference}`,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function renderRolling(result: RollingResult): string {
  const table = new Table({
    head: ['node', 'batch', 'outcome', 'drain', 'action', 'health', 'LB', 'total', 'changes / reason'],
    colWidths: [null, null, null, null, null, null, null, null, 60],
    wordWrap: true,
  });
  for (const r of result.nodes)
    table.push([
      r.node,
      r.batch,
      r.outcome === 'left-drained' ? 'LEFT DRAINED' : (r.outcome ?? r.phase),
      seconds(r.timings.drainMs),
      seconds(r.timings.actionMs),
      seconds(r.timings.healthMs),
      seconds(r.timings.lbMs),
      seconds(r.timings.totalMs),
      [r.reason, ...r.changes].filter(Boolean).join('\n'),
    ]);
  return [table.toString(), ...result.notes].join('\n');
}

export function renderNodeResult(result: NodeOperationResult): string {
  return [
    `${result.operation} ${result.node}: ${result.changed ? 'changed' : 'ok (no change)'}`,
    ...result.changes.map((c) => `  changed: ${c}`),
    ...result.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

export function renderDrift(result: ConfigDriftResult): string {
  const table = new Table({ head: ['node', 'key', `reference (${result.reference})`, 'node'] });
  for (const [node, diffs] of Object.entries(result.drift))
    for (const d of diffs) table.push([node, d.key, d.reference ?? '(absent)', d.node ?? '(absent)']);
  const drifted = Object.values(result.drift).some((d) => d.length);
  return [
    drifted ? table.toString() : `no drift from ${result.reference}`,
    drifted && result.fixed ? 'fixed: converged to the reference' : '',
    ...Object.entries(result.synchronized ?? {}).map(([node, at]) => `${node}: synchronized ${at}`),
    ...result.notes,
  ]
    .filter(Boolean)
    .join('\n');
}
