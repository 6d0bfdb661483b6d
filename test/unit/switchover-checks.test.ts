import type { MemberState, ReplicaStatus } from '../../common/db';
import { analyseTopology } from '../../common/db-topology';
import { pickCandidate, switchoverPlan } from '../../common/switchover-checks';
import { link, member } from './db-fixtures';

// db1 the writable primary, binlogging as a switchover needs; replicas of it unless told otherwise.
const primary = (over: Partial<MemberState> = {}) =>
  member('db1', 1, { readOnly: false, logBin: true, logReplicaUpdates: true, ...over });
const replica = (
  name: string,
  n: number,
  over: Partial<MemberState> = {},
  linkOver: Partial<ReplicaStatus> = {},
) => member(name, n, { logBin: true, logReplicaUpdates: true, replica: link('10.0.0.1', linkOver), ...over });

const limits = { maxLagSeconds: 10, maxTransactionAgeSeconds: 60 };
const plan = (members: MemberState[], candidate?: string) =>
  switchoverPlan(analyseTopology('c', members), limits, candidate);

describe('choosing the replica to promote', () => {
  it('picks the least-lagging healthy replica', () => {
    const t = analyseTopology('c', [
      primary(),
      replica('db2', 2, {}, { lagSeconds: 5 }),
      replica('db3', 3, {}, { lagSeconds: 1 }),
    ]);
    expect(pickCandidate(t)).toBe('db3');
  });

  it('passes over replicas that are stopped, connecting, replicate elsewhere or carry errant transactions', () => {
    const t = analyseTopology('c', [
      primary(),
      replica('db2', 2, {}, { sqlRunning: false }),
      replica('db3', 3, {}, { ioState: 'connecting' }),
      replica('db4', 4, { replica: link('10.0.0.9') }),
      replica('db5', 5, { gtidBinlogState: '0-1-10,0-5-3' }),
      replica('db6', 6, {}, { lagSeconds: 8 }),
    ]);
    expect(pickCandidate(t)).toBe('db6');
  });

  it('ranks a replica that reports no lag after those that do', () => {
    const t = analyseTopology('c', [
      primary(),
      replica('db2', 2, {}, { lagSeconds: null }),
      replica('db3', 3, {}, { lagSeconds: 9 }),
    ]);
    expect(pickCandidate(t)).toBe('db3');
  });

  it("finds none when no replica is healthy, and takes the operator's candidate as given", () => {
    const t = analyseTopology('c', [primary(), replica('db2', 2, {}, { sqlRunning: false })]);
    expect(pickCandidate(t)).toBeUndefined();
    expect(pickCandidate(t, 'db2')).toBe('db2');
  });
});

describe('switchover pre-checks', () => {
  it('let a healthy cluster switch over to its best replica', () => {
    expect(plan([primary(), replica('db2', 2, {}, { lagSeconds: 3 }), replica('db3', 3)])).toEqual({
      oldPrimary: 'db1',
      candidate: 'db3',
      alreadyPrimary: false,
      problems: [],
    });
  });

  it('have nothing to do when the candidate is the primary already', () => {
    expect(plan([primary({ oldestTransactionSeconds: 600 }), replica('db2', 2)], 'db1')).toEqual({
      oldPrimary: 'db1',
      candidate: 'db1',
      alreadyPrimary: true,
      problems: [],
    });
  });

  it('are blocked by an unreachable member', () => {
    const p = plan([
      primary(),
      replica('db2', 2),
      member('db3', 3, { reachable: false, error: 'no answer' }),
    ]);
    expect(p.problems).toEqual(['db3 is unreachable: no answer']);
  });

  it('need exactly one writable primary', () => {
    expect(plan([primary({ readOnly: true }), replica('db2', 2)]).problems).toEqual([
      'no single writable primary (none)',
    ]);
    expect(plan([primary(), replica('db2', 2, { readOnly: false }), replica('db3', 3)]).problems).toContain(
      'no single writable primary (db1, db2)',
    );
  });

  it("name every replica's state when none is healthy enough to promote", () => {
    const p = plan([primary(), replica('db2', 2, { gtidBinlogState: '0-1-10,0-2-11' })]);
    expect(p.candidate).toBeUndefined();
    expect(p.problems).toEqual([
      'no healthy replica to promote (db2: source db1, io running, sql running, errant 0-2-11)',
    ]);
  });

  it('refuse a candidate that is not a member', () => {
    expect(plan([primary(), replica('db2', 2, {}, { ioState: 'stopped' })], 'db9').problems).toEqual([
      'no healthy replica to promote (db2: source db1, io stopped, sql running, errant none)',
      'db2: replication not running',
    ]);
  });

  it('refuse a candidate that replicates from another member', () => {
    const p = plan([primary(), replica('db2', 2), replica('db3', 3, { replica: link('10.0.0.2') })], 'db3');
    expect(p.problems).toEqual(['db3 is not a replica of the primary db1']);
  });

  it('refuse a candidate with errant transactions', () => {
    const p = plan(
      [primary(), replica('db2', 2, { gtidBinlogState: '0-1-10,0-2-11' }), replica('db3', 3)],
      'db2',
    );
    expect(p.problems).toEqual(['db2 has errant transactions: 0-2-11']);
  });

  it('refuse a candidate without log_bin or log_slave_updates', () => {
    expect(plan([primary(), replica('db2', 2, { logReplicaUpdates: false })]).problems).toEqual([
      'db2 needs log_bin and log_slave_updates to serve the others',
    ]);
    expect(plan([primary(), replica('db2', 2, { logBin: false })]).problems).toEqual([
      'db2 needs log_bin and log_slave_updates to serve the others',
    ]);
  });

  it('are blocked by a lagging replica, and by one that does not replicate', () => {
    const p = plan([
      primary(),
      replica('db2', 2),
      replica('db3', 3, {}, { lagSeconds: 30 }),
      replica('db4', 4, {}, { sqlRunning: false }),
    ]);
    expect(p.candidate).toBe('db2');
    expect(p.problems).toEqual(['db3 lags 30 s (max 10)', 'db4: replication not running']);
  });

  it('allow a replica lagging exactly the maximum', () => {
    expect(plan([primary(), replica('db2', 2, {}, { lagSeconds: 10 })]).problems).toEqual([]);
  });

  it('are blocked by a transaction open too long on the primary', () => {
    expect(plan([primary({ oldestTransactionSeconds: 120 }), replica('db2', 2)]).problems).toEqual([
      'db1 has a transaction open for 120 s (max 60)',
    ]);
  });
});
