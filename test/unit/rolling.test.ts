import { approvalDue, countsAsFailed, reasonToStop, rollingRecap } from '../../common/rolling';

describe('rolling maintenance: approval', () => {
  it('holds before the first batch only, before every batch, or never', () => {
    expect([0, 1, 2].map((b) => approvalDue('first', b))).toEqual([true, false, false]);
    expect([0, 1, 2].map((b) => approvalDue('each', b))).toEqual([true, true, true]);
    expect([0, 1, 2].map((b) => approvalDue('none', b))).toEqual([false, false, false]);
  });
});

describe('rolling maintenance: stopping between batches', () => {
  const after = { batch: 0, batches: 3, failed: 0, nodes: 4, maxFailPercentage: 0, aborting: false };

  it('goes on while nothing failed', () => {
    expect(reasonToStop(after)).toBeUndefined();
  });

  it('stops at the first failure with the default budget of 0', () => {
    expect(reasonToStop({ ...after, failed: 1 })).toBe(
      '1 of 4 nodes failed, over the failure budget (maxFailPercentage 0)',
    );
  });

  it('counts the failures so far against every node of the run, not the batch', () => {
    expect(reasonToStop({ ...after, batch: 1, failed: 2, maxFailPercentage: 50 })).toBeUndefined();
    expect(reasonToStop({ ...after, batch: 1, failed: 3, maxFailPercentage: 50 })).toBe(
      '3 of 4 nodes failed, over the failure budget (maxFailPercentage 50)',
    );
  });

  it('stops when the operator aborted, the failure budget taking precedence', () => {
    expect(reasonToStop({ ...after, aborting: true })).toBe('aborted by operator');
    expect(reasonToStop({ ...after, aborting: true, failed: 1 })).toMatch(/over the failure budget/);
  });

  it('has nothing to stop after the last batch', () => {
    expect(reasonToStop({ ...after, batch: 2, failed: 4, aborting: true })).toBeUndefined();
  });
});

describe('rolling maintenance: the recap', () => {
  it('counts a node left drained as failed, one not run as skipped, and every change', () => {
    expect(
      rollingRecap([
        { node: 'n1', outcome: 'done', changes: ['drain on lb1', 'ready on lb1'] },
        { node: 'n2', outcome: 'left-drained', changes: ['drain on lb1'] },
        { node: 'n3', outcome: 'failed', changes: [] },
        { node: 'n4', outcome: 'skipped', changes: [] },
        { node: 'n5', outcome: 'not-run', changes: [] },
      ]),
    ).toEqual({
      n1: { ok: 1, changed: 2, unreachable: 0, failed: 0, skipped: 0 },
      n2: { ok: 0, changed: 1, unreachable: 0, failed: 1, skipped: 0 },
      n3: { ok: 0, changed: 0, unreachable: 0, failed: 1, skipped: 0 },
      n4: { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 1 },
      n5: { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 1 },
    });
  });

  it('uses up the failure budget with failed and left-drained nodes only', () => {
    expect(['done', 'failed', 'skipped', 'left-drained', 'not-run'].filter(countsAsFailed)).toEqual([
      'failed',
      'left-drained',
    ]);
  });
});
