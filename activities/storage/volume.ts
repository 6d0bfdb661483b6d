import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import { shellQuote } from '../ssh/quote';
import { sleep, type StorageContext } from './context';
import {
  bricksOffline,
  parsePeerStatus,
  parseVolumeInfo,
  selfHealOffline,
  volumeCreateArgs,
  volumeOnline,
} from './gluster';

// GlusterFS on the file servers: one trusted pool of peers, and the volume on it as the spec
// says (created, set, started, expanded, healed).

export function glusterActivities({ remote, hooks, waitFor }: StorageContext) {
  return {
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
      // Every brick and self-heal daemon online, and nothing left to heal. glusterd now and then
      // leaves a new brick host without its self-heal daemon: after 10 s of that, `volume start
      // force` starts what is missing (daemons, bricks) and leaves running ones alone.
      for (let i = 0; ; i++) {
        const out = (await r.run(`gluster --mode=script volume status ${vol}`)).stdout;
        if (volumeOnline(out, bricks, input.server.address)) break;
        if (i >= 300)
          throw ApplicationFailure.nonRetryable(
            `${input.server.name}: volume ${input.volume} not online after 300 s:\n${out.slice(0, 800)}`,
            FailureTypes.StorageNotReady,
          );
        const missing = selfHealOffline(out, bricks, input.server.address);
        if (i > 0 && i % 10 === 0 && missing.length && bricksOffline(out, bricks).length === 0) {
          await gluster(`volume start ${vol} force`, 'volume start force');
          changes.push(`self-heal daemon started on ${missing.join(', ')}`);
        }
        hooks().onTick?.();
        await sleep(1000);
      }
      if (extra.length) await gluster(`volume heal ${vol}`, 'volume heal');
      await waitFor(r, `gluster --mode=script volume heal ${vol} info`, (out) =>
        [...out.matchAll(/^Number of entries: (\d+)/gm)].every((m) => m[1] === '0'),
      );
      return changes;
    },
  };
}
