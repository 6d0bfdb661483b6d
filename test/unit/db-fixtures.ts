import type { MemberState, ReplicaStatus } from '../../common/db';

// Probe results for the replication tests: a member at 10.0.0.<n>, read-only MariaDB at 0-1-10
// unless told otherwise, and its replication link to a source address.

export const link = (sourceHost: string, over: Partial<ReplicaStatus> = {}): ReplicaStatus => ({
  sourceHost,
  sourcePort: 3306,
  ioState: 'running',
  sqlRunning: true,
  lagSeconds: 0,
  usingGtid: true,
  lastIoError: '',
  lastSqlError: '',
  relayPending: false,
  ...over,
});

export const member = (name: string, n: number, over: Partial<MemberState> = {}): MemberState => ({
  name,
  address: `10.0.0.${n}`,
  reachable: true,
  flavour: 'mariadb',
  readOnly: true,
  gtidExecuted: '0-1-10',
  gtidBinlogState: '0-1-10',
  ...over,
});
