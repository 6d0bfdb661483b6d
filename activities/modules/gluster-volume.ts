import type { z } from 'zod';
import type { GlusterVolumeArgs } from '../../common/modules';
import { changed, failed, ok, type ModuleRunner } from './context';
import {
  glusterFacts,
  probeInto,
  readState,
  runGluster,
  sameHost,
  toProbe,
  type GlusterState,
  type Volume,
} from './gluster-cli';

// gluster_volume (gluster.gluster): a volume created, tuned, started, stopped or deleted, as the
// collection decides it: the cluster's hosts probed into the pool first; each brick path on each
// cluster host, path by path, so with `replicas: 2` and two hosts a path makes one replica set;
// options set when the volume's reconfigured value differs; a stopped volume started again while
// start_on_create holds; bricks the volume lacks added. Unlike the collection, an option named by
// its short name (`write-behind`) is compared under its full name, so a re-run sets nothing, and
// removing bricks (data migration) is refused as not supported yet.

type Args = z.infer<typeof GlusterVolumeArgs>;

/** What a volume looks like, for the diff. */
interface VolumeView {
  status: string;
  bricks: string[];
  options: Record<string, string>;
  quotas: Record<string, string>;
}

export interface VolumePlan {
  /** Cluster hosts to probe into the pool before anything else. */
  probe: string[];
  /** gluster arguments, run in order. */
  commands: string[][];
  /** What the commands change, in the operator's words. */
  changes: string[];
  before?: VolumeView;
  after?: VolumeView;
  /** Why nothing can be done (nothing runs). */
  error?: string;
}

/** Each brick path on each cluster host, path by path: the collection's brick order. */
export const brickList = (a: Pick<Args, 'bricks' | 'cluster'>) =>
  a.bricks.flatMap((path) => a.cluster.map((host) => `${host}:${path}`));

const UNITS = ['KB', 'MB', 'GB', 'TB', 'PB'];

/** A size in bytes: `20MB`, `20.0MB`, `0Bytes`, `1048576`. */
function sizeBytes(size: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(Bytes|B|[KMGTP]B)?$/i.exec(size.trim());
  if (!m) return undefined;
  const unit = UNITS.indexOf((m[2] ?? '').toUpperCase());
  return Number(m[1]) * 1024 ** (unit + 1);
}

/** A size as `gluster volume quota list` prints it: one decimal in the largest unit, or bytes. */
function humanSize(bytes: number): string {
  for (let i = UNITS.length - 1; i >= 0; i--)
    if (bytes >= 1024 ** (i + 1)) return `${(bytes / 1024 ** (i + 1)).toFixed(1)}${UNITS[i]}`;
  return `${Math.round(bytes)}Bytes`;
}

/** The limit gluster shows is the one asked for (`20MB` is shown as `20.0MB`). */
export function sameLimit(shown: string | undefined, wanted: string): boolean {
  if (shown === undefined) return false;
  const bytes = sizeBytes(wanted);
  return shown === wanted || (bytes !== undefined && humanSize(bytes) === shown);
}

/** One brick by two names (`gfs2:/b` and `10.77.0.16:/b`): gluster would refuse to add it again. */
function sameBrick(s: GlusterState, brick: string, other: string): boolean {
  const [host, path] = splitBrick(brick);
  const [otherHost, otherPath] = splitBrick(other);
  return path === otherPath && sameHost(s, host, otherHost);
}
const splitBrick = (brick: string) => {
  const at = brick.indexOf(':/');
  return [brick.slice(0, at), brick.slice(at + 1)];
};

const viewOf = (v: Volume, s: GlusterState): VolumeView => ({
  status: v.status,
  bricks: v.bricks,
  options: v.options,
  quotas: s.quotas,
});

