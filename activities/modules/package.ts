import type { z } from 'zod';
import type { PackageArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

export type PackageManager = 'apt' | 'dnf' | 'yum';

export interface PackageState {
  manager: PackageManager;
  /** name -> installed version (absent: not installed) */
  installed: Record<string, string>;
  /** name -> version the repositories offer, for state=latest */
  candidates: Record<string, string>;
}

/** Pure: which packages need installing, upgrading or removing, and the one command that does it. */
export function planPackages(
  a: { names: string[]; state: 'present' | 'absent' | 'latest'; deb?: string; update_cache: boolean },
  s: PackageState,
): { command?: string; touched: string[] } {
  let touched: string[];
  if (a.state === 'absent') touched = a.names.filter((n) => s.installed[n]);
  else if (a.state === 'latest')
    touched = a.names.filter(
      (n) => !s.installed[n] || (s.candidates[n] && s.candidates[n] !== s.installed[n]),
    );
  else touched = a.names.filter((n) => !s.installed[n]);
  if (touched.length === 0) return { touched };
  const targets = a.deb ? [a.deb] : touched;
  const apt =
    'DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
  const update = a.update_cache && s.manager === 'apt' ? 'apt-get update -q && ' : '';
  const verb = a.state === 'absent' ? 'remove' : 'install';
  const command =
    s.manager === 'apt'
      ? `${update}${apt} ${verb} --no-install-recommends ${shellJoin(targets)}`
      : `${s.manager} -y ${a.state === 'absent' ? 'remove' : a.state === 'latest' ? 'upgrade' : 'install'} ${shellJoin(targets)}`;
  return { command, touched };
}

const PROBE = `if command -v apt-get >/dev/null 2>&1; then echo apt; elif command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; else echo none; fi`;

export const packageModule: ModuleRunner<z.infer<typeof PackageArgs>> = async (ctx, a) => {
  const manager = (await ctx.remote.must(PROBE, 'detecting the package manager')).stdout.trim();
  if (manager === 'none') return failed('no apt, dnf or yum on this host');
  let names = a.name ?? [];
  let debVersion: string | undefined;
  if (a.deb) {
    const fields = (
      await ctx.remote.must(`dpkg-deb -f ${shellQuote(a.deb)} Package Version`, `reading ${a.deb}`)
    ).stdout;
    names = [/^Package: (.*)$/m.exec(fields)![1]];
    debVersion = /^Version: (.*)$/m.exec(fields)![1];
  }
  const list = shellJoin(names);
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
  if (a.state === 'latest' && manager === 'apt') {
    const policy = (await ctx.remote.run(`apt-cache policy ${list}`)).stdout;
    for (const block of policy.split(/\n(?=\S)/)) {
      const n = /^(\S+):/.exec(block)?.[1];
      const c = /Candidate: (\S+)/.exec(block)?.[1];
      if (n && c && c !== '(none)') candidates[n] = c;
    }
  }
  const plan = planPackages(
    { names, state: a.state, deb: a.deb, update_cache: a.update_cache },
    {
      manager: manager as PackageManager,
      installed,
      candidates,
    },
  );
  if (!plan.command) return ok(`${names.join(', ')}: ${a.state}`);
  const diff = {
    before: plan.touched.map((n) => `${n} ${installed[n] ?? '(absent)'}`).join('\n'),
    after: `${a.state}: ${plan.touched.join(' ')}`,
  };
  if (!ctx.check) {
    const r = await ctx.remote.run(plan.command, { timeoutMs: 1_800_000 });
    if (r.exitCode !== 0)
      return failed(`${manager}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`, {
        rc: r.exitCode ?? undefined,
      });
  }
  return changed(ctx, `${a.state === 'absent' ? 'remove' : 'install'} ${plan.touched.join(' ')}`, diff);
};
