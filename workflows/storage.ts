import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { nonRetryableFailureTypes, FailureTypes } from '../common/errors';
import type { HostTarget } from '../common/hosts';
import type { ModuleName } from '../common/modules';
import { addToRecap, statusOf, type HostRecap } from '../common/play';
import type { StorageInput } from '../common/storage';
import { withClusterLock, type UnderLock } from './lock';
import type { ResultEnvelope } from '../common/progress';
import { ProgressBook } from './progress';

// Shared storage, seeds 000-003: the same path with the same owner on every node, served by NFS
// (kernel nfsd or nfs-ganesha) or a GlusterFS replica volume. Every step converges, so a re-run on
// a converged cluster changes nothing and a resumed run after a crash simply goes on.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: nonRetryableFailureTypes,
  },
});

export interface ClientMount {
  mounted: boolean;
  /** Why a client could not mount (feature detection), when it could not. */
  reason?: string;
}

export interface StorageResult extends ResultEnvelope {
  operation: 'storage-export' | 'storage-expand' | 'storage-attach' | 'storage-detach';
  kind: 'nfs' | 'glusterfs';
  ok: boolean;
  /** `host: what changed`, in order. */
  changes: string[];
  recap: Record<string, HostRecap>;
  clients: Record<string, ClientMount>;
  crossCheck: { ran: boolean; writer?: string; reader?: string; ms?: number; reason?: string };
  failures: string[];
}

/** One converging step on one host, recorded Ansible-style and in the progress (an entry per host). */
class Steps {
  private readonly book: ProgressBook;

  constructor(
    readonly result: StorageResult,
    hosts: HostTarget[],
  ) {
    this.book = new ProgressBook(
      result.operation,
      result.cluster,
      uniqueHosts(hosts).map((h) => h.name),
    );
    result.entries = this.book.entries;
  }

  phase(name: string): void {
    this.book.phase(name);
  }

  /** The end: every host not failed is changed or ok. */
  done(phase?: string): void {
    this.book.finishAll();
    if (phase) this.book.phase(phase);
  }

  record(host: string, what: string, changed: boolean): void {
    addToRecap(this.result.recap, host, changed ? 'changed' : 'ok');
    this.book.entry(host);
    if (changed) {
      this.result.changes.push(`${host}: ${what}`);
      this.result.changed = true;
      this.book.changed(host, what);
    }
  }

  async task(host: HostTarget, what: string, module: ModuleName, args: unknown): Promise<void> {
    const r = await acts.runTask.executeWithOptions({ summary: `${host.name}: ${what}` }, [
      { host, module, args, vars: {}, check: false, diff: false },
    ]);
    if (r.failed) {
      addToRecap(this.result.recap, host.name, statusOf(r));
      throw ApplicationFailure.nonRetryable(`${host.name}: ${what}: ${r.msg}`, FailureTypes.ModuleFailed);
    }
    this.record(host.name, what, r.changed);
  }

  fail(host: string, why: string): void {
    addToRecap(this.result.recap, host, 'failed');
    this.book.finish(host, 'failed', why);
    this.result.failures.push(why);
    this.result.ok = false;
  }
}

const FORKS = 10;

/**
 * Refuses before any change when the service user's ids differ between hosts (seed 002 checks
 * 1001:1001 on every node): a mismatch would show files with the wrong owner on some nodes.
 */
async function ownerIdsAgree(steps: Steps, input: StorageInput, hosts: HostTarget[]): Promise<void> {
  steps.phase('owner ids');
  const problems = await acts.storageOwnerProblems({ hosts, owner: input.section.owner });
  if (problems.length)
    throw ApplicationFailure.nonRetryable(
      `the service user's ids differ; nothing was changed:\n  ${problems.join('\n  ')}`,
      FailureTypes.OwnerMismatch,
      problems,
    );
}

async function serviceAccount(steps: Steps, input: StorageInput, hosts: HostTarget[]): Promise<void> {
  steps.phase('service user');
  const { user, uid, gid } = input.section.owner;
  const group = input.section.owner.group ?? user;
  await mapWithLimit(hosts, FORKS, async (h) => {
    await steps.task(h, `group ${group} (${gid})`, 'group', { name: group, gid });
    await steps.task(h, `user ${user} (${uid})`, 'user', {
      name: user,
      uid,
      group,
      create_home: false,
      shell: '/usr/sbin/nologin',
    });
  });
}

const uniqueHosts = (hosts: HostTarget[]) => [...new Map(hosts.map((h) => [h.name, h])).values()];

