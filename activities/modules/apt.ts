import type { z } from 'zod';
import type { AptArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';
import { applyPackages, PROBE, type PackageManager } from './package';

// apt, as ansible-core's apt module: `package` plus the package lists' freshness (update_cache,
// cache_valid_time), the release to install from, recommends, and policy-rc.d. On a host without
// apt the shared options still work, as with `package`; the apt-only ones are refused there.

type Apt = z.output<typeof AptArgs>;

/** Where apt records a successful update; ansible-core falls back to the lists directory. */
const CACHE_STAMPS = ['/var/lib/apt/periodic/update-success-stamp', '/var/lib/apt/lists'];

/** Pure: the options given that only apt has, by name. */
export function aptOnlyOptions(a: Apt): string[] {
  return [
    a.cache_valid_time > 0 && 'cache_valid_time',
    a.default_release && 'default_release',
    a.install_recommends !== undefined && 'install_recommends',
    a.policy_rc_d !== undefined && 'policy_rc_d',
    a.deb && 'deb',
    a.name?.some((n) => n.includes('=')) && 'name=version',
  ].filter((o): o is string => Boolean(o));
}

/**
 * Pure: whether to update the package lists, as ansible-core decides: asked by update_cache or
 * cache_valid_time, and the lists older than cache_valid_time seconds (0: always).
 */
export function cacheIsStale(
  a: Pick<Apt, 'update_cache' | 'cache_valid_time'>,
  cacheTime: number,
  now: number,
): boolean {
  if (!a.update_cache && !a.cache_valid_time) return false;
  return cacheTime + a.cache_valid_time < now;
}

/**
 * Pure: the command with /usr/sbin/policy-rc.d saying `exit code` while it runs, and whatever
 * was there before put back afterwards (101 keeps services that packages install from starting).
 */
export function withPolicyRcD(command: string, code: number, file = '/usr/sbin/policy-rc.d'): string {
  return [
    `p=${shellQuote(file)}; saved=$(mktemp); had=0`,
    'if [ -e "$p" ]; then had=1; cp -p "$p" "$saved"; fi',
    `printf '#!/bin/sh\\nexit %d\\n' ${code} > "$p" && chmod 0755 "$p"`,
    `( ${command} ); rc=$?`,
    'if [ "$had" = 1 ]; then cp -p "$saved" "$p"; else rm -f "$p"; fi; rm -f "$saved"',
    'exit $rc',
  ].join('\n');
}

/** Pure: apt-get update's own verdict; a list it could not fetch is a failure, as in ansible-core. */
export function updateFailure(exitCode: number | null, output: string): string | undefined {
  const bad = output
    .split('\n')
    .filter((l) => /^E: |^W: (Failed to fetch|Some index files failed)/.test(l))
    .slice(0, 5);
  if (exitCode === 0 && bad.length === 0) return undefined;
  return `Failed to update apt cache: ${bad.join('\n') || `apt-get update exited ${exitCode}`}`;
}

const cacheTimeScript = [
  ...CACHE_STAMPS.map((p, i) => `${i ? 'elif' : 'if'} [ -e ${p} ]; then stat -c %Y ${p}`),
  'else echo 0; fi',
].join('\n');

export const apt: ModuleRunner<Apt> = async (ctx, a) => {
  const probe = (
    await ctx.remote.must(`${PROBE}\n${cacheTimeScript}\ndate +%s`, 'detecting the package manager')
  ).stdout.split('\n');
  const manager = probe[0].trim();
  if (manager === 'none') return failed('no apt, dnf or yum on this host');
  const request = {
    names: a.name ?? [],
    state: a.state,
    deb: a.deb,
    update_cache: false,
    defaultRelease: a.default_release,
    installRecommends: a.install_recommends,
  };
  if (manager !== 'apt') {
    const aptOnly = aptOnlyOptions(a);
    if (aptOnly.length)
      return failed(`${aptOnly.join(', ')}: apt only; this host uses ${manager} (use package or ${manager})`);
    if (!a.name?.length) return failed(`update_cache without name: apt only; this host uses ${manager}`);
    return applyPackages(ctx, manager as PackageManager, {
      ...request,
      update_cache: Boolean(a.update_cache),
    });
  }

  let cacheTime = Number(probe[1]) || 0;
  let cacheUpdated = false;
  if (cacheIsStale(a, cacheTime, Number(probe[2]))) {
    cacheUpdated = true;
    if (!ctx.check) {
      const r = await ctx.remote.run('apt-get update -q', { timeoutMs: 600_000 });
      const failure = updateFailure(r.exitCode, `${r.stdout}\n${r.stderr}`);
      if (failure) return failed(failure, { rc: r.exitCode ?? undefined });
      const after = Number((await ctx.remote.must(cacheTimeScript, 'reading the cache time')).stdout) || 0;
      // ansible-core: updated when the stamp moved (an update that fetched nothing new may not).
      cacheUpdated = after !== cacheTime;
      cacheTime = after;
    }
  }
  const data = { cache_updated: cacheUpdated, cache_update_time: cacheTime };
  if (!a.name?.length && !a.deb) {
    if (!cacheUpdated) return { ...ok('package lists are fresh'), data };
    return { ...changed(ctx, 'update the package lists'), data };
  }
  const result = await applyPackages(ctx, 'apt', request, {
    wrap: a.policy_rc_d === undefined ? undefined : (c) => withPolicyRcD(c, a.policy_rc_d!),
    output: true,
  });
  return { ...result, data: { ...result.data, ...data } };
};
