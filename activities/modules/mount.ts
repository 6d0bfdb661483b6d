import type { z } from 'zod';
import type { MountArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

type Mount = z.infer<typeof MountArgs>;

/** fstab escapes spaces in fields as \040. */
const fstabField = (s: string) => s.replace(/ /g, '\\040');

export function fstabLine(a: Mount): string {
  return [fstabField(a.src!), fstabField(a.path), a.fstype, a.opts, a.dump, a.passno].join(' ');
}

/** Pure: fstab with exactly one entry for the mount point (or none, for absent), other lines untouched. */
export function editFstab(text: string, a: Mount): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const isOurs = (l: string) => !l.trim().startsWith('#') && l.trim().split(/\s+/)[1] === fstabField(a.path);
  const first = lines.findIndex(isOurs);
  const out = lines.filter((l, j) => !isOurs(l) || (j === first && a.state !== 'absent'));
  if (a.state !== 'absent') {
    const wanted = fstabLine(a);
    const at = out.findIndex(isOurs);
    if (at < 0) out.push(wanted);
    else if (out[at].trim().split(/\s+/).join(' ') !== wanted) out[at] = wanted;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** FUSE filesystems (GlusterFS among them) refuse `-o remount`; new options apply at the next mount. */
const remountable = (fstype?: string) => !/^(glusterfs|fuse)/.test(fstype ?? '');

export const mount: ModuleRunner<Mount> = async (ctx, a) => {
  if ((a.state === 'mounted' || a.state === 'present') && (!a.src || !a.fstype))
    return failed(`state=${a.state} needs src and fstype`);
  const fstab = (await ctx.remote.stat('/etc/fstab', true)).content?.toString('utf8') ?? '';
  const wantedFstab = editFstab(fstab, a);
  const mounted =
    (
      await ctx.remote.run(`findmnt -rn --mountpoint ${shellQuote(a.path)} >/dev/null && echo yes`)
    ).stdout.trim() === 'yes';
  const steps: string[] = [];
  const commands: string[] = [];
  if (wantedFstab !== fstab) steps.push('fstab');
  if ((a.state === 'unmounted' || a.state === 'absent') && mounted) {
    steps.push('unmount');
    commands.push(`umount ${shellQuote(a.path)}`);
  }
  if (a.state === 'mounted' && !mounted) {
    steps.push('mount');
    commands.push(`mkdir -p ${shellQuote(a.path)}`, `mount ${shellQuote(a.path)}`);
  } else if (a.state === 'mounted' && mounted && steps.includes('fstab') && remountable(a.fstype)) {
    // Options changed: remount so the running mount matches fstab.
    steps.push('remount');
    commands.push(`mount -o remount ${shellQuote(a.path)}`);
  }
  if (steps.length === 0) return ok(`${a.path} is ${a.state}`);
  const diff = { path: '/etc/fstab', before: fstab, after: wantedFstab };
  if (!ctx.check) {
    if (wantedFstab !== fstab) await ctx.remote.writeFile('/etc/fstab', wantedFstab, {});
    if (commands.length) {
      const r = await ctx.remote.run(commands.join(' && '));
      if (r.exitCode !== 0)
        return failed(`${steps.join(', ')} ${a.path}: ${(r.stderr || r.stdout).trim()}`, {
          rc: r.exitCode ?? undefined,
          diff,
        });
    }
  }
  return changed(ctx, `${steps.join(', ')} ${a.path}`, diff);
};
