import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startOperation } from '../../client/connection';
import { targetFor } from '../../client/inventory';
import { loadSpec, storageInput } from '../../client/spec';
import { buildStorageOperation, type StorageOperation } from '../../client/storage';
import { down, hostAddress, labFiles, sshArgs, up } from '../../lab/hosts';
import { storageNode, type StorageResult } from '../../workflows/storage';
import { onHost, testSettings, withWorker } from './helpers';

// storage-export and storage-expand through the dev server on real lab hosts. NFS: the server is
// nfs-ganesha, proven with libnfs from two other hosts, because this kernel has no NFS client or
// server; the clients go as far as the kernel allows and say why. GlusterFS: a replica-2 volume
// over two storage hosts, FUSE-mounted on two clients, then grown by a second brick pair.

const NFS = 'nfs1';
const GLUSTER = ['st1', 'st2'];
const MORE = ['st3', 'st4'];
const CLIENTS = ['sc1', 'sc2'];
const KERNEL_NFS = 'nfs2';
const JOINING = 'sc3';
const ALL = [NFS, KERNEL_NFS, ...GLUSTER, ...MORE, ...CLIENTS, JOINING];
const settings = testSettings();
const cluster = `storage-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-storage-'));
const OWNER = `owner: { user: filesync, uid: 2001, gid: 2001, mode: '0770' }`;

function spec(name: string, body: string): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, `cluster: ${cluster}\ninventory: ${labFiles.inventory}\nstorage:\n${body}`);
  return file;
}

const nfsSpec = spec(
  'nfs',
  `  kind: nfs
  ${OWNER}
  nfs:
    server: ${NFS}
    backend: ganesha
    exports:
      - path: /srv/export
        clients:
          - hosts: [${CLIENTS.join(', ')}]
            options: [rw, sync, no_subtree_check, all_squash, anonuid=2001, anongid=2001]
  clients: { hosts: [${CLIENTS.join(', ')}], mountPoint: /srv/nfs-shared, version: '4.1', hard: true }
`,
);

const kernelSpec = spec(
  'nfs-kernel',
  `  kind: nfs
  ${OWNER}
  nfs:
    server: ${KERNEL_NFS}
    backend: kernel
    exports:
      - path: /srv/export
        clients: [{ hosts: ${CLIENTS[0]}, options: [rw, sync, no_subtree_check, all_squash, anonuid=2001, anongid=2001] }]
  clients: { hosts: [${CLIENTS[0]}], mountPoint: /srv/nfs-shared }
`,
);

const gluster = (name: string, servers: string[], volume = 'shared', allowRootBrick = true) =>
  spec(
    name,
    `  kind: glusterfs
  ${OWNER}
  glusterfs:
    servers: [${servers.join(', ')}]
    volume: ${volume}
    replica: 2
    brick: /srv/bricks/${volume}
    allowRootBrick: ${allowRootBrick}
    options: { performance.cache-size: 64MB }
  clients: { hosts: [${CLIENTS.join(', ')}], mountPoint: /srv/shared }
`,
  );

async function run(operation: StorageOperation, file: string): Promise<StorageResult & { seconds: number }> {
  const op = buildStorageOperation(loadSpec(file), operation);
  const started = Date.now();
  const result = await withWorker(
    settings,
    async (client) => (await startOperation(client, settings, op)).result() as Promise<StorageResult>,
  );
  const seconds = (Date.now() - started) / 1000;
  // The closing note's figures come from here.
  console.log(`${operation} ${path.basename(file)}: ${seconds.toFixed(1)} s, changed ${result.changed}`);
  return { ...result, seconds };
}

/** Every message down the failure's cause chain (workflow → activity → application). */
function failureText(err: unknown): string {
  const out: string[] = [];
  for (let e = err as Error | undefined; e; e = (e as { cause?: Error }).cause) out.push(e.message);
  return out.join('\n');
}

const nfsUrl = (file = '') => `nfs://${hostAddress(NFS)}/srv/export${file}`;

