import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/**
 * Every failure type clusterflow raises, in one place. The names are part of the API: retry
 * policies, the per-host status (unreachable vs failed) and the CLI's exit codes are decided by
 * them. A throw site names its type from here (`FailureTypes.X`); whether a retry may help is
 * decided here, once, and every workflow's retry policy is built from it.
 */
interface FailureKind {
  domain:
    'hosts' | 'plays' | 'worker' | 'cluster' | 'database' | 'load balancer' | 'nodes' | 'storage' | 'license';
  /** A retry may help (the cause is transient); when false, never retried. */
  retryable: boolean;
  meaning: string;
}

export const FAILURES = {
  // hosts and SSH
  HostUnreachable: {
    domain: 'hosts',
    retryable: true,
    meaning: 'TCP or SSH handshake could not be completed, or the connection was lost',
  },
  HostKeyUnknown: {
    domain: 'hosts',
    retryable: false,
    meaning: 'the host presented a key that known_hosts does not list for it',
  },
  HostKeyChanged: {
    domain: 'hosts',
    retryable: false,
    meaning: 'known_hosts lists other keys for this host: possibly a man in the middle',
  },
  AuthenticationFailed: { domain: 'hosts', retryable: false, meaning: 'the host refused our credentials' },
  SecretUnavailable: {
    domain: 'hosts',
    retryable: false,
    meaning: 'a secret reference could not be resolved on the worker',
  },
  CommandFailed: { domain: 'hosts', retryable: false, meaning: 'a command on a host exited non-zero' },
  // plays and modules
  ModuleFailed: { domain: 'plays', retryable: false, meaning: 'a module reported failed' },
  BadTask: { domain: 'plays', retryable: false, meaning: 'a task names an unknown module or bad arguments' },
  BadInput: { domain: 'plays', retryable: false, meaning: 'the operation was started with unusable input' },
  // the worker itself
  WorkerMisconfigured: {
    domain: 'worker',
    retryable: false,
    meaning: 'the worker lacks something an activity needs (a Temporal client for visibility)',
  },
  // the cluster as a whole
  ClusterBusy: {
    domain: 'cluster',
    retryable: false,
    meaning: 'another operation holds the cluster; wait for it or cancel it',
  },
  PrecheckFailed: {
    domain: 'cluster',
    retryable: false,
    meaning: 'a pre-check found the cluster unfit for the operation; nothing was changed',
  },
  Refused: {
    domain: 'cluster',
    retryable: false,
    meaning: 'refused on purpose (errant transactions, anti-flapping, approval timeout)',
  },
  CrossCheckFailed: {
    domain: 'cluster',
    retryable: false,
    meaning: 'a verification across hosts did not see what was just set up',
  },
  // database
  DatabaseUnreachable: {
    domain: 'database',
    retryable: true,
    meaning: 'mysqld does not answer (connection refused, tunnel failed)',
  },
  ReplicationBroken: {
    domain: 'database',
    retryable: false,
    meaning: 'a replica stopped with an error in its IO or SQL thread',
  },
  // load balancers
  LbRefused: {
    domain: 'load balancer',
    retryable: false,
    meaning: 'the LB did not take a change (balancer-manager ignored it)',
  },
  LbConfigInvalid: {
    domain: 'load balancer',
    retryable: false,
    meaning: "the LB's config test failed; the previous file was restored",
  },
  LbMemberMissing: { domain: 'load balancer', retryable: false, meaning: 'the member is not in the LB' },
  LbNotUp: { domain: 'load balancer', retryable: false, meaning: 'the LB never showed the node up' },
  // nodes
  Unhealthy: { domain: 'nodes', retryable: false, meaning: 'a node did not pass its health check' },
  DrainTimeout: {
    domain: 'nodes',
    retryable: false,
    meaning: 'a node still had sessions when its drain timed out; it was put back',
  },
  // storage
  ExportNotLive: { domain: 'storage', retryable: false, meaning: 'the export is configured but not served' },
  GlusterPeerNotInCluster: {
    domain: 'storage',
    retryable: false,
    meaning: 'a GlusterFS peer is not in the trusted pool',
  },
  VolumeMismatch: {
    domain: 'storage',
    retryable: false,
    meaning: 'the volume on the servers differs from the spec in a way we do not change',
  },
  OwnerMismatch: {
    domain: 'storage',
    retryable: false,
    meaning: "the service user's uid or gid differs between the nodes and the storage servers",
  },
  RebalanceFailed: { domain: 'storage', retryable: false, meaning: 'a GlusterFS rebalance failed' },
  StorageNotReady: { domain: 'storage', retryable: false, meaning: 'the storage did not become ready' },
  StorageUnavailable: {
    domain: 'storage',
    retryable: false,
    meaning: 'a node could not mount the shared storage',
  },
  // licenses
  LicenseRefused: {
    domain: 'license',
    retryable: false,
    meaning: 'the licensing service answered "no": no seat left, unknown key',
  },
  LicenseServiceUnavailable: {
    domain: 'license',
    retryable: true,
    meaning: 'the licensing service could not be reached or answered with an error',
  },
  LicenseNotActiveAfterActivation: {
    domain: 'license',
    retryable: true,
    meaning: 'activation reported success but the check afterwards says not active',
  },
  LicenseFailed: { domain: 'license', retryable: false, meaning: "a node's license could not be activated" },
} as const satisfies Record<string, FailureKind>;

export type FailureType = keyof typeof FAILURES;

/** The names, for throw sites: `ApplicationFailure.nonRetryable(message, FailureTypes.CommandFailed)`. */
export const FailureTypes = Object.fromEntries(Object.keys(FAILURES).map((k) => [k, k])) as {
  readonly [K in FailureType]: K;
};

/** Every workflow's `nonRetryableErrorTypes`: what no retry can help. */
export const nonRetryableFailureTypes: FailureType[] = (Object.keys(FAILURES) as FailureType[]).filter(
  (k) => !FAILURES[k].retryable,
);

/**
 * The innermost cause of a failure: Temporal wraps an activity's error in an ActivityFailure and a
 * child's in a ChildWorkflowFailure; the operator wants the sentence the host or check produced.
 */
export function innermostCause(err: unknown): { message: string; type?: string } {
  let e = err as { message?: string; type?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as typeof e;
  if (e && typeof e === 'object') return { message: e.message ?? String(e), type: e.type };
  return { message: String(err) };
}

/**
 * Ansible's distinction for a host whose step threw: `unreachable` when we could not reach it,
 * `failed` for anything else, with the sentence the activity raised (one level in: the
 * ActivityFailure's cause) and its type.
 */
export function hostOutcomeOf(err: unknown): {
  status: 'unreachable' | 'failed';
  reason: string;
  failureType?: string;
} {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const failureType = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return {
    status: failureType === FailureTypes.HostUnreachable ? 'unreachable' : 'failed',
    reason,
    ...(failureType ? { failureType } : {}),
  };
}
