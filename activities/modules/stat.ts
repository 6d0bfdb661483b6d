import type { z } from 'zod';
import type { StatArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { failed, type ModuleRunner } from './context';

// `stat`: what a path is, as ansible-core's stat module reports it under `stat` (exists, isdir,
// isreg, islnk, mode, owner, size, checksum…), in one round trip. It changes nothing.

type Stat = z.infer<typeof StatArgs>;

const SUMS = { sha1: 'sha1sum', sha256: 'sha256sum', md5: 'md5sum' } as const;

/** Pure: the script that prints one `key=value` line per field. */
export function statScript(a: Stat): string {
  const p = shellQuote(a.path);
  const L = a.follow ? '-L ' : '';
  return [
    `if [ ! -e ${p} ] && [ ! -L ${p} ]; then echo exists=false; exit 0; fi`,
    'echo exists=true',
    `[ -L ${p} ] && printf 'lnk_source=%s\\n' "$(readlink -f -- ${p})"`,
    `stat ${L}--printf 'type=%F\\nmode=%a\\nuid=%u\\ngid=%g\\npw_name=%U\\ngr_name=%G\\nsize=%s\\nmtime=%Y\\n' -- ${p}`,
    a.get_checksum
      ? `[ -f ${p} ] && [ -r ${p} ] && printf 'checksum=%s\\n' "$(${SUMS[a.checksum_algorithm]} < ${p} | cut -d' ' -f1)"`
      : '',
    'true',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Pure: the script's output as Ansible's `stat` dictionary. */
export function parseStat(output: string, a: Stat): Record<string, unknown> {
  const f = Object.fromEntries(
    output
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (f.exists !== 'true') return { exists: false };
  const type = f.type ?? '';
  const islnk = f.lnk_source !== undefined && !a.follow;
  return {
    exists: true,
    path: a.path,
    isdir: !islnk && type === 'directory',
    isreg: !islnk && type.startsWith('regular'),
    islnk,
    ...(f.lnk_source !== undefined ? { lnk_source: f.lnk_source } : {}),
    mode: f.mode === undefined ? undefined : f.mode.padStart(4, '0'),
    uid: Number(f.uid),
    gid: Number(f.gid),
    pw_name: f.pw_name,
    gr_name: f.gr_name,
    size: Number(f.size),
    mtime: Number(f.mtime),
    ...(f.checksum ? { checksum: f.checksum } : {}),
  };
}

export const stat: ModuleRunner<Stat> = async (ctx, a) => {
  const r = await ctx.remote.run(statScript(a));
  if (r.exitCode !== 0) return failed(`stat ${a.path}: ${(r.stderr || r.stdout).trim()}`);
  const s = parseStat(r.stdout, a);
  return {
    changed: false,
    msg: s.exists ? `${a.path} exists` : `${a.path} does not exist`,
    data: { stat: s },
  };
};