beforeAll(async () => {
  // Fresh hosts: storage state (pools, volumes, fstab) from an earlier run would hide first-run work.
  await down(ALL);
  await up(ALL);
  // The lab's root filesystem is an overlay, which gives no NFS file handles (ganesha: "Could not get
  // handle ... Operation not supported"). A real server exports a real disk; here a tmpfs stands in.
  onHost(NFS, 'mkdir -p /srv/export && mount -t tmpfs tmpfs /srv/export');
  // An operator's own tuning, which the workflow leaves alone: after a restart ganesha refuses
  // creates for its grace period (90 s by default), which this suite would otherwise sit out.
  onHost(
    NFS,
    "printf 'NFSV4 {\\n    Lease_Lifetime = 10;\\n    Grace_Period = 15;\\n}\\n' >> /etc/ganesha/ganesha.conf",
  );
}, 120_000);

afterAll(async () => {
  // The run leaves the machine as it found it; CLUSTERFLOW_KEEP_STACK keeps the hosts for the next.
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(ALL);
}, 180_000);

describe('storage-export, NFS on nfs-ganesha', () => {
  it('refuses a uid mismatch before any change, naming the host', async () => {
    onHost(CLIENTS[1], 'groupadd -g 2999 filesync && useradd -u 2999 -g 2999 -M filesync');
    const before = onHost(NFS, 'md5sum /etc/ganesha/ganesha.conf');
    const err = await run('storage-export', nfsSpec).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = failureText(err);
    expect(message).toMatch(/uid: filesync is 2999 on sc2, the spec says 2001/);
    expect(message).toMatch(/gid: filesync is 2999 on sc2, the spec says 2001/);
    expect(onHost(NFS, 'md5sum /etc/ganesha/ganesha.conf')).toBe(before);
    expect(onHost(NFS, 'getent passwd filesync || echo none')).toBe('none');
    onHost(CLIENTS[1], 'userdel filesync');
  });

  it('exports through ganesha, proven with libnfs from two other hosts; clients stop at mount, saying why', async () => {
    const r = await run('storage-export', nfsSpec);
    expect(r.changed).toBe(true);
    expect(r.changes.join('\n')).toMatch(/nfs1: \/etc\/ganesha\/ganesha.conf/);
    expect(onHost(NFS, 'grep -c "Grace_Period = 15;" /etc/ganesha/ganesha.conf')).toBe('1');
    expect(onHost(NFS, 'stat -c %u:%g:%a /srv/export')).toBe('2001:2001:770');
    expect(onHost(NFS, 'id -u filesync; id -g filesync')).toBe('2001\n2001');

    // The kernel really has no NFS client: that is why, and the only reason, the mount is not done.
    expect(onHost(CLIENTS[0], 'grep -w nfs4 /proc/filesystems || echo none')).toBe('none');
    for (const c of CLIENTS) {
      expect(r.clients[c]).toEqual({
        mounted: false,
        reason: expect.stringMatching(/kernel has no NFS client/),
      });
      expect(onHost(c, 'grep /srv/nfs-shared /etc/fstab')).toBe(
        `${hostAddress(NFS)}:/srv/export /srv/nfs-shared nfs _netdev,vers=4.1,hard 0 0`,
      );
      expect(onHost(c, 'findmnt /srv/nfs-shared >/dev/null && echo mounted || echo not')).toBe('not');
      expect(onHost(c, 'id -u filesync')).toBe('2001');
    }
    expect(r.ok).toBe(false);
    expect(r.crossCheck.ran).toBe(false);

    // The server side, over the wire with NFSv4: written from sc1, read and removed from sc2. After
    // its restart ganesha refuses creates for its grace period (NFS4ERR_GRACE, 15 s as tuned above).
    onHost(CLIENTS[0], 'echo from-sc1 > /tmp/probe');
    for (let i = 0; ; i++) {
      const cp = spawnSync(
        'ssh',
        [...sshArgs(CLIENTS[0]), `nfs-cp /tmp/probe '${nfsUrl('/probe.txt?version=4')}'`],
        {
          encoding: 'utf8',
        },
      );
      if (cp.status === 0) break;
      expect(cp.stderr).toMatch(/NFS4ERR_GRACE/);
      if (i > 30) throw new Error(`still in grace after ${i * 5} s`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    expect(onHost(CLIENTS[1], `nfs-cat '${nfsUrl('/probe.txt?version=4')}'`)).toBe('from-sc1');
    // all_squash, anonuid: the file belongs to the service user whoever wrote it
    expect(onHost(NFS, 'stat -c %u:%g /srv/export/probe.txt')).toBe('2001:2001');
    expect(onHost(CLIENTS[1], `nfs-ls '${nfsUrl('?version=4')}'`)).toMatch(/ 9 probe\.txt$/m);
    // libnfs-utils has no rm (and ganesha caches directory entries): the server cleans up.
    onHost(NFS, 'rm /srv/export/probe.txt');
  });

  it('changes nothing when run again', async () => {
    const r = await run('storage-export', nfsSpec);
    expect(r.changes).toEqual([]);
    expect(r.changed).toBe(false);
    expect(Object.values(r.recap).every((h) => h.changed === 0)).toBe(true);
  });
});

describe('storage-export, NFS with the kernel server', () => {
  it('merges /etc/exports and checks it with exportfs -v, then says the kernel has no nfsd; a re-run changes nothing', async () => {
    onHost(
      KERNEL_NFS,
      'mkdir -p /srv/other && echo "/srv/other 10.9.9.9(ro,no_subtree_check)   # an operator\'s own export" > /etc/exports',
    );
    const r = await run('storage-export', kernelSpec);
    expect(r.changes).toContain(`${KERNEL_NFS}: /etc/exports`);
    expect(onHost(KERNEL_NFS, 'cat /etc/exports')).toBe(
      [
        "/srv/other 10.9.9.9(ro,no_subtree_check)   # an operator's own export",
        `/srv/export ${hostAddress(CLIENTS[0])}(rw,sync,no_subtree_check,all_squash,anonuid=2001,anongid=2001)`,
      ].join('\n'),
    );
    const live = onHost(KERNEL_NFS, 'exportfs -v')
      .split('\n')
      .find((l) => l.startsWith('/srv/export'));
    expect(live).toContain(`${hostAddress(CLIENTS[0])}(`);
    for (const o of ['rw', 'sync', 'no_subtree_check', 'all_squash', 'anonuid=2001', 'anongid=2001'])
      expect(live?.split(/[(),]/)).toContain(o);
    expect(r.ok).toBe(false);
    expect(r.failures.join('\n')).toMatch(/nfs2: the kernel has no NFS server \(no nfsd/);
    expect(onHost(KERNEL_NFS, 'grep -w nfsd /proc/filesystems || echo none')).toBe('none');
    expect((await run('storage-export', kernelSpec)).changes).toEqual([]);
  });
});

describe('storage-export, GlusterFS replica 2', () => {
  it('refuses bricks on the root filesystem unless the spec allows them', async () => {
    const err = await run('storage-export', gluster('no-force', GLUSTER, 'strict', false)).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureText(err)).toMatch(/root partition/);
    expect(onHost(GLUSTER[0], 'gluster --mode=script volume list')).not.toMatch(/strict/);
  });

  it('builds the pool and volume, mounts it with FUSE on two clients and passes the cross-node check; a re-run changes nothing', async () => {
    const r = await run('storage-export', gluster('gluster', GLUSTER));
    expect(r.ok).toBe(true);
    expect(r.changes.join('\n')).toMatch(/volume shared created \(replica 2/);
    const info = onHost(GLUSTER[0], 'gluster --mode=script volume info shared');
    expect(info).toMatch(/^Type: Replicate$/m);
    expect(info).toMatch(/^Status: Started$/m);
    expect(info).toMatch(/^performance.cache-size: 64MB$/m);
    expect(onHost(GLUSTER[0], 'gluster --mode=script peer status')).toMatch(/Peer in Cluster \(Connected\)/);
    for (const c of CLIENTS) {
      expect(onHost(c, 'findmnt -n -o FSTYPE /srv/shared')).toBe('fuse.glusterfs');
      expect(onHost(c, 'grep " /srv/shared " /etc/fstab')).toMatch(
        / glusterfs _netdev,backup-volfile-servers=/,
      );
      expect(onHost(c, 'stat -c %u:%g:%a /srv/shared')).toBe('2001:2001:770');
    }
    expect(r.crossCheck).toMatchObject({ ran: true, writer: 'sc1', reader: 'sc2' });
    // a file on the volume is on both bricks of the replica set
    onHost(CLIENTS[0], 'runuser -u filesync -- sh -c "echo kept > /srv/shared/kept.txt"');
    for (const s of GLUSTER) expect(onHost(s, 'cat /srv/bricks/shared/kept.txt')).toBe('kept');

    const again = await run('storage-export', gluster('gluster', GLUSTER));
    expect(again.changes).toEqual([]);
    expect(again.ok).toBe(true);
  });

  it('storage-expand adds a brick pair, rebalances and heals; the data stays; a re-run changes nothing', async () => {
    const file = gluster('expanded', [...GLUSTER, ...MORE]);
    const r = await run('storage-expand', file);
    expect(r.ok).toBe(true);
    expect(r.changes.join('\n')).toMatch(
      new RegExp(`bricks added: ${hostAddress(MORE[0])}:/srv/bricks/shared`),
    );
    expect(r.changes.join('\n')).toMatch(/rebalanced/);
    const info = onHost(GLUSTER[0], 'gluster --mode=script volume info shared');
    expect(info).toMatch(/^Type: Distributed-Replicate$/m);
    expect(info).toMatch(/^Number of Bricks: 2 x 2 = 4$/m);
    expect(onHost(CLIENTS[1], 'cat /srv/shared/kept.txt')).toBe('kept');
    expect((await run('storage-expand', file)).changes).toEqual([]);
  });

  it('attaches a joining node with the cross-node check (node-join) and detaches it (node-remove)', async () => {
    const loaded = loadSpec(gluster('expanded', [...GLUSTER, ...MORE]));
    const attach = (detach: boolean) =>
      withWorker(settings, (client) =>
        client.workflow.execute(storageNode, {
          taskQueue: settings.taskQueue,
          workflowId: `storage-node/${cluster}/${Date.now()}`,
          args: [{ ...storageInput(loaded), node: targetFor(loaded.inventory, JOINING), detach }],
        }),
      );
    const attached = await attach(false);
    expect(attached.ok).toBe(true);
    expect(attached.clients[JOINING]).toEqual({ mounted: true });
    expect(attached.crossCheck).toMatchObject({ ran: true, writer: JOINING, reader: CLIENTS[0] });
    expect(onHost(JOINING, 'cat /srv/shared/kept.txt')).toBe('kept');
    expect((await attach(false)).changes).toEqual([]);

    const detached = await attach(true);
    expect(detached.changes).toEqual([`${JOINING}: /srv/shared unmounted, fstab entry removed`]);
    expect(onHost(JOINING, 'findmnt /srv/shared >/dev/null && echo mounted || echo not')).toBe('not');
    expect(onHost(JOINING, 'grep -c " /srv/shared " /etc/fstab || true')).toBe('0');
    // the others keep the storage
    expect(onHost(CLIENTS[0], 'cat /srv/shared/kept.txt')).toBe('kept');
  });

  it('InterWorx layout (seed 001): mounts at /chroot and turns /home into a link to /chroot/home, keeping the old /home', async () => {
    onHost(JOINING, 'mkdir -p /home/siteuser && echo mine > /home/siteuser/marker');
    const file = spec(
      'interworx',
      `  kind: glusterfs
  ${OWNER}
  glusterfs: { servers: [${[...GLUSTER, ...MORE].join(', ')}], volume: shared, replica: 2, brick: /srv/bricks/shared, allowRootBrick: true, options: { performance.cache-size: 64MB } }
  clients: { hosts: [${JOINING}], mountPoint: /chroot, chrootHome: true }
`,
    );
    const r = await run('storage-export', file);
    expect(r.ok).toBe(true);
    expect(r.changes).toContain(`${JOINING}: /home → /chroot/home`);
    expect(onHost(JOINING, 'readlink /home')).toBe('/chroot/home');
    expect(onHost(JOINING, 'cat /home/siteuser/marker /home.before-clusterflow/siteuser/marker')).toBe(
      'mine\nmine',
    );
    // on the shared volume: another client sees the user's home
    expect(onHost(CLIENTS[0], 'cat /srv/shared/home/siteuser/marker')).toBe('mine');
    expect((await run('storage-export', file)).changes).toEqual([]);
  });
});