function emptyResult(input: StorageInput, operation: StorageResult['operation']): StorageResult {
  return {
    cluster: input.cluster,
    operation,
    entries: [],
    kind: input.section.kind,
    ok: true,
    changed: false,
    changes: [],
    recap: {},
    clients: {},
    crossCheck: { ran: false },
    failures: [],
  };
}

/** The GlusterFS side: pool, bricks, volume (and, for expand, the new bricks, rebalance, heal). */
async function glusterServers(steps: Steps, input: StorageInput, expand: boolean): Promise<void> {
  const g = input.section.glusterfs!;
  steps.phase('glusterd and trusted pool');
  await mapWithLimit(input.servers, FORKS, async (s) => {
    await steps.task(s, 'glusterfs-server', 'package', { name: ['glusterfs-server'] });
    // No mode here: the brick root carries the volume root's owner and mode (set from a client).
    await steps.task(s, `brick ${g.brick}`, 'file', { path: g.brick, state: 'directory' });
  });
  for (const c of await acts.glusterPeers({ servers: input.servers, timeoutSeconds: g.peerTimeoutSeconds }))
    steps.record(input.servers[0].name, c, true);
  steps.phase(expand ? 'adding bricks, rebalance, heal' : `volume ${g.volume}`);
  for (const c of await acts.glusterVolume({
    server: input.servers[0],
    volume: g.volume,
    replica: g.replica,
    servers: input.servers.map((s) => s.address),
    brick: g.brick,
    force: g.allowRootBrick,
    options: g.options,
    expand,
  }))
    steps.record(input.servers[0].name, c, true);
}

async function nfsServer(steps: Steps, input: StorageInput): Promise<void> {
  const nfs = input.section.nfs!;
  const { owner } = input.section;
  const server = input.servers[0];
  steps.phase(`NFS exports on ${server.name} (${nfs.backend})`);
  await steps.task(server, 'NFS server packages', 'package', {
    name: nfs.backend === 'kernel' ? ['nfs-kernel-server'] : ['nfs-ganesha', 'nfs-ganesha-vfs'],
  });
  for (const e of nfs.exports)
    await steps.task(server, `export directory ${e.path}`, 'file', {
      path: e.path,
      state: 'directory',
      owner: owner.user,
      group: owner.group ?? owner.user,
      mode: owner.mode,
    });
  const exported = await acts.nfsExport({ server, backend: nfs.backend, exports: input.exports });
  for (const c of exported.changed) steps.record(server.name, c, true);
  if (!exported.serving) steps.fail(server.name, exported.reason ?? `${server.name}: not serving NFS`);
}

/**
 * Every client: packages, mount point, fstab entry and the mount itself where the kernel can;
 * where it cannot, the steps up to `mount` run and the client is reported with the reason.
 */
async function mountClients(steps: Steps, input: StorageInput, clients: HostTarget[]): Promise<HostTarget[]> {
  const { section } = input;
  const c = section.clients;
  steps.phase('client mounts');
  const support = await mapWithLimit(clients, FORKS, (h) =>
    acts.mountSupport({ host: h, kind: section.kind }),
  );
  const source =
    section.kind === 'nfs'
      ? `${input.servers[0].address}:${section.nfs!.exports[0].path}`
      : `${input.servers[0].address}:/${section.glusterfs!.volume}`;
  const opts = [
    '_netdev',
    ...(section.kind === 'nfs'
      ? [`vers=${c.version}`, c.hard ? 'hard' : 'soft']
      : input.servers.length > 1
        ? [
            `backup-volfile-servers=${input.servers
              .slice(1)
              .map((s) => s.address)
              .join(':')}`,
          ]
        : []),
    ...c.options,
  ].join(',');
  const mounted: HostTarget[] = [];
  await mapWithLimit(clients, FORKS, async (h, i) => {
    await steps.task(h, section.kind === 'nfs' ? 'nfs-common' : 'glusterfs-client', 'package', {
      name: [section.kind === 'nfs' ? 'nfs-common' : 'glusterfs-client'],
    });
    await steps.task(h, `mount point ${c.mountPoint}`, 'file', { path: c.mountPoint, state: 'directory' });
    const can = support[i];
    await steps.task(
      h,
      `${can.supported ? 'mounted' : 'fstab entry for'} ${source} on ${c.mountPoint}`,
      'mount',
      {
        path: c.mountPoint,
        src: source,
        fstype: section.kind === 'nfs' ? 'nfs' : 'glusterfs',
        opts,
        state: can.supported ? 'mounted' : 'present',
      },
    );
    steps.result.clients[h.name] = { mounted: can.supported, reason: can.reason };
    if (!can.supported) {
      steps.fail(h.name, `${can.reason}: not mounted (fstab entry written; it mounts once the kernel can)`);
      return;
    }
    mounted.push(h);
  });
  mounted.sort((a, b) => clients.indexOf(a) - clients.indexOf(b));
  // NFS sets the owner on the server (root is squashed on clients); a GlusterFS root is owned here.
  if (section.kind === 'glusterfs' && mounted.length)
    await steps.task(mounted[0], `owner of ${c.mountPoint}`, 'file', {
      path: c.mountPoint,
      state: 'directory',
      owner: section.owner.user,
      group: section.owner.group ?? section.owner.user,
      mode: section.owner.mode,
    });
  if (c.chrootHome)
    for (const h of mounted)
      steps.record(
        h.name,
        `/home → ${c.mountPoint}/home`,
        await acts.homeLink({ host: h, target: `${c.mountPoint}/home` }),
      );
  return mounted;
}

