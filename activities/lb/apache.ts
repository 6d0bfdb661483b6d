import type { AdminState, LbMember, MemberStatus } from '../../common/lb';
import { shellQuote } from '../ssh/quote';
import {
  memberMissing,
  readConfig,
  refused,
  replaceConfigTested,
  type DriverFactory,
  type LbHost,
} from './driver';

// Apache mod_proxy_balancer: state changes through balancer-manager (what an operator clicks),
// with its nonce and a Referer naming the manager itself — without that Referer Apache ignores
// the change and still answers 200, so every change is read back. The BalancerMember lines are
// kept in step (`status=+D` / `+N`) so a graceful restart keeps a node out. Members are added
// and removed in the config, followed by a tested graceful restart.

export interface BalancerView {
  nonce: string;
  members: MemberStatus[];
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ajp:': 8009 };
const cells = (row: string) => [...row.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) => m[1]);
const text = (html: string) => html.replace(/<[^>]+>/g, '').trim();

/** The balancer-manager page's view of `balancer://NAME`: its nonce and every worker. */
export function parseBalancerManager(html: string, balancer: string): BalancerView | undefined {
  const sections = html.split(/<h3>/).slice(1);
  const section = sections.find((s) => s.includes(`>balancer://${balancer}</a>`));
  if (!section) return undefined;
  const nonce = /nonce=([0-9a-fA-F-]+)/.exec(section)?.[1];
  if (!nonce) return undefined;
  const table = section.split(/<table>/).find((t) => /<th>Worker URL<\/th>/.test(t)) ?? '';
  const rows = table.split(/<tr>/).slice(1);
  const header = cells(rows.shift() ?? '');
  const col = (name: string) => header.indexOf(name);
  const members = rows.map((row): MemberStatus => {
    const c = cells(row).map(text);
    const url = new URL(c[col('Worker URL')]);
    const flags = c[col('Status')].split(/\s+/);
    const busy = col('Busy') >= 0 ? Number(c[col('Busy')]) : undefined;
    return {
      name: c[col('Route')] || url.host,
      address: url.hostname,
      // balancer-manager leaves out a scheme's own port: ajp://node means 8009.
      port: Number(url.port || DEFAULT_PORTS[url.protocol] || 80),
      admin:
        flags.includes('Dis') || flags.includes('Stop')
          ? 'disabled'
          : flags.includes('Drn')
            ? 'drain'
            : 'ready',
      up: flags.includes('Ok') && !flags.includes('Err') && !flags.includes('HcFl'),
      sessions: busy,
    };
  });
  return { nonce, members };
}

/** http:// for mod_proxy_http members, ajp:// for mod_proxy_ajp ones (seed 002). */
export type MemberScheme = 'http' | 'ajp';
const memberUrl = (m: LbMember, scheme: MemberScheme) => `${scheme}://${m.address}:${m.port}`;
/** The worker's name in balancer-manager: Apache drops a scheme's own port (ajp://node for :8009). */
export const managerWorkerName = (m: LbMember, scheme: MemberScheme) =>
  m.port === DEFAULT_PORTS[`${scheme}:`] ? `${scheme}://${m.address}` : memberUrl(m, scheme);
const memberLine = (m: LbMember, scheme: MemberScheme) =>
  new RegExp(`^(\\s*)BalancerMember\\s+"?${memberUrl(m, scheme).replace(/[.]/g, '\\.')}/?"?(\\s.*)?$`);
const STATUS_PARAM: Record<AdminState, string> = { ready: '', drain: ' status=+N', disabled: ' status=+D' };

/** Lines [open, close] of `<Proxy balancer://NAME>`; undefined if absent. */
function balancerBlock(lines: string[], balancer: string): [number, number] | undefined {
  const open = lines.findIndex((l) =>
    new RegExp(`<Proxy\\s+"?balancer://${balancer.replace(/\./g, '\\.')}/?"?\\s*>`).test(l),
  );
  if (open < 0) return undefined;
  const close = lines.findIndex((l, i) => i > open && /<\/Proxy>/.test(l));
  return [open, close < 0 ? lines.length - 1 : close];
}

/** Edits the member's lines inside its own balancer only (another balancer may list the same worker). */
function editMemberLines(
  config: string,
  balancer: string,
  member: LbMember,
  scheme: MemberScheme,
  edit: (line: RegExpExecArray) => string | null,
): string {
  const lines = config.split('\n');
  const block = balancerBlock(lines, balancer);
  if (!block) return config;
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = i > block[0] && i < block[1] ? memberLine(member, scheme).exec(line) : null;
    if (!m) return void out.push(line);
    const edited = edit(m);
    if (edited !== null) out.push(edited);
  });
  return out.join('\n');
}

/** The BalancerMember line of `member` carrying `state`; other status flags (e.g. +H) are kept. Pure, for tests. */
export function configWithState(
  config: string,
  balancer: string,
  member: LbMember,
  state: AdminState,
  scheme: MemberScheme = 'http',
): string {
  return editMemberLines(config, balancer, member, scheme, (m) => {
    const params = (m[2] ?? '').replace(/\s+status=\+[DN](?=\s|$)/g, '').trimEnd();
    return `${m[1]}BalancerMember "${memberUrl(member, scheme)}"${params}${STATUS_PARAM[state]}`;
  });
}

