import type { z } from 'zod';
import type { GlusterPeerArgs } from '../../common/modules';
import { changed, failed, ok, type ModuleRunner } from './context';
import {
  isThisHost,
  peerOf,
  probeInto,
  readState,
  runGluster,
  toProbe,
  type GlusterState,
} from './gluster-cli';

// gluster_peer (gluster.gluster): nodes probed into this host's trusted pool, or detached from it.
// A node is already in the pool by any name the pool knows it by, or by the address its name
// resolves to, so a re-run probes nothing; this host itself is never probed nor detached (gluster:
// "Probe on localhost not needed"). Unlike the collection, detaching a node that is not a peer is
// nothing to do rather than an error, and check mode is supported.

type Args = z.infer<typeof GlusterPeerArgs>;

export interface PeerPlan {
  probe: string[];
  detach: string[][];
  changes: string[];
}

/** Pure: the probes or detaches that bring the pool where the arguments say. */
export function planPeers(a: Args, s: GlusterState): PeerPlan {
  if (a.state === 'present') {
    const probe = toProbe(s, a.nodes);
    return { probe, detach: [], changes: probe.map((n) => `probe peer ${n}`) };
  }
  const gone = [...new Set(a.nodes)].filter((n) => !isThisHost(s, n) && peerOf(s, n));
  return {
    probe: [],
    detach: gone.map((n) => ['peer', 'detach', n, ...(a.force ? ['force'] : [])]),
    changes: gone.map((n) => `detach peer ${n}`),
  };
}

/** The pool's members by name, for the diff. */
const pool = (names: string[]) =>
  [...names]
    .sort()
    .map((n) => `${n}\n`)
    .join('');

export const glusterPeer: ModuleRunner<Args> = async (ctx, a) => {
  const s = await readState(ctx.remote, { hosts: a.nodes, options: [], quota: false });
  if ('error' in s) return failed(s.error);
  const plan = planPeers(a, s);
  if (plan.changes.length === 0)
    return ok(a.state === 'present' ? 'every node is in the pool' : 'no node is in the pool');
  const members = s.peers.map((p) => p.hostname);
  const detached = new Set(plan.detach.map((c) => peerOf(s, c[2])?.hostname));
  const diff = {
    before: pool(members),
    after: pool([...members.filter((m) => !detached.has(m)), ...plan.probe]),
  };
  if (!ctx.check) {
    const error = plan.probe.length
      ? await probeInto(ctx.remote, s, plan.probe, ctx.hooks)
      : await runGluster(ctx.remote, plan.detach);
    if (error) return failed(error);
  }
  return changed(ctx, plan.changes.join('; '), diff);
};
