import { parsePeerStatus, parseVolumeInfo, volumeCreateArgs } from '../../activities/storage/gluster';

// Output in the format of GlusterFS 10 (Debian 12) `--mode=script`; seed 003's replica-2 volume.

const PEERS = `Number of Peers: 2

Hostname: st2
Uuid: 5e987bda-16dd-43c2-835b-08b7d55e94e5
State: Peer in Cluster (Connected)

Hostname: st3
Uuid: 1e0ca3aa-9ef7-4f66-8f15-cbc348f29ff7
State: Accepted peer request (Disconnected)
`;

const INFO = `
Volume Name: data
Type: Replicate
Volume ID: 8bd4c2f0-6bd1-4a4e-9a31-4e0e1c6e2a5d
Status: Started
Snapshot Count: 0
Number of Bricks: 1 x 2 = 2
Transport-type: tcp
Bricks:
Brick1: st1:/srv/gluster/data
Brick2: st2:/srv/gluster/data
Options Reconfigured:
performance.cache-size: 64MB
cluster.granular-entry-heal: on
transport.address-family: inet
nfs.disable: on

Volume Name: logs
Type: Distribute
Volume ID: 0c1e1a3c-7d55-4c47-a0e2-9a4f2f2cf2a1
Status: Created
Snapshot Count: 0
Number of Bricks: 1
Transport-type: tcp
Bricks:
Brick1: st1:/srv/gluster/logs
`;

describe('gluster output', () => {
  it('tells a peer in the cluster from one still accepting the request', () => {
    expect(parsePeerStatus(PEERS)).toEqual([
      {
        hostname: 'st2',
        uuid: '5e987bda-16dd-43c2-835b-08b7d55e94e5',
        state: 'Peer in Cluster',
        connected: true,
      },
      {
        hostname: 'st3',
        uuid: '1e0ca3aa-9ef7-4f66-8f15-cbc348f29ff7',
        state: 'Accepted peer request',
        connected: false,
      },
    ]);
    expect(parsePeerStatus('Number of Peers: 0\n')).toEqual([]);
  });

  it('reads each volume: type, status, bricks in order, reconfigured options', () => {
    const [data, logs] = parseVolumeInfo(INFO);
    expect(data).toEqual({
      name: 'data',
      type: 'Replicate',
      status: 'Started',
      bricks: ['st1:/srv/gluster/data', 'st2:/srv/gluster/data'],
      options: {
        'performance.cache-size': '64MB',
        'cluster.granular-entry-heal': 'on',
        'transport.address-family': 'inet',
        'nfs.disable': 'on',
      },
    });
    expect(logs).toMatchObject({
      name: 'logs',
      status: 'Created',
      bricks: ['st1:/srv/gluster/logs'],
      options: {},
    });
  });

  it('creates a replica volume with force only when bricks may sit on the root filesystem', () => {
    const v = { volume: 'data', replica: 2, servers: ['st1', 'st2'], brick: '/srv/gluster/data' };
    expect(volumeCreateArgs({ ...v, force: false })).toEqual([
      'volume',
      'create',
      'data',
      'replica',
      '2',
      'st1:/srv/gluster/data',
      'st2:/srv/gluster/data',
    ]);
    expect(volumeCreateArgs({ ...v, force: true }).at(-1)).toBe('force');
  });
});
