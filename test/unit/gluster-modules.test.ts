import { GlusterPeerArgs, GlusterVolumeArgs } from '../../common/modules';
import { moduleOf } from '../../client/playbook-keywords';
import {
  parseState,
  parseVolumes,
  stateScript,
  toProbe,
  type GlusterState,
} from '../../activities/modules/gluster-cli';
import { brickList, planVolume, renderVolume, sameLimit } from '../../activities/modules/gluster-volume';
import { planPeers } from '../../activities/modules/gluster-peer';

// What the state script printed on a lab host (GlusterFS 10.3, Debian 12): gfs1's pool with gfs2
// (probed by name, then by address), a started replica-2 volume `gv` with write-behind off and a
// 20MB quota on /, and `volume get` of a full option name, a short one and an unknown one.
const LAB = `@@cf peers 0
Number of Peers: 1

Hostname: gfs2
Uuid: 20ee737d-c65a-4336-ab85-77a02aa6fa0a
State: Peer in Cluster (Connected)
Other names:
10.77.0.16
@@cf volumes 0

Volume Name: gv
Type: Replicate
Volume ID: ecc717f6-327f-45bb-b0e5-151f7b74381a
Status: Started
Snapshot Count: 0
Number of Bricks: 1 x 2 = 2
Transport-type: tcp
Bricks:
Brick1: gfs1:/srv/b/gv
Brick2: gfs2:/srv/b/gv
Options Reconfigured:
features.quota-deem-statfs: on
features.inode-quota: on
features.quota: on
performance.write-behind: off
cluster.granular-entry-heal: on
storage.fips-mode-rchecksum: on
transport.address-family: inet
nfs.disable: on
performance.client-io-threads: off
@@cf local 0
gfs1
gfs1
10.77.0.15
@@cf resolve 0 gfs1
10.77.0.15      STREAM gfs1
10.77.0.15      DGRAM
10.77.0.15      RAW
@@cf resolve 0 gfs2
10.77.0.16      STREAM gfs2
10.77.0.16      DGRAM
10.77.0.16      RAW
@@cf resolve 0 10.77.0.16
10.77.0.16      STREAM 10.77.0.16
10.77.0.16      DGRAM
10.77.0.16      RAW
@@cf resolve 2 nohost

@@cf option 0 performance.cache-size
Option                                   Value
------                                   -----
performance.cache-size                   32MB (DEFAULT)
@@cf option 0 write-behind
Option                                   Value
------                                   -----
performance.write-behind                 off
@@cf option 1 bogus
volume get option: failed: Did you mean nfs or port?
@@cf quota 0
                  Path                   Hard-limit  Soft-limit      Used  Available  Soft-limit exceeded? Hard-limit exceeded?
-------------------------------------------------------------------------------------------------------------------------------
/                                         20.0MB     80%(16.0MB)   0Bytes  20.0MB              No                   No
`;

const lab = (): GlusterState => {
  const s = parseState(LAB);
  if ('error' in s) throw new Error(s.error);
  return s;
};
const volume = (a: Record<string, unknown>) =>
  GlusterVolumeArgs.parse({ name: 'gv', state: 'present', ...a });
const peers = (a: Record<string, unknown>) => GlusterPeerArgs.parse(a);
/** A pool with no peers and no volumes, on host gfs1. */
const empty = (): GlusterState => ({
  ...lab(),
  peers: [],
  volumes: [],
  options: {},
  quotas: {},
});

