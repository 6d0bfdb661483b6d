import { gatherFacts } from './facts';

/**
 * Everything that touches the network or disk lives behind this factory. The worker builds the
 * shared dependencies once and tests pass their own, the same way.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ActivityDeps {}

export function createActivities(_deps: ActivityDeps = {}) {
  return {
    gatherFacts,
  };
}

export type Activities = ReturnType<typeof createActivities>;