async function crossCheck(steps: Steps, input: StorageInput, mounted: HostTarget[]): Promise<void> {
  const r = steps.result;
  if (mounted.length < 2) {
    r.crossCheck = {
      ran: false,
      reason: `needs two mounted clients, ${mounted.length} mounted (${input.clients.map((c) => c.name).join(', ')})`,
    };
    if (input.clients.length >= 2) r.ok = false;
    return;
  }
  steps.phase('cross-node check');
  const [writer, reader] = mounted;
  const { ms } = await acts.storageCrossCheck({
    writer,
    reader,
    mountPoint: input.section.clients.mountPoint,
    user: input.section.owner.user,
    uid: input.section.owner.uid,
    token: workflowInfo().runId,
  });
  r.crossCheck = { ran: true, writer: writer.name, reader: reader.name, ms };
}

/**
 * One node onto the shared storage (node-join) or off it (node-remove): its owner ids checked
 * against the servers, the service user, the mount (or unmount and fstab entry removed), and the
 * cross-node check against another client. Runs inside the caller's cluster lock, so takes none.
 */
export async function storageNode(
  input: StorageInput & { node: HostTarget; detach: boolean },
): Promise<StorageResult> {
  const result = emptyResult(input, input.detach ? 'storage-detach' : 'storage-attach');
  const steps = new Steps(result, [input.node]);
  const { mountPoint } = input.section.clients;
  if (input.detach) {
    steps.phase(`unmounting ${mountPoint}`);
    await steps.task(input.node, `${mountPoint} unmounted, fstab entry removed`, 'mount', {
      path: mountPoint,
      state: 'absent',
    });
    steps.done();
    return result;
  }
  await ownerIdsAgree(steps, input, uniqueHosts([...input.servers, input.node]));
  await serviceAccount(steps, input, [input.node]);
  const mounted = await mountClients(steps, input, [input.node]);
  const peer = input.clients.find((c) => c.name !== input.node.name);
  if (mounted.length && peer) await crossCheck(steps, input, [input.node, peer]);
  steps.done();
  return result;
}

/** `storage-export`: the service user everywhere, the server side, the client mounts, the cross-node test. */
export async function storageExport(input: StorageInput & UnderLock): Promise<StorageResult> {
  return withClusterLock(input, 'storage-export', async () => {
    const result = emptyResult(input, 'storage-export');
    const everyone = uniqueHosts([...input.servers, ...input.clients]);
    const steps = new Steps(result, everyone);
    await ownerIdsAgree(steps, input, everyone);
    await serviceAccount(steps, input, everyone);
    if (input.section.kind === 'nfs') await nfsServer(steps, input);
    else await glusterServers(steps, input, false);
    const mounted = await mountClients(steps, input, input.clients);
    await crossCheck(steps, input, mounted);
    steps.done(result.ok ? 'done' : 'done with failures');
    return result;
  });
}

/** `storage-expand` (GlusterFS): servers added to the spec join the pool, their bricks the volume; rebalance and heal. */
export async function storageExpand(input: StorageInput): Promise<StorageResult> {
  if (input.section.kind !== 'glusterfs')
    throw ApplicationFailure.nonRetryable(
      'storage-expand: only a GlusterFS volume can grow',
      FailureTypes.BadInput,
    );
  return withClusterLock(input, 'storage-expand', async () => {
    const result = emptyResult(input, 'storage-expand');
    const steps = new Steps(result, [...input.servers, ...input.clients]);
    await ownerIdsAgree(steps, input, input.servers);
    await serviceAccount(steps, input, input.servers);
    await glusterServers(steps, input, true);
    const mounted = await mountClients(steps, input, input.clients);
    await crossCheck(steps, input, mounted);
    steps.done(result.ok ? 'done' : 'done with failures');
    return result;
  });
}
