import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import type { StorageSection } from '../../common/storage';
import { Remote } from '../remote';
import type { SshPool } from '../ssh/pool';
import { shellQuote } from '../ssh/quote';
import { mergeExports, mergeGanesha, parseExportfsVerbose, type ExportEntry } from './exports';
import { parsePeerStatus, parseVolumeInfo, volumeCreateArgs } from './gluster';
import type { Hooks } from '../hooks';

// Shared storage over SSH: the service user's ids everywhere, NFS exports (kernel nfsd or
// nfs-ganesha), client mounts where the kernel can, and the seeds' cross-node check.

type Owner = Omit<StorageSection['owner'], 'mode'>;

const GANESHA_CONF = '/etc/ganesha/ganesha.conf';
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export function createStorageActivities(pool: SshPool, hooks: Hooks) {
  const remote = (t: HostTarget) => new Remote(pool, t, hooks());

  /** Replaces a file when its text differs; true if it changed. */
  async function converge(r: Remote, path: string, edit: (text: string) => string): Promise<boolean> {
    const current = (await r.stat(path, true)).content?.toString('utf8') ?? '';
    const wanted = edit(current);
    if (wanted === current) return false;
    await r.writeFile(path, wanted, { mode: '0644' });
    return true;
  }

  return {
    /**
     * Seed 002's rule, checked before anything changes: the service user and group have the same
     * ids on every host (or do not exist yet), and no other account holds those ids.
     */
    async storageOwnerProblems(input: { hosts: HostTarget[]; owner: Owner }): Promise<string[]> {
      const { user, uid, gid } = input.owner;
      const group = input.owner.group ?? user;
      const problems: string[] = [];
      await Promise.all(
        input.hosts.map(async (h) => {
          const out = (
            await remote(h).must(
              [
                `getent passwd ${shellQuote(user)} | cut -d: -f3`,
                `echo /`,
                `getent group ${shellQuote(group)} | cut -d: -f3`,
                `echo /`,
                `getent passwd ${uid} | cut -d: -f1`,
                `echo /`,
                `getent group ${gid} | cut -d: -f1`,
              ].join('; '),
              'reading accounts',
            )
          ).stdout
            .split('/')
            .map((s) => s.trim());
          const [u, g, uidHolder, gidHolder] = out;
          if (u && Number(u) !== uid)
            problems.push(`uid: ${user} is ${u} on ${h.name}, the spec says ${uid}`);
          if (g && Number(g) !== gid)
            problems.push(`gid: ${group} is ${g} on ${h.name}, the spec says ${gid}`);
          if (uidHolder && uidHolder !== user)
            problems.push(`uid: ${uid} belongs to ${uidHolder} on ${h.name}`);
          if (gidHolder && gidHolder !== group)
            problems.push(`gid: ${gid} belongs to ${gidHolder} on ${h.name}`);
        }),
      );
      return problems.sort();
    },

    /** The export entries in the server's config, applied and verified. Returns what changed. */
    async nfsExport(input: {
      server: HostTarget;
      backend: 'kernel' | 'ganesha';
      exports: ExportEntry[];
    }): Promise<{ changed: string[]; serving: boolean; reason?: string }> {
      const r = remote(input.server);
      const changed: string[] = [];
      if (input.backend === 'kernel') {
        if (await converge(r, '/etc/exports', (t) => mergeExports(t, input.exports)))
          changed.push('/etc/exports');
        await r.must('exportfs -ra', 'exportfs -ra');
        const live = parseExportfsVerbose((await r.must('exportfs -v', 'exportfs -v')).stdout);
        for (const e of input.exports)
          for (const c of e.clients) {
            const options = live.get(e.path)?.get(c.match);
            const missing = c.options.filter((o) => !options?.includes(o));
            if (!options || missing.length)
              throw ApplicationFailure.nonRetryable(
                `${input.server.name}: exportfs -v does not show ${e.path} to ${c.match}${options ? ` with ${missing.join(',')}` : ''}`,
                FailureTypes.ExportNotLive,
              );
          }
        // exportfs works from userspace (etab); serving needs the kernel's nfsd. Say it plainly.
        const nfsd = (
          await r.run(
            `grep -qw nfsd /proc/filesystems && echo builtin || (modprobe -n -q nfsd 2>/dev/null && echo module) || echo none`,
          )
        ).stdout;
        if (nfsd.includes('none'))
          return {
            changed,
            serving: false,
            reason: `${input.server.name}: the kernel has no NFS server (no nfsd in /proc/filesystems, modprobe -n nfsd finds no module): the exports are configured and shown by exportfs -v, but nothing serves them`,
          };
        if ((await r.run('systemctl is-active -q nfs-server')).exitCode !== 0) {
          await r.must('systemctl enable -q --now nfs-server', 'starting nfs-server');
          changed.push('nfs-server started');
        }
        return { changed, serving: true };
      }
      if (await converge(r, GANESHA_CONF, (t) => mergeGanesha(t, input.exports))) {
        changed.push(GANESHA_CONF);
        await r.must(
          'systemctl enable -q nfs-ganesha && systemctl restart nfs-ganesha',
          'restarting nfs-ganesha',
        );
      } else if ((await r.run('systemctl is-active -q nfs-ganesha')).exitCode !== 0) {
        await r.must('systemctl enable -q --now nfs-ganesha', 'starting nfs-ganesha');
        changed.push('nfs-ganesha started');
      }
      // Serving once every export is loaded (ganesha's admin interface lists it) and NFS's port
      // answers. An export whose path gives no file handles is silently left out; say why.
      const paths = input.exports.map((e) => e.path);
      for (let i = 0; ; i++) {
        const state = await r.run(
          `ss -Hltn '( sport = :2049 )' | grep -q . && echo listening; ` +
            `dbus-send --system --print-reply --dest=org.ganesha.nfsd /org/ganesha/nfsd/ExportMgr org.ganesha.nfsd.exportmgr.ShowExports 2>/dev/null | grep -o 'string "/[^"]*"'`,
        );
        const loaded = [...state.stdout.matchAll(/string "([^"]+)"/g)].map((m) => m[1]);
        const missing = paths.filter((p) => !loaded.includes(p));
        if (state.stdout.includes('listening') && missing.length === 0) break;
        if (i > 100) {
          const why = (
            await r.run(
              `grep -h CRIT /var/log/ganesha/ganesha.log 2>/dev/null | grep -F -e ${missing.map(shellQuote).join(' -e ') || "''"} | tail -2`,
            )
          ).stdout.trim();
          throw ApplicationFailure.nonRetryable(
            `${input.server.name}: nfs-ganesha does not serve ${missing.join(', ') || 'NFS on port 2049'}${why ? `: ${why}` : ''}`,
            FailureTypes.ExportNotLive,
          );
        }
        hooks().onTick?.();
        await sleep(200);
      }
      return { changed, serving: true };
    },

    /**
     * Can this kernel mount the storage at all? Feature detection before anything changes, so a
     * kernel without an NFS client (or a host without /dev/fuse) is said plainly instead of as an
     * error from inside mount(8).
     */
    async mountSupport(input: {
      host: HostTarget;
      kind: 'nfs' | 'glusterfs';
    }): Promise<{ supported: boolean; reason?: string }> {
      const r = remote(input.host);
      if (input.kind === 'nfs') {
        const out = (
          await r.run(
            `grep -qw nfs4 /proc/filesystems && echo builtin || (modprobe -n -q nfs 2>/dev/null && echo module) || echo none`,
          )
        ).stdout;
        return out.includes('none')
          ? {
              supported: false,
              reason: `${input.host.name}: the kernel has no NFS client (no nfs4 in /proc/filesystems, modprobe -n nfs finds no module)`,
            }
          : { supported: true };
      }
      const out = (await r.run(`test -c /dev/fuse && echo dev; grep -qw fuse /proc/filesystems && echo fs`))
        .stdout;
      if (!out.includes('dev'))
        return { supported: false, reason: `${input.host.name}: no /dev/fuse (GlusterFS mounts with FUSE)` };
      if (!out.includes('fs'))
        return { supported: false, reason: `${input.host.name}: the kernel has no FUSE filesystem` };
      return { supported: true };
    },

    /**
     * glusterd on every server and one trusted pool: probes from the first server, retried until
     * every other server is "Peer in Cluster" and connected. Returns the servers it probed.
     */
    async glusterPeers(input: { servers: HostTarget[]; timeoutSeconds: number }): Promise<string[]> {
      const started: string[] = [];
      for (const s of input.servers) {
        const r = remote(s);
        if ((await r.run('systemctl is-active -q glusterd')).exitCode === 0) continue;
        await r.must('systemctl enable -q --now glusterd', 'starting glusterd');
        started.push(`glusterd started on ${s.name}`);
      }
      const [first, ...others] = input.servers;
      const r = remote(first);
      const probed: string[] = [];
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      for (;;) {
        const peers = parsePeerStatus(
          (await r.must('gluster --mode=script peer status', 'peer status')).stdout,
        );
        const missing = others.filter(
          (o) => !peers.some((p) => p.hostname === o.address && p.state === 'Peer in Cluster' && p.connected),
        );
        if (missing.length === 0) break;
        if (Date.now() > deadline)
          throw ApplicationFailure.nonRetryable(
            `${first.name}: not in the trusted pool after ${input.timeoutSeconds} s: ${missing
              .map((m) => {
                const p = peers.find((x) => x.hostname === m.address);
                return `${m.name} (${p ? `${p.state}${p.connected ? '' : ', disconnected'}` : 'not probed'})`;
              })
              .join(', ')}`,
            FailureTypes.GlusterPeerNotInCluster,
          );
        for (const m of missing.filter((m) => !peers.some((p) => p.hostname === m.address))) {
          // glusterd on the peer may still be starting: a refused probe is tried again.
          const probe = await r.run(`gluster --mode=script peer probe ${shellQuote(m.address)}`);
          if (probe.exitCode === 0 && !probed.includes(m.name)) probed.push(`peer ${m.name} probed`);
        }
        hooks().onTick?.();
        await sleep(1000);
      }
      return [...started, ...probed];
    },

    /**
     * The volume as the spec says: created (replica sets in server order), options set, started,
     * every brick online. With `expand`, bricks the volume lacks are added (whole replica sets),
     * then the layout is rebalanced and the self-heal run until nothing is left to heal.
     */
    async glusterVolume(input: {
      server: HostTarget;
      volume: string;
      replica: number;
      /** Brick hosts' addresses, in replica-set order, and the brick directory on each. */
      servers: string[];
      brick: string;
      force: boolean;
      options: Record<string, string>;
      expand: boolean;
    }): Promise<string[]> {
      const r = remote(input.server);
      const gluster = (args: string, step: string) => r.must(`gluster --mode=script ${args}`, step);
      const vol = shellQuote(input.volume);
      const changes: string[] = [];
      const bricks = input.servers.map((s) => `${s}:${input.brick}`);
      const info = async () =>
        parseVolumeInfo((await r.run(`gluster --mode=script volume info ${vol}`)).stdout).find(
          (v) => v.name === input.volume,
        );
      let volume = await info();
      if (!volume) {
        await gluster(
          volumeCreateArgs({ ...input, servers: input.servers })
            .map(shellQuote)
            .join(' '),
          'volume create',
        );
        changes.push(`volume ${input.volume} created (replica ${input.replica}: ${bricks.join(' ')})`);
        volume = await info();
      }
      if (!volume)
        throw ApplicationFailure.nonRetryable(
          `volume ${input.volume} is not listed after create`,
          FailureTypes.CommandFailed,
        );
      const extra = bricks.filter((b) => !volume!.bricks.includes(b));
      const unknown = volume.bricks.filter((b) => !bricks.includes(b));
      if (unknown.length)
        throw ApplicationFailure.nonRetryable(
          `volume ${input.volume} has bricks the spec does not list: ${unknown.join(', ')}`,
          FailureTypes.VolumeMismatch,
        );
      if (extra.length && !input.expand)
        throw ApplicationFailure.nonRetryable(
          `volume ${input.volume} lacks the bricks ${extra.join(', ')}: run storage-expand to add them`,
          FailureTypes.VolumeMismatch,
        );
      for (const [key, value] of Object.entries(input.options)) {
        if (volume.options[key] === value) continue;
        await gluster(`volume set ${vol} ${shellQuote(key)} ${shellQuote(value)}`, `volume set ${key}`);
        changes.push(`${key} = ${value}`);
      }
      if (volume.status !== 'Started') {
        await gluster(`volume start ${vol}`, 'volume start');
        changes.push(`volume ${input.volume} started`);
      }
      if (extra.length) {
        if (extra.length % input.replica !== 0)
          throw ApplicationFailure.nonRetryable(
            `${extra.length} new brick(s) do not make whole replica-${input.replica} sets`,
            FailureTypes.VolumeMismatch,
          );
        await gluster(
          `volume add-brick ${vol} replica ${input.replica} ${extra.map(shellQuote).join(' ')}${input.force ? ' force' : ''}`,
          'volume add-brick',
        );
        changes.push(`bricks added: ${extra.join(' ')}`);
        await gluster(`volume rebalance ${vol} start`, 'rebalance start');
        await waitFor(r, `gluster --mode=script volume rebalance ${vol} status`, (out) => {
          if (/failed/i.test(out.split('\n').slice(2).join('\n')))
            throw ApplicationFailure.nonRetryable(
              `rebalance of ${input.volume} failed:\n${out}`,
              FailureTypes.RebalanceFailed,
            );
          return /completed/.test(out) && !/in progress|not started/.test(out);
        });
        changes.push('rebalanced');
      }
      // Every brick and self-heal daemon online, and nothing left to heal.
      await waitFor(r, `gluster --mode=script volume status ${vol}`, (out) =>
        bricks.every((b) => new RegExp(`^Brick ${escapeRe(b)}\\s.*\\sY\\s+\\d+\\s*$`, 'm').test(out)),
      );
      if (extra.length) await gluster(`volume heal ${vol}`, 'volume heal');
      await waitFor(r, `gluster --mode=script volume heal ${vol} info`, (out) =>
        [...out.matchAll(/^Number of entries: (\d+)/gm)].every((m) => m[1] === '0'),
      );
      return changes;
    },

    /**
     * The seeds' cross-node test: a file created as the service user on one node is seen, with
     * that owner, on another, removed there, and gone on the first.
     */
    async storageCrossCheck(input: {
      writer: HostTarget;
      reader: HostTarget;
      mountPoint: string;
      user: string;
      uid: number;
      token: string;
    }): Promise<{ ms: number }> {
      const started = Date.now();
      const file = shellQuote(`${input.mountPoint}/.clusterflow-check-${input.token}`);
      const w = remote(input.writer);
      const rd = remote(input.reader);
      await w.must(
        `runuser -u ${shellQuote(input.user)} -- sh -c 'echo ${input.token} > '${shellQuote(file)}`,
        `writing ${file} as ${input.user}`,
      );
      // NFS attribute caches may hide a new file for a moment; a second is plenty.
      const seen = (
        await waitFor(rd, `stat -c '%u' ${file} && cat ${file}`, (out) => out.includes(input.token), 20)
      ).split('\n')[0];
      if (Number(seen) !== input.uid)
        throw ApplicationFailure.nonRetryable(
          `${input.reader.name}: ${file} is owned by uid ${seen}, expected ${input.user} (${input.uid})`,
          FailureTypes.CrossCheckFailed,
        );
      await rd.must(`rm -f ${file}`, `removing ${file}`);
      await waitFor(w, `test -e ${file} || echo gone`, (out) => out.includes('gone'), 20);
      return { ms: Date.now() - started };
    },

    /** InterWorx (seed 001): /home becomes a link into the shared mount; the old /home is kept aside. */
    async homeLink(input: { host: HostTarget; target: string }): Promise<boolean> {
      const r = remote(input.host);
      const t = shellQuote(input.target);
      const now = (await r.run(`readlink /home`)).stdout.trim();
      if (now === input.target) return false;
      await r.must(
        `mkdir -p ${t} && if [ -L /home ]; then rm /home; elif [ -e /home ]; then cp -a /home/. ${t}/ && mv /home /home.before-clusterflow; fi && ln -s ${t} /home`,
        '/home → shared storage',
      );
      return true;
    },
  };

  /** Polls a read-only command until `done` says so (returning its output); each poll heartbeats. */
  async function waitFor(
    r: Remote,
    command: string,
    done: (out: string) => boolean,
    tries = 300,
  ): Promise<string> {
    let last = '';
    for (let i = 0; i < tries; i++) {
      last = (await r.run(command)).stdout;
      if (done(last)) return last;
      hooks().onTick?.();
      await sleep(1000);
    }
    throw ApplicationFailure.nonRetryable(
      `${r.target.name}: still waiting after ${tries} s for: ${command}\n${last.slice(0, 800)}`,
      FailureTypes.StorageNotReady,
    );
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
