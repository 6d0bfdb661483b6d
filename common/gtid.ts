import type { Flavour } from './db';

// The two GTID formats, as plain data, so workflows can compare positions deterministically.
//   MariaDB: "domain-server-sequence" per domain, e.g. "0-1-42,1-3-7" (gtid_binlog_pos/_state).
//   MySQL:   "uuid:interval[:interval...]" per source, e.g. "3E11FA47-...:1-5:11-18" (gtid_executed).

interface MariaGtid {
  domain: number;
  server: number;
  seq: number;
}

export function parseMariaGtids(text: string): MariaGtid[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(s);
      if (!m) throw new Error(`not a MariaDB GTID: "${s}"`);
      return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
    });
}

const fmtMaria = (g: MariaGtid) => `${g.domain}-${g.server}-${g.seq}`;

type Intervals = [number, number][];

/**
 * "uuid" or "uuid:tag" (MySQL 8.3+ tagged GTIDs, `uuid:tag:1-3`) -> sorted, merged, inclusive
 * intervals. Each tag of a uuid is its own sequence, so it is its own key.
 */
export function parseMysqlGtidSet(text: string): Map<string, Intervals> {
  const set = new Map<string, Intervals>();
  for (const part of text.replace(/\s+/g, '').split(',').filter(Boolean)) {
    const [uuid, ...ranges] = part.split(':');
    if (!/^[0-9a-fA-F-]{36}$/.test(uuid) || ranges.length === 0)
      throw new Error(`not a MySQL GTID set: "${part}"`);
    let key = uuid.toLowerCase();
    for (const r of ranges) {
      if (/^[a-z_][a-z0-9_]{0,31}$/i.test(r)) {
        key = `${uuid.toLowerCase()}:${r.toLowerCase()}`;
        continue;
      }
      const m = /^(\d+)(?:-(\d+))?$/.exec(r);
      if (!m) throw new Error(`not a MySQL GTID interval: "${r}" in "${part}"`);
      set.set(key, mergeIntervals([...(set.get(key) ?? []), [Number(m[1]), Number(m[2] ?? m[1])]]));
    }
  }
  return set;
}

function mergeIntervals(list: Intervals): Intervals {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  const out: Intervals = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function formatMysqlGtidSet(set: Map<string, Intervals>): string {
  return [...set.entries()]
    .filter(([, iv]) => iv.length)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([uuid, iv]) => `${uuid}:${iv.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(':')}`)
    .join(',');
}

/** a minus b, as MySQL's GTID_SUBTRACT. */
export function subtractMysqlGtidSets(a: string, b: string): string {
  const left = parseMysqlGtidSet(a);
  const right = parseMysqlGtidSet(b);
  const out = new Map<string, Intervals>();
  for (const [uuid, intervals] of left) {
    let remaining = intervals;
    for (const [lo, hi] of right.get(uuid) ?? []) {
      remaining = remaining.flatMap(([x, y]): Intervals => {
        if (hi < x || lo > y) return [[x, y]];
        const parts: Intervals = [];
        if (x < lo) parts.push([x, lo - 1]);
        if (y > hi) parts.push([hi + 1, y]);
        return parts;
      });
    }
    if (remaining.length) out.set(uuid, remaining);
  }
  return formatMysqlGtidSet(out);
}

function countMysql(text: string): number {
  let n = 0;
  for (const iv of parseMysqlGtidSet(text).values()) for (const [lo, hi] of iv) n += hi - lo + 1;
  return n;
}

/**
 * Transactions `member` has that `reference` lacks: errant transactions when `reference` is the
 * primary. MariaDB compares gtid_binlog_state (last sequence per domain and server); with
 * gtid_strict_mode a higher sequence than the reference has for that server is something the
 * reference never had.
 */
export function errantGtids(
  flavour: Flavour,
  member: string,
  reference: string,
  /**
   * The reference's own server_id (MariaDB) or server_uuid (MySQL): transactions that originated
   * on the reference are never errant, even when the member was read after it and is "ahead".
   */
  referenceOrigin?: string,
): string[] {
  if (flavour === 'mysql') {
    const diff = subtractMysqlGtidSets(member, reference);
    return diff
      ? diff
          .split(',')
          .filter((g) => !referenceOrigin || !g.toLowerCase().startsWith(`${referenceOrigin.toLowerCase()}:`))
      : [];
  }
  const ref = parseMariaGtids(reference);
  return parseMariaGtids(member)
    .filter((g) => String(g.server) !== referenceOrigin)
    .filter((g) => {
      const sameServer = ref.find((r) => r.domain === g.domain && r.server === g.server);
      return !sameServer || sameServer.seq < g.seq;
    })
    .map(fmtMaria);
}

/** -1, 0 or 1 when a is behind, equal to or ahead of b; undefined when they diverge. */
export function compareGtidPositions(flavour: Flavour, a: string, b: string): -1 | 0 | 1 | undefined {
  if (flavour === 'mysql') {
    const aNotB = subtractMysqlGtidSets(a, b);
    const bNotA = subtractMysqlGtidSets(b, a);
    if (!aNotB && !bNotA) return 0;
    if (aNotB && bNotA) return undefined;
    return aNotB ? 1 : -1;
  }
  // MariaDB positions: one GTID per domain; within a domain, strict mode keeps sequences ordered.
  const pa = new Map(parseMariaGtids(a).map((g) => [g.domain, g.seq]));
  const pb = new Map(parseMariaGtids(b).map((g) => [g.domain, g.seq]));
  let ahead = false;
  let behind = false;
  for (const d of new Set([...pa.keys(), ...pb.keys()])) {
    const x = pa.get(d) ?? 0;
    const y = pb.get(d) ?? 0;
    if (x > y) ahead = true;
    if (x < y) behind = true;
  }
  if (ahead && behind) return undefined;
  return ahead ? 1 : behind ? -1 : 0;
}

/** How many transactions a position holds: a tie-breaker when positions diverge. */
export function transactionCount(flavour: Flavour, position: string): number {
  if (flavour === 'mysql') return countMysql(position);
  return parseMariaGtids(position).reduce((n, g) => n + g.seq, 0);
}

/**
 * The most advanced of several positions: one that no other is ahead of; ties keep the earlier
 * entry so the operator's order (spec order) decides between equals.
 */
export function mostAdvanced<T extends { position: string }>(
  flavour: Flavour,
  candidates: T[],
): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    if (!best) {
      best = c;
      continue;
    }
    const cmp = compareGtidPositions(flavour, c.position, best.position);
    if (cmp === 1) best = c;
    else if (
      cmp === undefined &&
      transactionCount(flavour, c.position) > transactionCount(flavour, best.position)
    )
      best = c;
  }
  return best;
}
