import type { z } from 'zod';
import type { ModuleResult, PackageArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';

export type PackageManager = 'apt' | 'dnf' | 'yum';

export interface PackageState {
  manager: PackageManager;
  /** name -> installed version (absent: not installed) */
  installed: Record<string, string>;
  /** name -> version the repositories offer, for state=latest */
  candidates: Record<string, string>;
}

/** What to do with which packages; the apt-only options are apt's module (apt.ts). */
export interface PackageRequest {
  /** Names, or apt's `name=version` pins. */
  names: string[];
  state: 'present' | 'absent' | 'latest';
  deb?: string;
  update_cache: boolean;
  /** apt: `-t release`. */
  defaultRelease?: string;
  /** apt: true installs recommended packages; unset or false does not (our default, as before). */
  installRecommends?: boolean;
}

/** Pure: `nginx=1.22*` as the name and the version pattern. */
export function splitPin(spec: string): { name: string; version?: string } {
  const i = spec.indexOf('=');
  return i < 0 ? { name: spec } : { name: spec.slice(0, i), version: spec.slice(i + 1) };
}

/** Pure: whether an installed version matches a pin (`*` matches any run of characters). */
export function versionMatches(installed: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${re}$`).test(installed);
}

/** Pure: which packages need installing, upgrading or removing, and the one command that does it. */
export function planPackages(a: PackageRequest, s: PackageState): { command?: string; touched: string[] } {
  const has = (spec: string) => {
    const { name, version } = splitPin(spec);
    const v = s.installed[name];
    return Boolean(v) && (version === undefined || versionMatches(v, version));
  };
  let touched: string[];
  if (a.state === 'absent') touched = a.names.filter(has);
  else if (a.state === 'latest')
    touched = a.names.filter(
      (n) => !s.installed[n] || (s.candidates[n] && s.candidates[n] !== s.installed[n]),
    );
  else touched = a.names.filter((n) => !has(n));
  if (touched.length === 0) return { touched };
  const targets = a.deb ? [a.deb] : a.state === 'absent' ? touched.map((n) => splitPin(n).name) : touched;
  const apt =
    'DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
  const update = a.update_cache && s.manager === 'apt' ? 'apt-get update -q && ' : '';
  const verb = a.state === 'absent' ? 'remove' : 'install';
  const recommends = a.installRecommends ? '-o APT::Install-Recommends=yes' : '--no-install-recommends';
  const release = a.defaultRelease && verb === 'install' ? ` -t ${shellQuote(a.defaultRelease)}` : '';
  const command =
    s.manager === 'apt'
      ? `${update}${apt}${release} ${verb} ${recommends} ${shellJoin(targets)}`
      : `${s.manager} -y ${a.state === 'absent' ? 'remove' : a.state === 'latest' ? 'upgrade' : 'install'} ${shellJoin(targets)}`;
  return { command, touched };
}

export const PROBE = `if command -v apt-get >/dev/null 2>&1; then echo apt; elif command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; else echo none; fi`;

/** Reads what the plan needs from the host, plans, and runs the one command (unless checking). */
export async function applyPackages(
  ctx: ModuleContext,
  manager: PackageManager,
  request: PackageRequest,
  apt: {
    /** policy-rc.d: wraps the command so services start (or not) as the role asks. */
    wrap?: (command: string) => string;
    /** apt's result carries apt-get's stdout and stderr, as Ansible's does. */
    output?: boolean;
  } = {},
): Promise<ModuleResult> {
  let names = request.names;
  let debVersion: string | undefined;
  if (request.deb) {
    const fields = (
      await ctx.remote.must(
        `dpkg-deb -f ${shellQuote(request.deb)} Package Version`,
        `reading ${request.deb}`,
      )
    ).stdout;
    names = [/^Package: (.*)$/m.exec(fields)![1]];
    debVersion = /^Version: (.*)$/m.exec(fields)![1];
  }
  const list = shellJoin(names.map((n) => splitPin(n).name));
  const query =
    manager === 'apt'
      ? `for p in ${list}; do dpkg-query -W -f='\${Package}\\t\${Status}\\t\${Version}\\n' "$p" 2>/dev/null | awk -F'\\t' '$2 ~ / installed$/ {print $1 "\\t" $3}'; done`
      : `rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n' ${list} 2>/dev/null | grep -v 'not installed' || true`;
  const installed: Record<string, string> = {};
  for (const line of (await ctx.remote.must(query, 'listing installed packages')).stdout.split('\n')) {
    const [n, v] = line.split('\t');
    if (n && v) installed[n] = v;
  }
  if (debVersion && installed[names[0]] && installed[names[0]] !== debVersion) delete installed[names[0]];
  const candidates: Record<string, string> = {};
  if (request.state === 'latest' && manager === 'apt') {
    const policy = (await ctx.remote.run(`apt-cache policy ${list}`)).stdout;
    for (const block of policy.split(/\n(?=\S)/)) {
      const n = /^(\S+):/.exec(block)?.[1];
      const c = /Candidate: (\S+)/.exec(block)?.[1];
      if (n && c && c !== '(none)') candidates[n] = c;
    }
  }
  const plan = planPackages({ ...request, names }, { manager, installed, candidates });
  if (!plan.command) return ok(`${names.join(', ')}: ${request.state}`);
  const diff = {
    before: plan.touched.map((n) => `${n} ${installed[splitPin(n).name] ?? '(absent)'}`).join('\n'),
    after: `${request.state}: ${plan.touched.join(' ')}`,
  };
  let output: Partial<ModuleResult> = {};
  if (!ctx.check) {
    const r = await ctx.remote.run(apt.wrap ? apt.wrap(plan.command) : plan.command, {
      timeoutMs: 1_800_000,
    });
    if (r.exitCode !== 0)
      return failed(`${manager}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`, {
        rc: r.exitCode ?? undefined,
      });
    if (apt.output) output = { stdout: r.stdout, stderr: r.stderr };
  }
  const verb = request.state === 'absent' ? 'remove' : 'install';
  return { ...changed(ctx, `${verb} ${plan.touched.join(' ')}`, diff), ...output };
}

export const packageModule: ModuleRunner<z.infer<typeof PackageArgs>> = async (ctx, a) => {
  const manager = (await ctx.remote.must(PROBE, 'detecting the package manager')).stdout.trim();
  if (manager === 'none') return failed('no apt, dnf or yum on this host');
  return applyPackages(ctx, manager as PackageManager, {
    names: a.name ?? [],
    state: a.state,
    deb: a.deb,
    update_cache: a.update_cache,
  });
};