describe('reading gluster', () => {
  it('reads peers by every name, volumes, this host, addresses, option names and quotas', () => {
    const s = lab();
    expect(s.peers).toEqual([
      {
        hostname: 'gfs2',
        uuid: '20ee737d-c65a-4336-ab85-77a02aa6fa0a',
        state: 'Peer in Cluster',
        connected: true,
        names: ['gfs2', '10.77.0.16'],
      },
    ]);
    expect(s.volumes).toHaveLength(1);
    expect(s.volumes[0]).toMatchObject({
      name: 'gv',
      id: 'ecc717f6-327f-45bb-b0e5-151f7b74381a',
      status: 'Started',
      transport: 'tcp',
      replicas: '2',
      bricks: ['gfs1:/srv/b/gv', 'gfs2:/srv/b/gv'],
      arbiters: [],
      quota: true,
    });
    expect(s.volumes[0].options['performance.write-behind']).toBe('off');
    expect(s.local).toEqual(['gfs1', 'gfs1', '10.77.0.15']);
    expect(s.addresses).toEqual({
      gfs1: ['10.77.0.15'],
      gfs2: ['10.77.0.16'],
      '10.77.0.16': ['10.77.0.16'],
      nohost: [],
    });
    expect(s.options).toEqual({
      'performance.cache-size': { name: 'performance.cache-size', value: '32MB' },
      'write-behind': { name: 'performance.write-behind', value: 'off' },
      bogus: { error: 'volume get option: failed: Did you mean nfs or port?' },
    });
    expect(s.quotas).toEqual({ '/': '20.0MB' });
  });

  it('says why when glusterd does not answer', () => {
    expect(
      parseState('@@cf peers 1\nConnection failed. Please check if gluster daemon is operational.\n'),
    ).toEqual({
      error: 'gluster peer status failed: Connection failed. Please check if gluster daemon is operational.',
    });
  });

  it('counts an arbiter or disperse set as its bricks, and lists the arbiter bricks', () => {
    const [v] = parseVolumes(
      'Volume Name: a\nType: Replicate\nVolume ID: x\nStatus: Created\nNumber of Bricks: 1 x (2 + 1) = 3\n' +
        'Transport-type: tcp\nBricks:\nBrick1: h1:/b\nBrick2: h2:/b\nBrick3: h3:/b (arbiter)\n',
    );
    expect(v).toMatchObject({ replicas: '3', bricks: ['h1:/b', 'h2:/b', 'h3:/b'], arbiters: ['h3:/b'] });
    expect(parseVolumes('Volume Name: d\nStatus: Created\nNumber of Bricks: 2\n')[0].replicas).toBe('1');
  });

  it('quotes every host and option name that reaches the shell, and always asks in script mode', () => {
    const script = stateScript({ volume: 'gv', hosts: ["it's"], options: ['a b'], quota: true });
    expect(script).toContain(`getent ahosts 'it'\\''s'`);
    expect(script).toContain(`gluster --mode=script volume get gv 'a b'`);
    expect(script).toContain('gluster --mode=script volume quota gv list');
    expect(stateScript({ hosts: [], options: ['x'], quota: true })).not.toMatch(/volume get|quota/);
  });
});

