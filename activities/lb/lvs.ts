import type { AdminState, LbMember, MemberStatus } from '../../common/lb';
import { DEFAULT_LB_CONFIG } from '../../common/lb';
import { shellJoin, shellQuote } from '../ssh/quote';
import { memberMissing, refused, type DriverFactory } from './driver';

// LVS: the pool is one TCP virtual service, its members are real servers. IPVS has no drain or
// disable flag; weight 0 is its quiesce (no new connections, established ones run on), so drain
// and disabled both mean weight 0. ipvsadm changes only the kernel table; the rules file a boot
// restores is rewritten from `ipvsadm-save` so that it never lags behind.

export type Forward = 'Masq' | 'Route' | 'Local' | 'Tunnel';

export interface RealServer extends MemberStatus {
  forward: Forward;
  weight: number;
}

export interface RealServerStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

// `ipvsadm -e` without a method flag would switch a server to direct routing (ipvsadm's default),
// so an edit restates the listed one. Local is a Route to this host; -i restates ipip, the only
// tunnel the spec offers.
const FORWARD_FLAG: Record<Forward, string> = { Masq: '-m', Route: '-g', Local: '-g', Tunnel: '-i' };
const SPEC_FLAG = { masquerading: '-m', gatewaying: '-g', ipip: '-i' } as const;

const SERVICE = /^(TCP|UDP|SCTP|FWM)\s+(\S+)/;
const REAL_SERVER = /^\s+->\s+(\S+):(\d+)\s+(Masq|Route|Local|Tunnel)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
const COUNT = '(\\d+[KMGT]?)';
const STATS_LINE = new RegExp(`^\\s+->\\s+(\\S+)${`\\s+${COUNT}`.repeat(5)}\\s*$`);
// Without --exact ipvsadm prints large counters divided by powers of 1000 and truncated.
const SCALE: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** The lines under the TCP virtual service `service`; undefined when the listing has none. */
function serviceLines(text: string, service: string): string[] | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => {
    const m = SERVICE.exec(l);
    return m?.[1] === 'TCP' && m[2] === service;
  });
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && SERVICE.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/**
 * `ipvsadm -Ln` (or `-Ln -t VIP`): the real servers of one TCP virtual service. Sessions are
 * ActiveConn, the established connections a drain waits for; InActConn are closing or
 * TIME_WAIT entries that hold no user. LVS has no health view of its own, so `up` stays unset.
 */
export function parseIpvsadmList(text: string, service: string): RealServer[] | undefined {
  return serviceLines(text, service)?.flatMap((line): RealServer[] => {
    const m = REAL_SERVER.exec(line);
    if (!m) return [];
    const weight = Number(m[4]);
    return [
      {
        name: `${m[1]}:${m[2]}`,
        address: m[1],
        port: Number(m[2]),
        admin: weight === 0 ? 'drain' : 'ready',
        sessions: Number(m[5]),
        forward: m[3] as Forward,
        weight,
      },
    ];
  });
}

/** `ipvsadm -Ln --stats [--exact]`: cumulative counters per real server (`address:port`) of one TCP service. */
export function parseIpvsadmStats(text: string, service: string): Map<string, RealServerStats> | undefined {
  const lines = serviceLines(text, service);
  if (!lines) return undefined;
  const count = (s: string) => (SCALE[s.slice(-1)] ? Number(s.slice(0, -1)) * SCALE[s.slice(-1)] : Number(s));
  const out = new Map<string, RealServerStats>();
  for (const line of lines) {
    const m = STATS_LINE.exec(line);
    if (!m) continue;
    const [conns, inPkts, outPkts, inBytes, outBytes] = m.slice(2).map(count);
    out.set(m[1], { conns, inPkts, outPkts, inBytes, outBytes });
  }
  return out;
}

export const lvsDriver: DriverFactory = (host, lb) => {
  const vip = lb.backend;
  const config = lb.config ?? DEFAULT_LB_CONFIG.lvs;
  const rip = (member: LbMember) => `${member.address}:${member.port}`;
  const weightFor = (state: AdminState) => (state === 'ready' ? lb.lvs.weight : 0);
  const ipvsadm = (op: string, ...args: string[]) => shellJoin(['ipvsadm', op, '-t', vip, ...args]);

  // The --stats counters are cumulative since the service was added, so they say nothing about
  // who is connected now; ActiveConn from the plain listing does.
  const realServers = async (): Promise<RealServer[]> => {
    const listed = await host.must(ipvsadm('-Ln'), `listing LVS virtual service ${vip}`);
    const servers = parseIpvsadmList(listed.stdout, vip);
    if (!servers) throw refused(host, `ipvsadm -Ln -t ${vip} did not list TCP virtual service ${vip}`);
    return servers;
  };

  // Saved on every call, changed or not: a retry after a failed save finds the table already
  // right and must still bring the file in step. Written aside first, so a failed save never
  // leaves an empty file for the next boot, and left alone when it already matches.
  const keepRules = async () => {
    if (!config) return;
    const file = shellQuote(config);
    const next = shellQuote(`${config}.clusterflow`);
    await host.must(
      `ipvsadm-save -n > ${next} && if cmp -s ${next} ${file}; then rm -f ${next}; else mv -f ${next} ${file}; fi`,
      `saving the LVS rules to ${config}`,
    );
  };

  const setState = async (member: LbMember, state: AdminState): Promise<boolean> => {
    const current = (await realServers()).find((s) => s.name === rip(member));
    if (!current) throw memberMissing(host, lb, member);
    const weight = weightFor(state);
    const changed = current.weight !== weight;
    if (changed)
      await host.must(
        ipvsadm('-e', '-r', rip(member), FORWARD_FLAG[current.forward], '-w', String(weight)),
        `setting ${rip(member)} to ${state} (weight ${weight}) in ${vip}`,
      );
    await keepRules();
    return changed;
  };

  return {
    async members() {
      return (await realServers()).map(({ name, address, port, admin, sessions }) => ({
        name,
        address,
        port,
        admin,
        sessions,
      }));
    },
    setState,
    async addMember(member, state) {
      if ((await realServers()).some((s) => s.name === rip(member))) return false;
      const weight = weightFor(state);
      await host.must(
        ipvsadm('-a', '-r', rip(member), SPEC_FLAG[lb.lvs.forwarding], '-w', String(weight)),
        `adding ${rip(member)} to ${vip} at weight ${weight}`,
      );
      await keepRules();
      return true;
    },
    async removeMember(member) {
      const present = (await realServers()).some((s) => s.name === rip(member));
      if (present) await host.must(ipvsadm('-d', '-r', rip(member)), `removing ${rip(member)} from ${vip}`);
      await keepRules();
      return present;
    },
  };
};
