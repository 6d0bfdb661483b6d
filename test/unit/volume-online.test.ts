import { bricksOffline, selfHealOffline, volumeOnline } from '../../activities/storage/gluster';

// `gluster volume status` in GlusterFS 10's layout, asked on 10.77.0.21 after two bricks were added
// on 10.77.0.26 and 10.77.0.27.

const BRICKS = ['10.77.0.21', '10.77.0.22', '10.77.0.26', '10.77.0.27'].map((a) => `${a}:/bricks/data`);

const status = (shd26: 'Y' | 'N', brick27: 'Y' | 'N' = 'Y') => `Status of volume: pydio-data
Gluster process                             TCP Port  RDMA Port  Online  Pid
------------------------------------------------------------------------------
Brick 10.77.0.21:/bricks/data               52381     0          Y       811
Brick 10.77.0.22:/bricks/data               59101     0          Y       790
Brick 10.77.0.26:/bricks/data               57113     0          Y       402
Brick 10.77.0.27:/bricks/data               ${brick27 === 'Y' ? '50102' : 'N/A  '}     0          ${brick27}       ${brick27 === 'Y' ? '399' : 'N/A'}
Self-heal Daemon on localhost               N/A       N/A        Y       830
Self-heal Daemon on 10.77.0.22              N/A       N/A        Y       801
Self-heal Daemon on 10.77.0.26              N/A       N/A        ${shd26}       ${shd26 === 'Y' ? '415' : 'N/A'}
Self-heal Daemon on 10.77.0.27              N/A       N/A        Y       410

Task Status of Volume pydio-data
------------------------------------------------------------------------------
There are no active volume tasks
`;

describe('a volume is online', () => {
  it('when every brick and every brick host’s self-heal daemon says Y', () => {
    expect(volumeOnline(status('Y'), BRICKS, '10.77.0.21')).toBe(true);
  });

  it('not while a new brick host’s self-heal daemon is still starting', () => {
    expect(volumeOnline(status('N'), BRICKS, '10.77.0.21')).toBe(false);
  });

  it('not while a brick is offline', () => {
    expect(volumeOnline(status('Y', 'N'), BRICKS, '10.77.0.21')).toBe(false);
  });

  it('not while a brick host has no self-heal daemon line yet', () => {
    const text = status('Y').replace(/^Self-heal Daemon on 10\.77\.0\.27.*\n/m, '');
    expect(volumeOnline(text, BRICKS, '10.77.0.21')).toBe(false);
  });

  it('names the asked server’s own daemon "localhost"', () => {
    const text = status('Y').replace('Self-heal Daemon on localhost', 'Self-heal Daemon on 10.77.0.99');
    expect(volumeOnline(text, BRICKS, '10.77.0.21')).toBe(false);
  });
});

describe('what is not online yet', () => {
  it('names the brick hosts without a self-heal daemon, and the bricks offline', () => {
    expect(selfHealOffline(status('N'), BRICKS, '10.77.0.21')).toEqual(['10.77.0.26']);
    expect(bricksOffline(status('N'), BRICKS)).toEqual([]);
    expect(bricksOffline(status('Y', 'N'), BRICKS)).toEqual(['10.77.0.27:/bricks/data']);
    expect(selfHealOffline(status('Y'), BRICKS, '10.77.0.21')).toEqual([]);
  });
});