/** Pure: what it takes to bring the volume where the arguments say, from what gluster said. */
export function planVolume(a: Args, read: GlusterState): VolumePlan {
  // The collection's `host`: this host's name in `cluster`, whatever it resolves to.
  const s = a.host ? { ...read, local: [...read.local, a.host] } : read;
  const v = s.volumes.find((x) => x.name === a.name);
  const before = v && viewOf(v, s);
  const plan: VolumePlan = { probe: [], commands: [], changes: [], before, after: before && { ...before } };
  const run = (args: string[], change: string) => {
    plan.commands.push(args);
    plan.changes.push(change);
  };
  const refuse = (error: string): VolumePlan => ({ ...plan, commands: [], changes: [], error });
  const status = (to: string) => (plan.after = { ...plan.after!, status: to });

  if (a.state === 'absent') {
    if (!v) return plan;
    if (v.status === 'Started') run(['volume', 'stop', a.name], `stop volume ${a.name}`);
    run(['volume', 'delete', a.name], `delete volume ${a.name}`);
    plan.after = undefined;
    return plan;
  }
  if (a.state !== 'present') {
    if (!v) return refuse(`volume not found ${a.name}`);
    if (a.state === 'started' && v.status !== 'Started') {
      run(['volume', 'start', a.name], `start volume ${a.name}`);
      status('Started');
    }
    if (a.state === 'stopped' && v.status === 'Started') {
      run(['volume', 'stop', a.name], `stop volume ${a.name}`);
      status('Stopped');
    }
    return plan;
  }

  plan.probe = toProbe(s, a.cluster);
  const bricks = brickList(a);
  const counts = [
    ...(a.replicas ? ['replica', String(a.replicas)] : []),
    ...(a.arbiters ? ['arbiter', String(a.arbiters)] : []),
  ];
  const force = a.force ? ['force'] : [];
  const options = { ...(v?.options ?? {}) };
  if (!v) {
    if (bricks.length === 0)
      return refuse(`volume ${a.name} does not exist: creating it needs bricks and cluster`);
    run(
      [
        'volume',
        'create',
        a.name,
        ...counts,
        ...(a.disperses ? ['disperse', String(a.disperses)] : []),
        ...(a.redundancies ? ['redundancy', String(a.redundancies)] : []),
        'transport',
        a.transport,
        ...bricks,
        ...force,
      ],
      `create volume ${a.name} (${bricks.join(' ')})`,
    );
    plan.after = { status: 'Created', bricks, options, quotas: {} };
  }
  for (const [key, value] of Object.entries(a.options)) {
    const known = s.options[key];
    if (v && known && 'error' in known) return refuse(`option ${key}: ${known.error}`);
    const name = known && 'name' in known ? known.name : key;
    if (v && (v.options[key] ?? v.options[name]) === value) continue;
    run(['volume', 'set', a.name, key, value], `set ${key} = ${value}`);
    options[name] = value;
  }
  plan.after!.options = options;
  if (plan.after!.status !== 'Started' && a.start_on_create) {
    run(['volume', 'start', a.name], `start volume ${a.name}`);
    status('Started');
  }
  if (v) {
    const added = bricks.filter((b) => !v.bricks.some((x) => sameBrick(s, b, x)));
    if (added.length === 0 && bricks.length > 0 && bricks.length < v.bricks.length)
      return refuse(
        `removing bricks from a volume is not supported yet (${v.bricks.filter((x) => !bricks.some((b) => sameBrick(s, b, x))).join(', ')})`,
      );
    if (added.length) {
      run(['volume', 'add-brick', a.name, ...counts, ...added, ...force], `add bricks ${added.join(' ')}`);
      plan.after!.bricks = [...v.bricks, ...added];
    }
  }
  if (a.quota && a.directory) {
    if (!v?.quota) run(['volume', 'quota', a.name, 'enable'], `enable quota on ${a.name}`);
    if (!sameLimit(s.quotas[a.directory], a.quota)) {
      run(
        ['volume', 'quota', a.name, 'limit-usage', a.directory, a.quota],
        `limit ${a.directory} to ${a.quota}`,
      );
      plan.after!.quotas = { ...plan.after!.quotas, [a.directory]: a.quota };
    }
  }
  // As the collection: a rebalance follows a change to the volume (not a probe alone).
  if (a.rebalance && plan.commands.length)
    run(['volume', 'rebalance', a.name, 'start'], `start rebalance of ${a.name}`);
  return plan;
}

/** Pure: a volume as the diff shows it. */
export function renderVolume(name: string, v: VolumeView | undefined): string {
  if (!v) return '';
  const map = (m: Record<string, string>) =>
    Object.entries(m)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, val]) => `  ${k}: ${val}\n`)
      .join('');
  return [
    `volume: ${name}\n`,
    `status: ${v.status}\n`,
    `bricks:\n${v.bricks.map((b) => `  - ${b}\n`).join('')}`,
    Object.keys(v.options).length ? `options:\n${map(v.options)}` : '',
    Object.keys(v.quotas).length ? `quota:\n${map(v.quotas)}` : '',
  ].join('');
}

const facts = (s: GlusterState) => {
  const f = { glusterfs: glusterFacts(s) };
  return { ansibleFacts: f, data: { ansible_facts: f } };
};

const questions = (a: Args) => ({
  volume: a.name,
  hosts: a.cluster,
  options: Object.keys(a.options),
  quota: Boolean(a.quota),
});

export const glusterVolume: ModuleRunner<Args> = async (ctx, a) => {
  const s = await readState(ctx.remote, questions(a));
  if ('error' in s) return failed(s.error);
  const plan = planVolume(a, s);
  if (plan.error) return failed(plan.error);
  const changes = [...plan.probe.map((h) => `probe peer ${h}`), ...plan.changes];
  if (changes.length === 0) return { ...ok(`volume ${a.name} is as wanted`), ...facts(s) };
  const diff = { before: renderVolume(a.name, plan.before), after: renderVolume(a.name, plan.after) };
  if (ctx.check) return { ...changed(ctx, changes.join('; '), diff), ...facts(s) };
  const error =
    (plan.probe.length ? await probeInto(ctx.remote, s, plan.probe, ctx.hooks) : undefined) ??
    (await runGluster(ctx.remote, plan.commands));
  if (error) return failed(error);
  const now = await readState(ctx.remote, questions(a));
  return { ...changed(ctx, changes.join('; '), diff), ...('error' in now ? {} : facts(now)) };
};
