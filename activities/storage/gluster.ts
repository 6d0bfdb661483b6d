// The gluster CLI's answers as data (`--mode=script` output), so the storage workflow decides from
// parsed state, never from substrings. Pure functions, unit-tested.

export interface GlusterPeer {
  hostname: string;
  uuid: string;
  /** e.g. "Peer in Cluster", "Accepted peer request", "Peer Rejected". */
  state: string;
  connected: boolean;
}

/** `gluster peer status`. */
export function parsePeerStatus(text: string): GlusterPeer[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(block)?.[1].trim();
      const hostname = field('Hostname');
      const state = /^State:\s*(.*?)\s*(?:\((\w+)\))?\s*$/m.exec(block);
      if (!hostname || !state) return undefined;
      return { hostname, uuid: field('Uuid') ?? '', state: state[1], connected: state[2] === 'Connected' };
    })
    .filter((p): p is GlusterPeer => Boolean(p));
}

export interface GlusterVolume {
  name: string;
  type: string;
  status: string;
  bricks: string[];
  options: Record<string, string>;
}

/** `gluster volume info [NAME]`: every volume listed. */
export function parseVolumeInfo(text: string): GlusterVolume[] {
  return text
    .split(/^(?=Volume Name:)/m)
    .filter((b) => b.startsWith('Volume Name:'))
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(block)?.[1].trim() ?? '';
      const bricks = [...block.matchAll(/^Brick\d+:\s*(\S+)/gm)].map((m) => m[1]);
      const options: Record<string, string> = {};
      const reconfigured = block.split(/^Options Reconfigured:\s*$/m)[1] ?? '';
      for (const line of reconfigured.split('\n')) {
        const m = /^([a-z0-9.-]+):\s*(.*)$/.exec(line.trim());
        if (m) options[m[1]] = m[2];
      }
      return { name: field('Volume Name'), type: field('Type'), status: field('Status'), bricks, options };
    });
}

/** `gluster volume create` arguments: bricks in replica-set order (server 1, 2 form the first set). */
export function volumeCreateArgs(v: {
  volume: string;
  replica: number;
  servers: string[];
  brick: string;
  force: boolean;
}): string[] {
  return [
    'volume',
    'create',
    v.volume,
    'replica',
    String(v.replica),
    ...v.servers.map((s) => `${s}:${v.brick}`),
    ...(v.force ? ['force'] : []),
  ];
}

/**
 * `gluster volume status VOL` says every brick is online and, on every brick host, the self-heal
 * daemon too. A brick comes up before its host's glustershd: `volume heal` launched in between is
 * refused ("Self-heal daemon is not running"), so both are waited for. `self` is the address of
 * the server asked, which names its own daemon "localhost".
 */
export function volumeOnline(status: string, bricks: string[], self: string): boolean {
  return bricksOffline(status, bricks).length === 0 && selfHealOffline(status, bricks, self).length === 0;
}

/** Bricks the status does not show online. */
export function bricksOffline(status: string, bricks: string[]): string[] {
  return bricks.filter((b) => !online(status, `Brick ${b}`));
}

/** Brick hosts whose self-heal daemon the status does not show online. */
export function selfHealOffline(status: string, bricks: string[], self: string): string[] {
  const hosts = [...new Set(bricks.map((b) => b.slice(0, b.lastIndexOf(':'))))];
  return hosts.filter((h) => !online(status, `Self-heal Daemon on ${h === self ? 'localhost' : h}`));
}

const online = (status: string, process: string) =>
  new RegExp(`^${escapeRe(process)}\\s.*\\sY\\s+\\d+\\s*$`, 'm').test(status);

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
