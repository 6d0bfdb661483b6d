import { FailureTypes } from '../common/errors';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ClusterName, Operation } from '../common/search-attributes';

export const releaseLockSignal = defineSignal('release');

export interface ClusterLockInput {
  cluster: string;
  holder: string;
  operation: string;
}

/** Held while it runs: Temporal allows one running workflow per ID, so `lock/<cluster>` is a mutex. */
export async function clusterLock(_input: ClusterLockInput): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => void (released = true));
  await condition(() => released);
}

/**
 * An operation run as a step of a bigger one (cluster-setup) names the parent that holds the lock.
 * It is believed only when that parent really is this workflow's parent, so an input cannot talk
 * its way past the lock.
 */
export interface UnderLock {
  lockHeldBy?: string;
}

/**
 * Runs `fn` holding the cluster's lock: one changing operation per cluster at a time. The lock is
 * a child workflow that dies with its parent (terminate on parent close), so a crashed or
 * terminated operation can never leave the cluster locked. A second operation is refused at once,
 * naming the holder's lock, rather than queued behind a failover nobody expects.
 */
export async function withClusterLock<T>(
  target: { cluster: string } & UnderLock,
  operation: string,
  fn: () => Promise<T>,
): Promise<T> {
  const { cluster, lockHeldBy } = target;
  if (lockHeldBy) {
    if (lockHeldBy !== workflowInfo().parent?.workflowId)
      throw ApplicationFailure.nonRetryable(
        `lockHeldBy: ${lockHeldBy} is not the workflow that started this one`,
        FailureTypes.ClusterBusy,
      );
    return fn();
  }
  let lock;
  try {
    lock = await startChild(clusterLock, {
      workflowId: `lock/${cluster}`,
      args: [{ cluster, holder: workflowInfo().workflowId, operation }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      typedSearchAttributes: [
        { key: ClusterName, value: cluster },
        { key: Operation, value: 'lock' },
      ],
      staticSummary: `${operation} holds ${cluster}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw ApplicationFailure.nonRetryable(
        `cluster ${cluster} is busy: another operation holds lock/${cluster}; wait for it or cancel it`,
        FailureTypes.ClusterBusy,
      );
    }
    throw err;
  }
  try {
    return await fn();
  } finally {
    // A cancelled operation cancels its children, the lock among them: a lock that has already
    // ended is released, so the signal finding nothing is no failure (it would turn a cancelled
    // operation into a failed one).
    await CancellationScope.nonCancellable(() => lock.signal(releaseLockSignal)).catch(() => undefined);
  }
}
