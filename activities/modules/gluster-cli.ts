import type { ActivityHooks } from '../hooks';
import type { Remote } from '../remote';
import { shellJoin, shellQuote } from '../ssh/quote';
import { parsePeerStatus, parseVolumeInfo, type GlusterPeer, type GlusterVolume } from '../storage/gluster';
import { heartbeatSleep } from '../wait';

// The gluster CLI as gluster_volume and gluster_peer read it: one script asks every question a
// run needs (peers, volumes, this host's own names, the options' full names, quotas), and pure
// parsers turn its sections into data. Always `--mode=script`, so nothing ever prompts.

/** One gluster command line, every word quoted, its messages in English as parsed here. */
export const gluster = (args: readonly string[]) =>
  `LC_ALL=C ${shellJoin(['gluster', '--mode=script', ...args])}`;

/** A peer with every name the pool knows it by (`Hostname` and `Other names`). */
export interface Peer extends GlusterPeer {
  names: string[];
}

/** `gluster peer status`, with the other names a peer was probed or seen as. */
export function parsePeers(text: string): Peer[] {
  const others = new Map<string, string[]>();
  for (const block of text.split(/\n\s*\n/)) {
    const uuid = /^Uuid:\s*(\S+)/m.exec(block)?.[1];
    const list = block.split(/^Other names:\s*$/m)[1];
    if (uuid && list)
      others.set(
        uuid,
        list
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
      );
  }
  return parsePeerStatus(text).map((p) => ({ ...p, names: [p.hostname, ...(others.get(p.uuid) ?? [])] }));
}

export interface Volume extends GlusterVolume {
  id: string;
  transport: string;
  /** Bricks per replica (or disperse) set, as text as the collection's fact has it. */
  replicas: string;
  arbiters: string[];
  quota: boolean;
}

/** `gluster volume info`: every volume, with what the collection's facts show of it. */
export function parseVolumes(text: string): Volume[] {
  const blocks = text.split(/^(?=Volume Name:)/m).filter((b) => b.startsWith('Volume Name:'));
  return parseVolumeInfo(text).map((v, i) => {
    const block = blocks[i];
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(block)?.[1].trim() ?? '';
    // "1 x 2 = 2", "1 x (2 + 1) = 3" (arbiter or redundancy), or "1" (plain distribute).
    const sets = /x\s*(?:(\d+)|\((\d+)\s*\+\s*(\d+)\))\s*=/.exec(field('Number of Bricks'));
    const replicas = !sets ? '1' : sets[1] ? sets[1] : String(Number(sets[2]) + Number(sets[3]));
    return {
      ...v,
      id: field('Volume ID'),
      transport: field('Transport-type'),
      replicas,
      arbiters: [...block.matchAll(/^Brick\d+:\s*(\S+)\s+\(arbiter\)/gm)].map((m) => m[1]),
      quota: v.options['features.quota'] === 'on',
    };
  });
}

/** `gluster volume get VOL KEY`: the option's full name and value (gluster's "(DEFAULT)" dropped). */
export function parseVolumeGet(text: string): { name: string; value: string } | undefined {
  const rows = text.split('\n').filter((l) => l.trim() && !/^(Option\s+Value|-+\s+-+)\s*$/.test(l.trim()));
  const m = /^(\S+)\s+(.*?)\s*$/.exec(rows[0] ?? '');
  return m ? { name: m[1], value: m[2].replace(/\s*\(DEFAULT\)$/, '') } : undefined;
}

/** `gluster volume quota VOL list`: each limited directory's hard limit. */
export function parseQuotaList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\/\S*)\s+(\S+)/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export interface GlusterState {
  peers: Peer[];
  volumes: Volume[];
  /** This host's own names and addresses. */
  local: string[];
  /** The addresses each host asked about resolves to on this host. */
  addresses: Record<string, string[]>;
  /** `volume get` of each option asked about: its full name and value, or gluster's refusal. */
  options: Record<string, { name: string; value: string } | { error: string }>;
  /** The volume's quota limits: directory → hard limit. */
  quotas: Record<string, string>;
}

export interface StateQuestions {
  /** The volume whose options and quotas are read. */
  volume?: string;
  hosts: string[];
  options: string[];
  quota: boolean;
}

const MARK = '@@cf';

/** Pure: the one script that reads everything a run decides from, each answer under a marker. */
export function stateScript(q: StateQuestions): string {
  const section = (name: string, command: string, key?: string) =>
    `out=$(${command} 2>&1); echo "${MARK} ${name} $?${key ? ` ${key}` : ''}"; printf '%s\\n' "$out"`;
  const vol = q.volume ?? '';
  return [
    'export LC_ALL=C',
    `command -v gluster >/dev/null || { echo 'Failed to find required executable "gluster"' >&2; exit 127; }`,
    section('peers', gluster(['peer', 'status'])),
    section('volumes', gluster(['volume', 'info'])),
    section('local', "{ hostname; hostname -f; hostname -I; } 2>/dev/null | tr ' ' '\\n'"),
    ...q.hosts.map((h) => section('resolve', `getent ahosts ${shellQuote(h)}`, h)),
    ...(q.volume ? q.options : []).map((k) => section('option', gluster(['volume', 'get', vol, k]), k)),
    ...(q.volume && q.quota ? [section('quota', gluster(['volume', 'quota', vol, 'list']))] : []),
  ].join('\n');
}

