import { analyseTopology } from '../../common/db-topology';
import { link, member } from './db-fixtures';

describe('analyseTopology', () => {
  it('finds the one writable member as primary and reports a healthy tree', () => {
    const t = analyseTopology('c', [
      member('db1', 1, { readOnly: false }),
      member('db2', 2, { replica: link('10.0.0.1') }),
      member('db3', 3, { replica: link('10.0.0.1', { lagSeconds: 2 }) }),
    ]);
    expect(t.primary).toBe('db1');
    expect(t.replicas.map((r) => [r.name, r.source, r.lagSeconds])).toEqual([
      ['db2', 'db1', 0],
      ['db3', 'db1', 2],
    ]);
    expect(t.problems).toEqual([]);
  });

  it('reports two writable members, a stopped replica and one pointing elsewhere', () => {
    const t = analyseTopology('c', [
      member('db1', 1, { readOnly: false }),
      member('db2', 2, {
        readOnly: false,
        replica: link('10.0.0.1', { sqlRunning: false, lastSqlError: 'Duplicate entry' }),
      }),
      member('db3', 3, { replica: link('10.0.0.9') }),
    ]);
    expect(t.writable).toEqual(['db1', 'db2']);
    expect(t.problems).toEqual([
      'several members are writable: db1, db2',
      'db2: replication io running, sql stopped: Duplicate entry',
      'db3 replicates from 10.0.0.9, not db1',
    ]);
  });

  it('names the replication root as primary when nobody is writable, and says it is read-only', () => {
    const t = analyseTopology('c', [
      member('db1', 1),
      member('db2', 2, { replica: link('10.0.0.1') }),
      member('db3', 3, { reachable: false, error: 'no answer within 2000 ms' }),
    ]);
    expect(t.primary).toBe('db1');
    expect(t.problems).toEqual([
      'db3 is unreachable: no answer within 2000 ms',
      'the primary db1 is read-only',
    ]);
  });

  it('lists errant transactions of a replica that the primary never had', () => {
    const t = analyseTopology('c', [
      member('db1', 1, { readOnly: false, gtidBinlogState: '0-1-10' }),
      member('db2', 2, { replica: link('10.0.0.1'), gtidBinlogState: '0-1-10,0-2-11' }),
    ]);
    expect(t.replicas[0].errant).toEqual(['0-2-11']);
    expect(t.problems).toEqual(['db2 has errant transactions: 0-2-11']);
  });

  it("does not call a replica's newer copy of the primary's own transactions errant (it was read after the primary)", () => {
    const t = analyseTopology('c', [
      member('db1', 1, { readOnly: false, serverId: 1, gtidBinlogState: '0-1-100' }),
      member('db2', 2, { replica: link('10.0.0.1'), serverId: 2, gtidBinlogState: '0-1-103' }),
    ]);
    expect(t.replicas[0].errant).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('compares MySQL members by GTID set', () => {
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const t = analyseTopology('c', [
      member('m1', 1, { flavour: 'mysql', readOnly: false, serverUuid: uuid, gtidExecuted: `${uuid}:1-20` }),
      member('m2', 2, {
        flavour: 'mysql',
        replica: link('10.0.0.1'),
        gtidExecuted: `${uuid}:1-20,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:1-2`,
      }),
    ]);
    expect(t.replicas[0].errant).toEqual(['aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:1-2']);
  });
});