/** Adds a BalancerMember after the balancer's last one, with the route the sticky cookie names. */
export function configWithMember(
  config: string,
  balancer: string,
  member: LbMember,
  state: AdminState,
  scheme: MemberScheme = 'http',
  /** The operator's worker parameters, before the route (seed 002: `smax=0 ttl=60 retry=5 loadfactor=50`). */
  params = '',
): string {
  const lines = config.split('\n');
  const block = balancerBlock(lines, balancer);
  if (!block) return config;
  let at = block[0] + 1;
  for (let i = block[0] + 1; i < block[1]; i++) if (/^\s*BalancerMember\s/.test(lines[i])) at = i + 1;
  const indent = /^(\s*)/.exec(lines[at - 1])?.[1] || '    ';
  lines.splice(
    at,
    0,
    `${indent}BalancerMember "${memberUrl(member, scheme)}"${params ? ` ${params}` : ''} route=${member.name}${STATUS_PARAM[state]}`,
  );
  return lines.join('\n');
}

export function configWithoutMember(
  config: string,
  balancer: string,
  member: LbMember,
  scheme: MemberScheme = 'http',
): string {
  return editMemberLines(config, balancer, member, scheme, () => null);
}

const sameWorker = (s: MemberStatus, m: LbMember) => s.address === m.address && s.port === m.port;

export const apacheDriver: DriverFactory = (host: LbHost, lb) => {
  const manager = lb.apache.managerUrl;
  const config = lb.config as string;
  const balancer = lb.backend;
  // Inputs recorded before the protocol existed are http.
  const scheme: MemberScheme = lb.apache.protocol ?? 'http';

  const view = async (): Promise<BalancerView> => {
    const html = (
      await host.must(`curl -fsS --max-time 10 ${shellQuote(manager)}`, 'reading balancer-manager')
    ).stdout;
    const v = parseBalancerManager(html, balancer);
    if (!v) throw refused(host, `balancer-manager at ${manager} shows no balancer://${balancer}`);
    return v;
  };

  const keepConfig = async (edit: (t: string) => string, apply: boolean): Promise<boolean> => {
    const before = await readConfig(host, config);
    const after = edit(before);
    await replaceConfigTested(host, config, before, after, 'apache2ctl -t');
    if (after !== before && apply) await host.must('apache2ctl graceful', 'graceful restart of apache');
    return after !== before;
  };

  /** A graceful restart is asynchronous: wait until balancer-manager shows what we asked for. */
  const waitFor = async (test: (v: BalancerView) => boolean, what: string) => {
    for (let i = 0; i < 50; i++) {
      if (test(await view().catch(() => ({ nonce: '', members: [] })))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw refused(host, `balancer-manager never showed ${what}`);
  };

  const setState = async (member: LbMember, state: AdminState): Promise<boolean> => {
    const v = await view();
    const current = v.members.find((s) => sameWorker(s, member));
    if (!current) throw memberMissing(host, lb, member);
    const configChanged = await keepConfig((t) => configWithState(t, balancer, member, state, scheme), false);
    if (current.admin === state) return configChanged;
    const form = [
      `b=${encodeURIComponent(balancer)}`,
      `w=${encodeURIComponent(managerWorkerName(member, scheme))}`,
      `nonce=${v.nonce}`,
      `w_status_D=${state === 'disabled' ? 1 : 0}`,
      `w_status_N=${state === 'drain' ? 1 : 0}`,
    ].join('&');
    await host.must(
      `curl -fsS --max-time 10 -o /dev/null -H ${shellQuote(`Referer: ${manager}`)} --data ${shellQuote(form)} ${shellQuote(manager)}`,
      `balancer-manager: ${member.name} -> ${state}`,
    );
    // Apache answers 200 even when it ignored the change: believe only what it shows afterwards.
    const after = (await view()).members.find((s) => sameWorker(s, member));
    if (after?.admin !== state)
      throw refused(
        host,
        `balancer-manager did not take ${member.name} -> ${state} (shows ${after?.admin ?? 'nothing'})`,
      );
    return true;
  };

  return {
    members: async () => (await view()).members,
    setState,
    async addMember(member, state) {
      if ((await view()).members.some((s) => sameWorker(s, member))) return false;
      await keepConfig(
        (t) => configWithMember(t, balancer, member, state, scheme, lb.apache.memberParams ?? ''),
        true,
      );
      await waitFor(
        (v) => v.members.some((s) => sameWorker(s, member) && s.admin === state),
        `${member.name} added`,
      );
      return true;
    },
    async removeMember(member) {
      const changed = await keepConfig((t) => configWithoutMember(t, balancer, member, scheme), true);
      if (changed)
        await waitFor((v) => !v.members.some((s) => sameWorker(s, member)), `${member.name} removed`);
      return changed;
    },
  };
};
