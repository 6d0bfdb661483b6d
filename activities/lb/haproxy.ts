import type { AdminState, LbMember, LoadBalancerInput, MemberStatus } from '../../common/lb';
import { DEFAULT_LB_CONFIG } from '../../common/lb';
import { shellQuote } from '../ssh/quote';
import type { LbDriver } from './driver';
import {
  memberMissing,
  readConfig,
  refused,
  replaceConfigTested,
  type DriverFactory,
  type LbHost,
} from './driver';

// HAProxy: every change goes through the runtime API on the admin socket (no reload, no dropped
// connection) and is mirrored in haproxy.cfg, so that a reload or restart comes back with the
// members we added and the ones we took out still out.

// srv_admin_state bits (HAProxy's SRV_ADMF_*): forced/inherited/resolver/hostname maint, forced/inherited
// drain. Not 0x04 (CMAINT): it only remembers that the config said `disabled`, and stays set after
// the runtime API has put the server back in service.
const MAINT = 0x01 | 0x02 | 0x20 | 0x40;
const DRAIN = 0x08 | 0x10;
// srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping.
const RUNNING = 2;

const SECTION =
  /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|http-errors|ring|cache|mailers)\b/;

/** `show servers state <backend>`: one line per server, fields named by the `#` header. */
export function parseServersState(text: string, backend: string): Map<string, MemberStatus> {
  const lines = text.split('\n');
  const header =
    lines
      .find((l) => l.startsWith('# '))
      ?.slice(2)
      .trim()
      .split(/\s+/) ?? [];
  const col = (name: string) => header.indexOf(name);
  const out = new Map<string, MemberStatus>();
  for (const line of lines) {
    if (!line.trim() || line.startsWith('#') || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    if (f[col('be_name')] !== backend) continue;
    const admin = Number(f[col('srv_admin_state')]);
    const port = Number(f[col('srv_port')]);
    out.set(f[col('srv_name')], {
      name: f[col('srv_name')],
      address: f[col('srv_addr')],
      port: Number.isFinite(port) ? port : undefined,
      admin: admin & MAINT ? 'disabled' : admin & DRAIN ? 'drain' : 'ready',
      up: Number(f[col('srv_op_state')]) === RUNNING,
    });
  }
  return out;
}

/** `show stat` CSV: current sessions (scur) per server of one backend. */
export function parseStatSessions(csv: string, backend: string): Map<string, number> {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = (lines.shift() ?? '').replace(/^#\s*/, '').split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const scur = header.indexOf('scur');
  const out = new Map<string, number>();
  for (const line of lines) {
    const f = line.split(',');
    if (f[px] !== backend || f[sv] === 'BACKEND' || f[sv] === 'FRONTEND') continue;
    out.set(f[sv], Number(f[scur]) || 0);
  }
  return out;
}

/** Line range [start, end) of `backend NAME` or `listen NAME`; undefined if absent. */
function sectionRange(lines: string[], backend: string): [number, number] | undefined {
  const start = lines.findIndex((l) =>
    new RegExp(`^(backend|listen)\\s+${escapeRe(backend)}\\s*(#.*)?$`).test(l),
  );
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && !SECTION.test(lines[end])) end++;
  return [start, end];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const serverLine = (name: string) => new RegExp(`^(\\s*)server\\s+${escapeRe(name)}\\s+(\\S+)(.*)$`);

/** The config with one server's line set for `state`: `disabled` keeps a node in maintenance across a reload. Pure, for tests. */
export function configWithState(text: string, backend: string, name: string, state: AdminState): string {
  const lines = text.split('\n');
  const range = sectionRange(lines, backend);
  if (!range) return text;
  for (let i = range[0]; i < range[1]; i++) {
    const m = serverLine(name).exec(lines[i]);
    if (!m) continue;
    // Keywords after a `#` are a comment to HAProxy: edit the options before it, keep it as it was.
    const hash = m[3].indexOf('#');
    const comment = hash < 0 ? '' : ` ${m[3].slice(hash).trim()}`;
    let opts = ` ${(hash < 0 ? m[3] : m[3].slice(0, hash)).trim()} `.replace(/\sdisabled(?=\s)/g, ' ');
    if (state === 'disabled') opts += 'disabled ';
    lines[i] = `${m[1]}server ${name} ${m[2]} ${opts.trim().replace(/\s+/g, ' ')}${comment}`.trimEnd();
  }
  return lines.join('\n');
}

/**
 * The options a new server gets: the backend's `default-server` ones, then those of the pool's
 * first server with its own cookie, so that a joined node is checked and made sticky exactly like
 * its peers. The default-server options are written out because HAProxy 2.6 does not apply them
 * to a server added at runtime (`add server`): without them a joined node would have no health
 * check until the next reload.
 */
export function optionsLike(text: string, backend: string, name: string): string {
  const lines = text.split('\n');
  const range = sectionRange(lines, backend);
  const section = range ? lines.slice(...range) : [];
  const defaults = /^\s*default-server\s+(.*)$/.exec(
    section.find((l) => /^\s*default-server\s/.test(l)) ?? '',
  );
  const first = section.find((l) => /^\s*server\s/.test(l));
  // The first server of an empty pool: sticky if the backend sets a cookie (seed 003's `Pydio`).
  const own = !first
    ? section.some((l) => /^\s*cookie\s/.test(l))
      ? `cookie ${name}`
      : ''
    : (/^\s*server\s+\S+\s+\S+(.*)$/.exec(first)?.[1] ?? '')
        .replace(/\s#.*$/, '')
        .replace(/\sdisabled(?=\s|$)/g, '')
        .replace(/\scookie\s+\S+/, ` cookie ${name}`)
        .trim();
  const ownKeywords = new Set(optionGroups(own).map((g) => g[0]));
  const inherited = optionGroups(defaults?.[1].replace(/\s#.*$/, '') ?? '').filter(
    (g) => !ownKeywords.has(g[0]),
  );
  return [...inherited.map((g) => g.join(' ')), own].filter(Boolean).join(' ');
}

/** Server keywords that take no argument; every other one takes one (`inter 1s`, `port 21`). */
const FLAGS = new Set([
  'check',
  'no-check',
  'backup',
  'no-backup',
  'ssl',
  'no-ssl',
  'check-ssl',
  'send-proxy',
  'send-proxy-v2',
  'agent-check',
  'non-stick',
  'tfo',
  'allow-0rtt',
]);

/** `check inter 1s port 21` as [[check], [inter, 1s], [port, 21]]. */
function optionGroups(options: string): string[][] {
  const words = options.trim().split(/\s+/).filter(Boolean);
  const groups: string[][] = [];
  for (let i = 0; i < words.length; i++)
    groups.push(FLAGS.has(words[i]) || i + 1 >= words.length ? [words[i]] : [words[i], words[++i]]);
  return groups;
}

/** `address:port`, or the address alone for a pool that forwards to the port the client connected to. */
const serverAddress = (m: LbMember) => (m.port ? `${m.address}:${m.port}` : m.address);

export function configWithServer(text: string, backend: string, member: LbMember, options: string): string {
  const lines = text.split('\n');
  const range = sectionRange(lines, backend);
  if (!range) return text;
  let at = range[1];
  while (at > range[0] + 1 && !lines[at - 1].trim()) at--; // after the last non-blank line of the section
  const indent =
    /^(\s*)server\s/.exec(lines.slice(range[0], range[1]).find((l) => /^\s*server\s/.test(l)) ?? '')?.[1] ??
    '    ';
  lines.splice(at, 0, `${indent}server ${member.name} ${serverAddress(member)} ${options}`.trimEnd());
  return lines.join('\n');
}

export function configWithoutServer(text: string, backend: string, name: string): string {
  const lines = text.split('\n');
  const range = sectionRange(lines, backend);
  if (!range) return text;
  return lines.filter((l, i) => i < range[0] || i >= range[1] || !serverLine(name).test(l)).join('\n');
}

/**
 * Every pool a node is a member of: the spec's backend, then `haproxy.backends` (seed 004's FTP,
 * SFTP and passive-data pools beside HTTP). A node is drained, taken out and put back in all of
 * them together, and counts as drained only when no pool has a session left on it.
 */
export const haproxyDriver: DriverFactory = (host: LbHost, lb) => {
  const pools = [
    backendDriver(host, lb, lb.backend, (m) => m),
    // Inputs from before further backends existed have none.
    ...(lb.haproxy.backends ?? []).map((b) =>
      backendDriver(host, lb, b.name, (m) => ({ ...m, port: b.port ?? 0 })),
    ),
  ];
  if (pools.length === 1) return pools[0];
  const [first, ...more] = pools;
  const onAll = async (change: (d: LbDriver) => Promise<boolean>) => {
    let changed = false;
    for (const d of pools) changed = (await change(d)) || changed;
    return changed;
  };
  return {
    async members() {
      const views = await Promise.all(pools.map((d) => d.members()));
      return views[0].map((m) => {
        const same = views.slice(1).map((v) => v.find((o) => o.name === m.name));
        return {
          ...m,
          // Absent from a further pool (a join cut short): not up, so the join's re-run adds it.
          up: m.up !== false && same.every((o) => o && o.up !== false),
          // As far out as its most-out pool.
          admin: [m, ...same].reduce<AdminState>(
            (a, o) => (OUT[o?.admin ?? a] > OUT[a] ? o!.admin : a),
            m.admin,
          ),
          sessions: (m.sessions ?? 0) + same.reduce((n, o) => n + (o?.sessions ?? 0), 0),
        };
      });
    },
    setState: (member, state) => onAll((d) => d.setState(member, state)),
    addMember: (member, state) => onAll((d) => d.addMember(member, state)),
    async removeMember(member) {
      // The further pools first: the spec's backend is the one a re-run looks at.
      let changed = false;
      for (const d of [...more, first]) changed = (await d.removeMember(member)) || changed;
      return changed;
    },
  };
};

const OUT: Record<AdminState, number> = { ready: 0, drain: 1, disabled: 2 };

function backendDriver(
  host: LbHost,
  lb: LoadBalancerInput,
  be: string,
  inPool: (m: LbMember) => LbMember,
): LbDriver {
  const socket = lb.haproxy.socket;
  const config = lb.config ?? (DEFAULT_LB_CONFIG.haproxy as string);

  /** One runtime API command; HAProxy answers errors on stdout with exit 0, so the text is checked. */
  const tryApi = async (command: string): Promise<{ out: string; error?: string }> => {
    const out = (
      await host.must(
        `printf '%s\\n' ${shellQuote(command)} | socat stdio ${shellQuote(`UNIX-CONNECT:${socket}`)}`,
        `haproxy runtime API: ${command}`,
      )
    ).stdout;
    // Changes answer nothing, or one of these; anything else is HAProxy saying no.
    const said = out.trim();
    const error =
      !command.startsWith('show ') && said && !/^(New server registered|Server deleted)/.test(said);
    return { out, error: error ? said.split('\n')[0] : undefined };
  };
  const api = async (command: string): Promise<string> => {
    const { out, error } = await tryApi(command);
    if (error) throw refused(host, `haproxy refused "${command}": ${error}`);
    return out;
  };

  const members = async (): Promise<MemberStatus[]> => {
    // Both answers in one round trip: HAProxy runs `;`-separated commands in order.
    const out = await api(`show servers state ${be}; show stat`);
    const at = out.indexOf('# pxname');
    const states = parseServersState(out.slice(0, at < 0 ? undefined : at), be);
    const sessions = parseStatSessions(at < 0 ? '' : out.slice(at), be);
    return [...states.values()].map((s) => ({ ...s, sessions: sessions.get(s.name) ?? 0 }));
  };

  /** Mirrors a change in haproxy.cfg (tested before it stays); true if the file changed. */
  const keepConfig = async (edit: (text: string) => string): Promise<boolean> => {
    const before = await readConfig(host, config);
    const after = edit(before);
    await replaceConfigTested(host, config, before, after, `haproxy -c -q -f ${shellQuote(config)}`);
    return after !== before;
  };

  const runtimeState: Record<AdminState, string> = { ready: 'ready', drain: 'drain', disabled: 'maint' };

  const setState = async (member: LbMember, state: AdminState): Promise<boolean> => {
    const current = (await members()).find((m) => m.name === member.name);
    if (!current) throw memberMissing(host, lb, member, be);
    if (current.admin === state) return false;
    // Maintenance is written to haproxy.cfg (`disabled`) so a reload mid-maintenance keeps the
    // node out; a drain is short and polled, and the poll re-asserts it after a reload.
    if (state === 'disabled' || current.admin === 'disabled')
      await keepConfig((t) => configWithState(t, be, member.name, state));
    await api(`set server ${be}/${member.name} state ${runtimeState[state]}`);
    return true;
  };

  return {
    members,
    setState,
    async addMember(joining, state) {
      const member = inPool(joining);
      if ((await members()).some((m) => m.name === member.name)) return false;
      const text = await readConfig(host, config);
      const options = optionsLike(text, be, member.name);
      await keepConfig((t) =>
        configWithState(configWithServer(t, be, member, options), be, member.name, state),
      );
      const added = await tryApi(
        `add server ${be}/${member.name} ${serverAddress(member)} ${options}`.trim(),
      );
      if (added.error) {
        // Some options are not accepted for dynamic servers (`cookie` before HAProxy 2.8): the
        // config already has the server, so a seamless reload brings it in with all of them.
        await host.must('systemctl reload haproxy', 'reloading haproxy to add a server');
        for (let i = 0; !(await members()).some((m) => m.name === member.name); i++) {
          if (i > 50)
            throw refused(host, `${member.name} not in backend ${be} after a reload (${added.error})`);
          await new Promise((r) => setTimeout(r, 200));
        }
      } else if (/\scheck(\s|$)/.test(` ${options} `)) {
        // A dynamic server starts in maintenance; health checks must be switched on by hand.
        await api(`enable health ${be}/${member.name}`);
      }
      if (state !== 'disabled') await api(`set server ${be}/${member.name} state ${runtimeState[state]}`);
      return true;
    },
    async removeMember(member) {
      const present = (await members()).some((m) => m.name === member.name);
      const configChanged = await keepConfig((t) => configWithoutServer(t, be, member.name));
      if (!present) return configChanged;
      await api(`set server ${be}/${member.name} state maint`);
      await api(`shutdown sessions server ${be}/${member.name}`);
      await api(`del server ${be}/${member.name}`);
      return true;
    },
  };
}
