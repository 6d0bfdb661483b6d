import type { Parameters } from 'fast-check';

/**
 * Bounded runs for CI: each property gets `numRuns` inputs but stops early after `budgetMs`, so
 * the fuzz suite stays well under half a minute on a small machine. `CF_FUZZ_RUNS=20000` runs that
 * many inputs per property instead, with no time budget, for a long local run.
 */
export function fuzzRuns(numRuns: number, budgetMs = 4000): Parameters<unknown> {
  const long = Number(process.env.CF_FUZZ_RUNS);
  if (Number.isInteger(long) && long > 0) return { numRuns: long };
  return { numRuns, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false };
}

/** jest's per-test timeout that goes with the runs above. */
export const FUZZ_TEST_TIMEOUT_MS = Number(process.env.CF_FUZZ_RUNS) > 0 ? 3_600_000 : 30_000;
