import type { AdminState, LbMember, MemberStatus } from '../../common/lb';
import { memberMissing, readConfig, replaceConfigTested, type DriverFactory, type LbHost } from './driver';

// nginx open source has no runtime API: the upstream block in the config is the state. A member
// is taken out with `down` (nginx has no drain: requests in flight finish in the old workers
// after the graceful reload, which is what drain means here), every edit is checked with
// `nginx -t` before `nginx -s reload`, and the previous file is put back if the check fails.
// nginx cannot count a member's sessions; the workflow counts them on the node.

interface UpstreamServer {
  line: number;
  indent: string;
  address: string;
  port: number;
  params: string[];
}

function upstreamBlock(lines: string[], upstream: string): [number, number] | undefined {
  const open = lines.findIndex((l) =>
    new RegExp(`^\\s*upstream\\s+${upstream.replace(/\./g, '\\.')}\\s*\\{`).test(l),
  );
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < lines.length; i++) {
    depth += (lines[i].match(/\{/g) ?? []).length - (lines[i].match(/\}/g) ?? []).length;
    if (depth === 0) return [open, i];
  }
  return undefined;
}

export function upstreamServers(config: string, upstream: string): UpstreamServer[] | undefined {
  const lines = config.split('\n');
  const block = upstreamBlock(lines, upstream);
  if (!block) return undefined;
  const out: UpstreamServer[] = [];
  for (let i = block[0] + 1; i < block[1]; i++) {
    const m = /^(\s*)server\s+([^\s;]+?)(?::(\d+))?((?:\s+[^\s;]+)*)\s*;/.exec(lines[i]);
    if (m)
      out.push({
        line: i,
        indent: m[1],
        address: m[2],
        port: Number(m[3] ?? 80),
        params: m[4].trim().split(/\s+/).filter(Boolean),
      });
  }
  return out;
}

const matches = (s: UpstreamServer, m: LbMember) =>
  (s.address === m.address || s.address === m.node) && s.port === m.port;
const render = (s: UpstreamServer) =>
  `${s.indent}server ${s.address}:${s.port}${s.params.map((p) => ` ${p}`).join('')};`;

/** The upstream with `member` marked for `state` (drain and disabled are both `down`). Pure, for tests. */
export function configWithState(
  config: string,
  upstream: string,
  member: LbMember,
  state: AdminState,
): string {
  const lines = config.split('\n');
  for (const s of upstreamServers(config, upstream) ?? []) {
    if (!matches(s, member)) continue;
    const params = s.params.filter((p) => p !== 'down');
    if (state !== 'ready') params.push('down');
    lines[s.line] = render({ ...s, params });
  }
  return lines.join('\n');
}

export function configWithMember(
  config: string,
  upstream: string,
  member: LbMember,
  state: AdminState,
): string {
  const lines = config.split('\n');
  const block = upstreamBlock(lines, upstream);
  if (!block) return config;
  const servers = upstreamServers(config, upstream) ?? [];
  const last = servers[servers.length - 1];
  const at = last ? last.line + 1 : block[1];
  const params = state === 'ready' ? [] : ['down'];
  lines.splice(
    at,
    0,
    render({ line: at, indent: last?.indent ?? '    ', address: member.address, port: member.port, params }),
  );
  return lines.join('\n');
}

export function configWithoutMember(config: string, upstream: string, member: LbMember): string {
  const drop = new Set(
    (upstreamServers(config, upstream) ?? []).filter((s) => matches(s, member)).map((s) => s.line),
  );
  return config
    .split('\n')
    .filter((_, i) => !drop.has(i))
    .join('\n');
}

export const nginxDriver: DriverFactory = (host: LbHost, lb) => {
  const config = lb.config as string;
  const upstream = lb.backend;

  const servers = async () => {
    const text = await readConfig(host, config);
    const list = upstreamServers(text, upstream);
    if (!list)
      throw memberMissing(host, lb, { node: '-', name: `upstream ${upstream}`, address: config, port: 0 });
    return { text, list };
  };

  const change = async (before: string, after: string): Promise<boolean> => {
    if (after === before) return false;
    await replaceConfigTested(host, config, before, after, 'nginx -t -q');
    await host.must('nginx -s reload', 'nginx reload');
    return true;
  };

  return {
    async members(): Promise<MemberStatus[]> {
      return (await servers()).list.map((s) => ({
        name: `${s.address}:${s.port}`,
        address: s.address,
        port: s.port,
        admin: s.params.includes('down') ? 'disabled' : 'ready',
      }));
    },
    async setState(member, state) {
      const { text, list } = await servers();
      if (!list.some((s) => matches(s, member))) throw memberMissing(host, lb, member);
      return change(text, configWithState(text, upstream, member, state));
    },
    async addMember(member, state) {
      const { text, list } = await servers();
      if (list.some((s) => matches(s, member))) return false;
      return change(text, configWithMember(text, upstream, member, state));
    },
    async removeMember(member) {
      const { text } = await servers();
      return change(text, configWithoutMember(text, upstream, member));
    },
  };
};
