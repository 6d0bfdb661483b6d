import type { z } from 'zod';
import type { GroupArgs, UserArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';

export interface Account {
  name: string;
  id: number;
  group?: number;
  home?: string;
  shell?: string;
}

function parseEntry(line: string, kind: 'passwd' | 'group'): Account | undefined {
  const f = line.trim().split(':');
  if (f.length < 3 || !f[0]) return undefined;
  return kind === 'passwd'
    ? { name: f[0], id: Number(f[2]), group: Number(f[3]), home: f[5], shell: f[6] }
    : { name: f[0], id: Number(f[2]) };
}

/** Reads the entry by name and the entry holding the wanted id, in one round trip. */
async function lookup(ctx: ModuleContext, kind: 'passwd' | 'group', name: string, id?: number) {
  const script = [
    `getent ${kind} ${shellQuote(name)} || echo`,
    id !== undefined ? `getent ${kind} ${id} || echo` : 'echo',
    kind === 'passwd' ? `id -Gn ${shellQuote(name)} 2>/dev/null || echo` : 'echo',
  ].join('; ');
  const [byName, byId, groups] = (await ctx.remote.run(script)).stdout.split('\n');
  return {
    byName: parseEntry(byName ?? '', kind),
    byId: parseEntry(byId ?? '', kind),
    groups: (groups ?? '').trim().split(/\s+/).filter(Boolean),
  };
}

/**
 * Pure: the refusal, if any. Shared storage depends on the same numeric ids everywhere, so an id
 * that is taken by someone else, or an existing account with another id, is an error to fix by
 * hand, never something to renumber silently.
 */
export function idConflict(
  kind: 'user' | 'group',
  name: string,
  wanted: number | undefined,
  byName?: Account,
  byId?: Account,
): string | undefined {
  if (wanted === undefined) return undefined;
  if (byName && byName.id !== wanted)
    return `${kind} ${name} exists with id ${byName.id}, not ${wanted}; refusing to renumber it`;
  if (byId && byId.name !== name) return `id ${wanted} already belongs to ${kind} ${byId.name}`;
  return undefined;
}

async function remove(ctx: ModuleContext, kind: 'user' | 'group', name: string, exists: boolean) {
  if (!exists) return ok(`${kind} ${name} is absent`);
  if (!ctx.check) await ctx.remote.must(`${kind}del ${shellQuote(name)}`, `removing ${kind} ${name}`);
  return changed(ctx, `remove ${kind} ${name}`);
}

export const group: ModuleRunner<z.infer<typeof GroupArgs>> = async (ctx, a) => {
  const { byName, byId } = await lookup(ctx, 'group', a.name, a.gid);
  if (a.state === 'absent') return remove(ctx, 'group', a.name, Boolean(byName));
  const conflict = idConflict('group', a.name, a.gid, byName, byId);
  if (conflict) return failed(conflict);
  if (byName) return ok(`group ${a.name} has gid ${byName.id}`);
  const cmd = shellJoin([
    'groupadd',
    ...(a.gid !== undefined ? ['-g', String(a.gid)] : []),
    ...(a.system ? ['-r'] : []),
    a.name,
  ]);
  if (!ctx.check) await ctx.remote.must(cmd, `adding group ${a.name}`);
  return changed(ctx, `add group ${a.name}${a.gid !== undefined ? ` (gid ${a.gid})` : ''}`, {
    before: '',
    after: `${a.name}:${a.gid ?? 'auto'}`,
  });
};

export const user: ModuleRunner<z.infer<typeof UserArgs>> = async (ctx, a) => {
  const { byName, byId, groups } = await lookup(ctx, 'passwd', a.name, a.uid);
  if (a.state === 'absent') return remove(ctx, 'user', a.name, Boolean(byName));
  const conflict = idConflict('user', a.name, a.uid, byName, byId);
  if (conflict) return failed(conflict);
  let argv: string[];
  if (!byName) {
    argv = [
      'useradd',
      ...(a.uid !== undefined ? ['-u', String(a.uid)] : []),
      ...(a.group ? ['-g', a.group] : []),
      ...(a.groups?.length ? ['-G', a.groups.join(',')] : []),
      ...(a.home ? ['-d', a.home] : []),
      ...(a.shell ? ['-s', a.shell] : []),
      ...(a.system ? ['-r'] : []),
      a.create_home ? '-m' : '-M',
      a.name,
    ];
  } else {
    const primary = a.group
      ? (await ctx.remote.run(`getent group ${shellQuote(a.group)} | cut -d: -f3`)).stdout.trim()
      : '';
    const missing = (a.groups ?? []).filter((g) => !groups.includes(g));
    const mods = [
      ...(a.group && primary !== String(byName.group) ? ['-g', a.group] : []),
      ...(missing.length ? ['-a', '-G', missing.join(',')] : []),
      ...(a.home && a.home !== byName.home ? ['-d', a.home] : []),
      ...(a.shell && a.shell !== byName.shell ? ['-s', a.shell] : []),
    ];
    if (mods.length === 0) return ok(`user ${a.name} has uid ${byName.id}`);
    argv = ['usermod', ...mods, a.name];
  }
  if (!ctx.check) await ctx.remote.must(shellJoin(argv), `${argv[0]} ${a.name}`);
  return changed(ctx, argv.join(' '), {
    before: byName ? `${byName.name}:${byName.id}` : '',
    after: `${a.name}:${a.uid ?? byName?.id ?? 'auto'}`,
  });
};
