import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { applyMode, type FileMode } from '../../common/file-mode';
import type { UnarchiveArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

// unarchive: the archive (sent from the worker, or already on the host with remote_src) is
// unpacked on the host into a scratch directory with tar or unzip (python3's zipfile when there
// is no unzip), extra_opts applied; that tree is compared with dest path by path (kind, content,
// link target, owner, group, mode as the task wants them), and only what differs is copied in.
// So a second run changes nothing, and check mode knows exactly what a run would change.

type Unarchive = z.output<typeof UnarchiveArgs>;

/** One path of a tree, as find(1) prints it. */
export interface TreeEntry {
  /** find's %y: f file, d directory, l link, … */
  type: string;
  mode: string;
  owner: string;
  group: string;
  link: string;
  sha1?: string;
}

/** ansible-core's handler names, by what the archive starts with. */
export function handlerOf(magic: string): string {
  if (/^504b0(304|506|708)/.test(magic)) return 'ZipArchive';
  if (magic.startsWith('1f8b')) return 'TgzArchive';
  if (magic.startsWith('425a68')) return 'TarBzipArchive';
  if (magic.startsWith('fd377a58')) return 'TarXzArchive';
  if (magic.startsWith('28b52ffd')) return 'TarZstdArchive';
  return 'TarArchive';
}

/** find's line per path; `name` is %P under the scratch root, %p for dest's paths given one by one. */
const findFormat = (name: '%P' | '%p') => `%y\\t%m\\t%u\\t%g\\t${name}\\t%l\\n`;

/** Pure: find's listing (and sha1sum's) as path -> entry. */
export function parseTree(listing: string, sums: string): Map<string, TreeEntry> {
  const tree = new Map<string, TreeEntry>();
  for (const line of listing.split('\n')) {
    const [type, mode, owner, group, p, link = ''] = line.split('\t');
    if (!p) continue;
    tree.set(p.replace(/^\.\//, ''), { type, mode, owner, group, link });
  }
  for (const line of sums.split('\n')) {
    const m = /^([0-9a-f]{40}) [ *](.+)$/.exec(line);
    const entry = m && tree.get(m[2].replace(/^\.\//, ''));
    if (entry) entry.sha1 = m[1];
  }
  return tree;
}

export interface Wanted {
  owner?: string;
  group?: string;
  mode?: FileMode;
}

/** Pure: the mode a path from the archive should have in dest: the archive's, or the task's applied to it. */
export function wantedMode(entry: TreeEntry, wanted: Wanted): string {
  if (wanted.mode === undefined || entry.type === 'l') return entry.mode;
  return applyMode(parseInt(entry.mode, 8), wanted.mode, entry.type === 'd').toString(8);
}

/**
 * Pure: the archive's paths that dest does not have as wanted, parents before children, each
 * with the mode to set ('-' for a link).
 */
export function archiveChanges(
  archive: Map<string, TreeEntry>,
  dest: Map<string, TreeEntry>,
  wanted: Wanted,
): { path: string; mode: string; why: string }[] {
  const out: { path: string; mode: string; why: string }[] = [];
  for (const p of [...archive.keys()].sort()) {
    const a = archive.get(p)!;
    const d = dest.get(p);
    const mode = wantedMode(a, wanted);
    const owner = wanted.owner ?? a.owner;
    const group = wanted.group ?? a.group;
    let why = '';
    if (!d) why = 'absent';
    else if (d.type !== a.type) why = `is a ${kindName(d.type)}, not a ${kindName(a.type)}`;
    else if (a.type === 'f' && d.sha1 !== a.sha1) why = 'content differs';
    else if (a.type === 'l' && d.link !== a.link) why = `links to ${d.link}`;
    else if (d.owner !== owner) why = `owner ${d.owner}`;
    else if (d.group !== group) why = `group ${d.group}`;
    else if (a.type !== 'l' && parseInt(d.mode, 8) !== parseInt(mode, 8)) why = `mode ${d.mode}`;
    if (why) out.push({ path: p, mode: a.type === 'l' ? '-' : mode, why });
  }
  return out;
}

const kindName = (t: string) => ({ f: 'file', d: 'directory', l: 'link' })[t] ?? 'special file';

/** Pure: the listing Ansible returns in `files`: directories end with `/`. */
export function fileList(archive: Map<string, TreeEntry>): string[] {
  return [...archive.entries()].map(([p, e]) => (e.type === 'd' ? `${p}/` : p)).sort();
}

/**
 * Pure: the script that unpacks into a scratch directory and lists it and its counterparts in
 * dest. `src` is a shell word (`"$w/archive"` for an archive sent on stdin).
 */
export function unpackScript(a: Unarchive, src: string, upload: boolean): string {
  const dest = shellQuote(a.dest);
  const opts = shellJoin(a.extra_opts);
  const list = `find . -mindepth 1 -printf '${findFormat('%P')}'`;
  return [
    'set -u',
    `if [ ! -d ${dest} ]; then echo 'nodest'; exit 0; fi`,
    'w=$(mktemp -d) || exit 90',
    'echo "scratch=$w"',
    upload ? 'cat > "$w/archive"' : '',
    `[ -r ${src} ] || { echo "nosrc"; exit 0; }`,
    `magic=$(od -An -tx1 -N4 ${src} | tr -d ' \\n'); echo "magic=$magic"`,
    'mkdir "$w/x"',
    'case "$magic" in',
    '504b0[357]0[468]*)',
    `  if command -v unzip >/dev/null 2>&1; then unzip -q -o ${opts} ${src} -d "$w/x" 2> "$w/err"`,
    // Without unzip, python3's zipfile unpacks (file modes are not kept); it takes no options.
    a.extra_opts.length
      ? ''
      : `  elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -e ${src} "$w/x" 2> "$w/err"`,
    `  else echo 'Command "unzip" not found${a.extra_opts.length ? ' (extra_opts need it)' : ''}.' > "$w/err"; false; fi ;;`,
    `*) tar -x -C "$w/x" ${opts} -f ${src} 2> "$w/err" ;;`,
    'esac',
    'rc=$?; echo "rc=$rc"',
    'if [ "$rc" != 0 ]; then echo "--error--"; tail -n 5 "$w/err"; exit 0; fi',
    'cd "$w/x"',
    `echo '--archive--'; ${list}`,
    `echo '--archive-sums--'; find . -type f -print0 | xargs -0 -r sha1sum`,
    `echo '--dest--'; find . -mindepth 1 -print0 | (cd ${dest} && xargs -0 -r sh -c 'find "$@" -maxdepth 0 -printf "${findFormat('%p')}" 2>/dev/null' sh)`,
    `echo '--dest-sums--'; find . -type f -print0 | (cd ${dest} && xargs -0 -r sha1sum 2>/dev/null)`,
    'true',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Pure: the unpack script's report. */
export function parseUnpack(stdout: string) {
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(stdout)?.[1];
  const section = (name: string) => {
    const start = stdout.indexOf(`--${name}--\n`);
    if (start < 0) return '';
    const rest = stdout.slice(start + name.length + 5);
    const next = rest.search(/^--[a-z-]+--$/m);
    return next < 0 ? rest : rest.slice(0, next);
  };
  return {
    noDest: /^nodest$/m.test(stdout),
    noSrc: /^nosrc$/m.test(stdout),
    scratch: field('scratch'),
    magic: field('magic') ?? '',
    rc: Number(field('rc') ?? 0),
    error: section('error').trim(),
    archive: parseTree(section('archive'), section('archive-sums')),
    dest: parseTree(section('dest'), section('dest-sums')),
  };
}

/**
 * Pure: the script that copies the changed paths in (stdin: `mode<TAB>path` lines, parents first)
 * and gives them the task's owner, group and mode.
 */
export function applyScript(scratch: string, a: Unarchive): string {
  const dest = shellQuote(a.dest);
  const who = a.owner || a.group ? shellQuote(`${a.owner ?? ''}${a.group ? `:${a.group}` : ''}`) : '';
  return [
    'set -u',
    `tab=$(printf '\\t'); cd ${shellQuote(`${scratch}/x`)} || exit 1`,
    'while IFS="$tab" read -r mode p; do',
    `  d=${dest}/"$p"`,
    '  if [ -d "$p" ] && [ ! -L "$p" ]; then',
    '    mkdir -p -- "$d" && chown --reference="$p" -- "$d" && chmod --reference="$p" -- "$d" || exit 1',
    '  else cp -aT --remove-destination -- "$p" "$d" || exit 1; fi',
    who ? `  chown -h ${who} -- "$d" || exit 1` : '',
    '  if [ "$mode" != - ]; then chmod "$mode" -- "$d" || exit 1; fi',
    'done',
  ]
    .filter(Boolean)
    .join('\n');
}

export const unarchive: ModuleRunner<Unarchive> = async (ctx, a) => {
  if (a.creates) {
    const there = await ctx.remote.run(`[ -e ${shellQuote(a.creates)} ]`);
    if (there.exitCode === 0)
      return { changed: false, skipped: true, msg: `skipped, since ${a.creates} exists` };
  }
  let content: Buffer | undefined;
  if (!a.remote_src) {
    try {
      content = await readFile(a.src);
    } catch (err) {
      return failed(`Could not find or access '${a.src}' on the worker: ${(err as Error).message}`);
    }
  }
  const src = a.remote_src ? shellQuote(a.src) : '"$w/archive"';
  const r = await ctx.remote.run(unpackScript(a, src, !a.remote_src), {
    stdin: content,
    timeoutMs: 1_800_000,
  });
  const u = parseUnpack(r.stdout);
  const scrap = () => (u.scratch ? ctx.remote.run(`rm -rf -- ${shellQuote(u.scratch)}`) : undefined);
  if (u.noDest) return failed(`dest '${a.dest}' must be an existing dir`);
  if (r.exitCode !== 0 || !u.scratch) {
    await scrap();
    return failed(`unpacking ${a.src}: ${(r.stderr || r.stdout).trim().slice(0, 1000)}`);
  }
  if (u.noSrc) {
    await scrap();
    return failed(`Source '${a.src}' does not exist or is not readable on the host`);
  }
  const handler = handlerOf(u.magic);
  if (u.rc !== 0) {
    await scrap();
    return failed(
      `Failed to find handler for "${a.src}". Make sure the required command to extract the file is installed. ${u.error}`,
    );
  }
  const changes = archiveChanges(u.archive, u.dest, a);
  const data: Record<string, unknown> = {
    dest: a.dest,
    src: a.src,
    handler,
    ...(a.list_files ? { files: fileList(u.archive) } : {}),
  };
  try {
    if (changes.length === 0) return { ...ok(`${a.dest} holds ${a.src} as wanted`), data };
    if (!ctx.check) {
      const lines = changes.map((c) => `${c.mode}\t${c.path}\n`).join('');
      const applied = await ctx.remote.run(applyScript(u.scratch, a), { stdin: lines, timeoutMs: 1_800_000 });
      if (applied.exitCode !== 0)
        return failed(
          `extracting into ${a.dest}: ${(applied.stderr || applied.stdout).trim().slice(0, 1000)}`,
          { data },
        );
    }
    const shown = changes.slice(0, 50);
    const more = changes.length > shown.length ? `\n… and ${changes.length - shown.length} more\n` : '';
    const diff = {
      path: a.dest,
      before: shown.map((c) => `${c.path}: ${c.why}`).join('\n') + `\n${more}`,
      after: shown.map((c) => `${c.path}: from ${a.src}`).join('\n') + `\n${more}`,
    };
    return { ...changed(ctx, `extract ${changes.length} path(s) of ${a.src} into ${a.dest}`, diff), data };
  } finally {
    await scrap();
  }
};
