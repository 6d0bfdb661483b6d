import { defineSignal, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableFailureTypes } from '../common/errors';
import type { LbMember, LoadBalancerInput, NodeConfig, NodeInfo, NodesInput } from '../common/lb';
import type { LicenseInput } from '../common/license';
import type { StorageInput } from '../common/storage';
import type { HostRecap, PlayInput } from '../common/play';
import type { OperationProgress, ProgressEntry, ResultEnvelope } from '../common/progress';
import type { UnderLock } from './lock';

// What every node operation shares: activity options, the progress and result shapes, the
// operator's signals.

export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

/**
 * The node as its LB is to know it. An Apache route the spec reads from the node's own config
 * (`routeFromConfig`: a key of nodes.config, or `{ path, key }`) is read there, once the node has
 * started; otherwise the spec's member name.
 */
export async function memberFor(
  lb: LoadBalancerInput,
  node: NodeInfo,
  config: NodeConfig | undefined,
): Promise<LbMember> {
  const from = lb.kind === 'apache' ? lb.apache.routeFromConfig : undefined;
  const source = typeof from === 'string' ? (config ? { path: config.path, key: from } : undefined) : from;
  if (!source) return node.member;
  const route = await acts.nodeConfigValue({ node: node.target, ...source });
  return { ...node.member, name: route };
}

export type NodePhase =
  | 'waiting'
  | 'pre-check'
  | 'draining'
  | 'disabling'
  | 'maintenance'
  | 'health-gate'
  | 'enabling'
  | 'finished';

export type NodeOutcome = 'done' | 'failed' | 'skipped' | 'left-drained' | 'not-run';

/** A node's entry in the progress (its `name` is the node), with what a trip out of the LB adds. */
export interface NodeReport extends ProgressEntry {
  node: string;
  batch: number;
  phase: NodePhase;
  outcome?: NodeOutcome;
  reason?: string;
  /** Sessions the LBs and the node still reported at the last drain poll. */
  sessionsLeft?: number;
  changes: string[];
  /** Milliseconds spent: whole node, waiting for sessions, the action, health checks, LB changes. */
  timings: { totalMs: number; drainMs: number; actionMs: number; healthMs: number; lbMs: number };
}

/** The progress every node operation answers: the common shape, its entries also as `nodes`. */
export interface RollingProgress extends OperationProgress {
  batch: number;
  batches: number;
  paused: boolean;
  aborting: boolean;
  /** What the run waits for before its next batch: the window or an approval. */
  waitingFor?: string;
  nodes: NodeReport[];
  log: string[];
}

export interface RollingResult extends ResultEnvelope {
  /** The entries, by their operator's name. */
  nodes: NodeReport[];
  /** Nodes deliberately left out of the LB (policy leave-drained): a human must look at them. */
  leftDrained: string[];
  aborted?: string;
  recap: Record<string, HostRecap>;
  notes: string[];
}

export interface RollingInput extends NodesInput {
  /** The maintenance action, run on one node at a time while it is out of the LB. */
  action?: PlayInput;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const abortSignal = defineSignal<[string?]>('abort');
export const skipSignal = defineSignal<[string]>('skip');

export const messageOf = (err: unknown) =>
  (err as { cause?: Error })?.cause?.message ?? (err instanceof Error ? err.message : String(err));

/** The sessions a node still holds, counted on the node when the LB cannot (nginx). */
export function sessionsCommand(input: NodesInput): string | undefined {
  if (input.settings.sessions) return input.settings.sessions.command;
  if (input.loadBalancer?.kind === 'nginx')
    return `ss -Htn state established '( sport = :${input.settings.port} )' | wc -l`;
  return undefined;
}

export interface NodeOperationResult extends ResultEnvelope {
  node: string;
  changes: string[];
  notes: string[];
}

export function opResult(input: NodesInput, operation: string, node: string): NodeOperationResult {
  return { cluster: input.cluster, operation, node, changed: false, entries: [], changes: [], notes: [] };
}

export interface NodeJoinInput extends NodesInput, UnderLock {
  /** The node to add; not (yet) one of `nodes`. */
  joining: NodeInfo;
  /** Installs the application on the joining node. */
  install?: PlayInput;
  /** The shared storage, when the node is one of its clients: mounted before the app is installed. */
  storage?: StorageInput;
  /** The node's license, when the spec licenses it: activated once it serves. */
  license?: LicenseInput;
  /**
   * Leave the LB alone: cluster-setup joins nodes in parallel and then adds every member in one
   * step, since parallel joins would all edit the same LB config at once.
   */
  skipLoadBalancer?: boolean;
}

/** node-remove: the same sections, undone: license seat freed, storage unmounted. */
export interface NodeRemoveInput extends NodesInput {
  removing: string;
  storage?: StorageInput;
  license?: LicenseInput;
}