describe('gluster_volume plan', () => {
  it('creates a replica volume path by path over the cluster, sets options, starts it', () => {
    const a = volume({
      cluster: 'gfs1,gfs2,gfs3',
      bricks: '/b/one,/b/two',
      replicas: 3,
      force: true,
      options: { 'performance.cache-size': '64MB', 'write-behind': false },
    });
    expect(brickList(a)).toEqual([
      'gfs1:/b/one',
      'gfs2:/b/one',
      'gfs3:/b/one',
      'gfs1:/b/two',
      'gfs2:/b/two',
      'gfs3:/b/two',
    ]);
    const plan = planVolume(a, { ...lab(), volumes: [] });
    // gfs1 is this host, gfs2 already a peer: only gfs3 is probed.
    expect(plan.probe).toEqual(['gfs3']);
    expect(plan.commands).toEqual([
      ['volume', 'create', 'gv', 'replica', '3', 'transport', 'tcp', ...brickList(a), 'force'],
      ['volume', 'set', 'gv', 'performance.cache-size', '64MB'],
      ['volume', 'set', 'gv', 'write-behind', 'off'],
      ['volume', 'start', 'gv'],
    ]);
    expect(plan.before).toBeUndefined();
    expect(renderVolume('gv', plan.after)).toMatch(
      /^volume: gv\nstatus: Started\nbricks:\n {2}- gfs1:\/b\/one\n/,
    );
  });

  it('changes nothing when the volume is as asked: short option names, a brick host by address, 20MB as 20.0MB', () => {
    const a = volume({
      cluster: ['gfs1', '10.77.0.16'],
      bricks: '/srv/b/gv',
      replicas: 2,
      options: { 'write-behind': 'off' },
      directory: '/',
      quota: '20MB',
      rebalance: true,
    });
    const plan = planVolume(a, lab());
    expect(plan).toMatchObject({ probe: [], commands: [], changes: [] });
    expect(renderVolume('gv', plan.after)).toBe(renderVolume('gv', plan.before));
  });

  it("takes `host` as this host's name in the cluster: it is never probed", () => {
    const a = volume({ cluster: 'storage-a,gfs2', bricks: '/srv/b/gv', host: 'storage-a' });
    expect(planVolume(a, lab()).probe).toEqual([]);
    expect(planVolume({ ...a, host: undefined }, lab()).probe).toEqual(['storage-a']);
  });

  it('sets an option whose value differs, then rebalances as asked', () => {
    const plan = planVolume(
      volume({ options: { 'performance.cache-size': '64MB' }, rebalance: true }),
      lab(),
    );
    expect(plan.commands).toEqual([
      ['volume', 'set', 'gv', 'performance.cache-size', '64MB'],
      ['volume', 'rebalance', 'gv', 'start'],
    ]);
  });

  it('refuses an option gluster does not know, with its words, before anything runs', () => {
    expect(planVolume(volume({ options: { bogus: 'on' } }), lab())).toMatchObject({
      commands: [],
      error: 'option bogus: volume get option: failed: Did you mean nfs or port?',
    });
  });

  it('starts a stopped volume while start_on_create holds, not otherwise', () => {
    const stopped = { ...lab(), volumes: [{ ...lab().volumes[0], status: 'Stopped' }] };
    expect(planVolume(volume({}), stopped).commands).toEqual([['volume', 'start', 'gv']]);
    expect(planVolume(volume({ start_on_create: 'no' }), stopped).commands).toEqual([]);
  });

  it('adds the bricks a volume lacks as whole sets, and refuses to remove bricks', () => {
    const grown = volume({ cluster: 'gfs1,gfs2', bricks: '/srv/b/gv,/srv/b/more', replicas: 2, force: true });
    expect(planVolume(grown, lab()).commands).toEqual([
      ['volume', 'add-brick', 'gv', 'replica', '2', 'gfs1:/srv/b/more', 'gfs2:/srv/b/more', 'force'],
    ]);
    expect(planVolume(volume({ cluster: 'gfs1', bricks: '/srv/b/gv' }), lab())).toMatchObject({
      commands: [],
      error: 'removing bricks from a volume is not supported yet (gfs2:/srv/b/gv)',
    });
  });

  it('enables quotas before the first limit', () => {
    const plan = planVolume(volume({ directory: '/data', quota: '1GB' }), {
      ...lab(),
      volumes: [{ ...lab().volumes[0], quota: false }],
      quotas: {},
    });
    expect(plan.commands).toEqual([
      ['volume', 'quota', 'gv', 'enable'],
      ['volume', 'quota', 'gv', 'limit-usage', '/data', '1GB'],
    ]);
    expect([sameLimit('1.0GB', '1GB'), sameLimit('1.0GB', '1024MB'), sameLimit('20.0MB', '21MB')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('needs bricks and cluster to create, and an existing volume to start or stop', () => {
    expect(planVolume(volume({ bricks: '/b' }), empty()).error).toBe(
      'volume gv does not exist: creating it needs bricks and cluster',
    );
    expect(planVolume(volume({ state: 'started' }), empty()).error).toBe('volume not found gv');
    expect(planVolume(volume({ state: 'stopped' }), lab()).commands).toEqual([['volume', 'stop', 'gv']]);
    expect(planVolume(volume({ state: 'started' }), lab()).commands).toEqual([]);
  });

  it('stops a started volume before deleting it; an absent one is nothing to do', () => {
    expect(planVolume(volume({ state: 'absent' }), lab())).toMatchObject({
      commands: [
        ['volume', 'stop', 'gv'],
        ['volume', 'delete', 'gv'],
      ],
      after: undefined,
    });
    const created = { ...lab(), volumes: [{ ...lab().volumes[0], status: 'Created' }] };
    expect(planVolume(volume({ state: 'absent' }), created).commands).toEqual([['volume', 'delete', 'gv']]);
    expect(planVolume(volume({ state: 'absent' }), empty()).commands).toEqual([]);
  });
});

describe('gluster_peer plan', () => {
  it('probes only nodes the pool does not know by any name or address, never this host', () => {
    const s = lab();
    expect(
      planPeers(peers({ nodes: ['gfs1', 'gfs2', '10.77.0.16', 'localhost', 'gfs3', 'gfs3'] }), s),
    ).toEqual({
      probe: ['gfs3'],
      detach: [],
      changes: ['probe peer gfs3'],
    });
    // Known by its address only: the name resolves to it.
    const byAddress = { ...s, peers: [{ ...s.peers[0], hostname: '10.77.0.16', names: ['10.77.0.16'] }] };
    expect(toProbe(byAddress, ['gfs2'])).toEqual([]);
  });

  it('detaches peers (with force if asked), passing over this host and nodes not in the pool', () => {
    expect(planPeers(peers({ nodes: 'gfs1,gfs2,gfs3', state: 'absent', force: true }), lab())).toEqual({
      probe: [],
      detach: [['peer', 'detach', 'gfs2', 'force']],
      changes: ['detach peer gfs2'],
    });
    expect(planPeers(peers({ nodes: ['gfs3'], state: 'absent' }), lab()).detach).toEqual([]);
  });
});

describe('gluster module arguments', () => {
  it("take the collection's aliases and list forms", () => {
    expect(
      GlusterVolumeArgs.parse({ volume: 'v', state: 'present', brick: '/a, /b', cluster: 'h1,h2,' }),
    ).toMatchObject({
      name: 'v',
      bricks: ['/a', '/b'],
      cluster: ['h1', 'h2'],
      transport: 'tcp',
      start_on_create: true,
      rebalance: false,
      force: false,
      options: {},
    });
    expect(GlusterPeerArgs.parse({ nodes: 'a,b' })).toEqual({
      nodes: ['a', 'b'],
      state: 'present',
      force: false,
    });
  });

  it('refuse what gluster no longer has or the collection does not take', () => {
    const problems = (a: Record<string, unknown>) =>
      GlusterVolumeArgs.safeParse({ name: 'v', state: 'present', ...a }).error?.issues.map(
        (i) => i.message,
      ) ?? [];
    expect(problems({ stripes: 2 })).toEqual([
      'striped volumes were removed in GlusterFS 6: use replicas or disperses',
    ]);
    expect(problems({ quota: '10MB' })).toEqual(['quota needs directory (the path in the volume it limits)']);
    expect(problems({ bricks: 'host:/b' })).toEqual(['must be an absolute path']);
    expect(problems({ peers: ['a'] })).toHaveLength(1);
    expect(GlusterVolumeArgs.safeParse({ name: 'v' }).success).toBe(false);
    expect(GlusterPeerArgs.safeParse({ nodes: [] }).error?.issues[0].message).toBe(
      'nodes list cannot be empty',
    );
  });

  it('are found by their collection names', () => {
    expect(moduleOf('gluster.gluster.gluster_volume')).toBe('gluster_volume');
    expect(moduleOf('gluster.gluster.gluster_peer')).toBe('gluster_peer');
    expect(moduleOf('community.general.gluster_volume')).toBe('gluster_volume');
    expect(moduleOf('community.general.gluster_peer')).toBe('gluster_peer');
  });
});