/** Pure: the script's answers as data, or why gluster could not answer (glusterd not running). */
export function parseState(out: string): GlusterState | { error: string } {
  const s: GlusterState = { peers: [], volumes: [], local: [], addresses: {}, options: {}, quotas: {} };
  const sections = out.split(new RegExp(`^(?=${MARK} )`, 'm')).filter((b) => b.startsWith(MARK));
  for (const block of sections) {
    const [header, ...rest] = block.split('\n');
    const [, name, rc, key = ''] = header.split(' ');
    const body = rest.join('\n').trim();
    const okay = rc === '0';
    if (name === 'peers') {
      if (!okay) return { error: `gluster peer status failed: ${body}` };
      s.peers = parsePeers(body);
    } else if (name === 'volumes') {
      if (!okay) return { error: `gluster volume info failed: ${body}` };
      s.volumes = parseVolumes(body);
    } else if (name === 'local') s.local = body.split(/\s+/).filter(Boolean);
    else if (name === 'resolve')
      s.addresses[key] = okay ? [...new Set(body.split('\n').map((l) => l.split(/\s+/)[0]))] : [];
    else if (name === 'option')
      s.options[key] = okay ? (parseVolumeGet(body) ?? { error: body }) : { error: body };
    else if (name === 'quota' && okay) s.quotas = parseQuotaList(body);
  }
  return s;
}

export async function readState(
  remote: Remote,
  q: StateQuestions,
): Promise<GlusterState | { error: string }> {
  const r = await remote.run(stateScript(q));
  if (r.exitCode !== 0) return { error: (r.stderr || r.stdout).trim() };
  return parseState(r.stdout);
}

const namesOf = (s: GlusterState, host: string) => [host, ...(s.addresses[host] ?? [])];

/** The peer a host is, by any of its names or the addresses it resolves to. */
export function peerOf(s: GlusterState, host: string): Peer | undefined {
  const names = namesOf(s, host);
  return s.peers.find((p) => p.names.some((n) => names.includes(n)));
}

/** This host itself, which gluster needs no probe of ("Probe on localhost not needed"). */
export function isThisHost(s: GlusterState, host: string): boolean {
  return namesOf(s, host).some(
    (n) => n === 'localhost' || n === '::1' || n.startsWith('127.') || s.local.includes(n),
  );
}

/** Two names for one host: the same name, an address one resolves to, or one peer's names. */
export function sameHost(s: GlusterState, host: string, other: string): boolean {
  if (host === other || namesOf(s, host).includes(other)) return true;
  if (isThisHost(s, host)) return isThisHost(s, other);
  return Boolean(peerOf(s, host)?.names.includes(other));
}

/** The hosts of a list that are not in the pool yet, each once, this host left out. */
export const toProbe = (s: GlusterState, hosts: readonly string[]) =>
  [...new Set(hosts)].filter((h) => !isThisHost(s, h) && !peerOf(s, h));

/** The pool as the collection's `glusterfs` fact shows it: every name of a peer → [uuid, state]. */
export function glusterFacts(s: GlusterState) {
  const peers: Record<string, [string, string]> = {};
  for (const p of s.peers)
    for (const n of p.names)
      peers[n] = [p.uuid, `${p.state} (${p.connected ? 'Connected' : 'Disconnected'})`];
  return { peers, volumes: Object.fromEntries(s.volumes.map((v) => [v.name, v])), quotas: s.quotas };
}

/** The collection's message for a gluster command that failed. */
const failure = (command: string, r: { exitCode: number | null; stdout: string; stderr: string }) =>
  `error running gluster (${command}) command (rc=${r.exitCode}): ${r.stdout.trim() || r.stderr.trim()}`;

/** Runs each command in turn; the first that fails stops the rest, and says why. */
export async function runGluster(remote: Remote, commands: readonly string[][]): Promise<string | undefined> {
  for (const args of commands) {
    const r = await remote.run(gluster(args));
    if (r.exitCode !== 0) return failure(shellJoin(['gluster', '--mode=script', ...args]), r);
  }
  return undefined;
}

/** How long a probed host may take to become a connected peer in the cluster. */
const JOIN_TIMEOUT_MS = 15_000;

/**
 * Probes each host, then waits until every one is a connected "Peer in Cluster": a volume
 * created at once on a peer still being accepted is refused.
 */
export async function probeInto(
  remote: Remote,
  s: GlusterState,
  hosts: readonly string[],
  hooks?: ActivityHooks,
): Promise<string | undefined> {
  const error = await runGluster(
    remote,
    hosts.map((h) => ['peer', 'probe', h]),
  );
  if (error) return error;
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    const r = await remote.run(gluster(['peer', 'status']));
    const now = { ...s, peers: parsePeers(r.stdout) };
    const waiting = hosts.filter((h) => {
      const p = peerOf(now, h);
      return !p || p.state !== 'Peer in Cluster' || !p.connected;
    });
    if (waiting.length === 0) return undefined;
    if (Date.now() > deadline)
      return `failed to probe peer ${waiting
        .map((h) => {
          const p = peerOf(now, h);
          return `${h} (${p ? `${p.state}${p.connected ? '' : ', disconnected'}` : 'not in the pool'})`;
        })
        .join(', ')}`;
    await heartbeatSleep(500, hooks, 'waiting for probed peers');
  }
}
