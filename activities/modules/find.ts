import { posix } from 'node:path';
import type { z } from 'zod';
import type { FindArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { failed, type ModuleRunner } from './context';
import { fnmatchRegExp, PythonRegexError, pythonMatch, pythonRegExp } from './python-regex';

// `find`: the files under `paths` that match, each as ansible-core's find reports it (path, mode,
// uid, gid, size, mtime, isdir, isreg, islnk, pw_name…), in the order its os.walk gives them.
// One find(1) lists every entry with its attributes in one round trip; the selection (names,
// hidden, type, age, size, depth) is computed here, with Python's fnmatch and regex meaning.
// `contains` needs the files' text: one more round trip greps only the files selected so far,
// with grep -P, whose PCRE reads a pattern as Python's re does (not `\Z` or Unicode `\w`).

type Find = z.infer<typeof FindArgs>;

/** One entry as find(1) printed it (`type` as lstat sees it, `target` what a link points to). */
export interface Entry {
  path: string;
  name: string;
  depth: number;
  type: string;
  target: string;
  mode: number;
  uid: number;
  gid: number;
  user: string;
  group: string;
  size: number;
  inode: number;
  dev: number;
  nlink: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface Listing {
  /** The host's clock when it listed, for `age`. */
  now: number;
  /** Each directory walked, with its entries in find's (directory) order. */
  walks: { root: string; entries: Entry[] }[];
  /** Paths that could not be walked, and why. */
  skipped: Record<string, string>;
}

const FIELDS = '%y\\0%Y\\0%m\\0%U\\0%G\\0%u\\0%g\\0%s\\0%i\\0%D\\0%n\\0%A@\\0%T@\\0%C@\\0%d\\0%p\\0';
const FIELD_COUNT = 16;

/** How deep find lists: one level more than is selected, which ansible-core's walk also reads (`examined`). */
function maxDepth(a: Pick<Find, 'recurse' | 'depth'>): number | undefined {
  if (!a.recurse) return 1;
  return a.depth ? a.depth + 1 : undefined;
}

/** Pure: the one listing script. NUL-separated records: the clock, then per path `W root` + entries, or `S path`. */
export function findScript(a: Pick<Find, 'paths' | 'recurse' | 'depth'>): string {
  const depth = maxDepth(a);
  const lines = ['export LC_ALL=C', `printf '%s\\0' "$(date +%s.%N)"`];
  for (const path of a.paths) {
    const p = shellQuote(path);
    lines.push(
      `if [ -d ${p} ]; then printf 'W\\0%s\\0' ${p}; ` +
        `find -H ${p} -mindepth 1 ${depth ? `-maxdepth ${depth} ` : ''}-printf 'E\\0${FIELDS}'; ` +
        `else printf 'S\\0%s\\0' ${p}; fi`,
    );
  }
  lines.push('exit 0');
  return lines.join('\n');
}

const normal = (p: string) => posix.normalize(p).replace(/(.)\/+$/, '$1');

/** Pure: the listing script's output (and find's complaints on stderr) as data. */
export function parseListing(stdout: string, stderr = ''): Listing {
  const t = stdout.split('\0');
  const listing: Listing = { now: Number(t[0]), walks: [], skipped: {} };
  for (let i = 1; i < t.length;) {
    const tag = t[i];
    if (tag === 'W') {
      listing.walks.push({ root: normal(t[i + 1]), entries: [] });
      i += 2;
    } else if (tag === 'S') {
      listing.skipped[t[i + 1]] = `'${t[i + 1]}' is not a directory`;
      i += 2;
    } else if (tag === 'E') {
      const f = t.slice(i + 1, i + 1 + FIELD_COUNT);
      const path = normal(f[15]);
      listing.walks[listing.walks.length - 1]?.entries.push({
        path,
        name: posix.basename(path),
        depth: Number(f[14]),
        type: f[0],
        target: f[1],
        mode: parseInt(f[2], 8),
        uid: Number(f[3]),
        gid: Number(f[4]),
        // find prints the number when the id has no name; ansible-core reports ''.
        user: f[5] === f[3] ? '' : f[5],
        group: f[6] === f[4] ? '' : f[6],
        size: Number(f[7]),
        inode: Number(f[8]),
        dev: Number(f[9]),
        nlink: Number(f[10]),
        atime: Number(f[11]),
        mtime: Number(f[12]),
        ctime: Number(f[13]),
      });
      i += 1 + FIELD_COUNT;
    } else i++;
  }
  for (const line of stderr.split('\n')) {
    const m = /^find: '(.*)': (.*)$/.exec(line);
    if (m) listing.skipped[m[1]] = m[2];
  }
  return listing;
}

/**
 * Pure: a walk's entries in the order ansible-core's os.walk(topdown) gives them: per directory
 * its non-directories, then its directories (a link to one counts as one), then each
 * directory's own entries in turn; links are not descended into.
 */
export function walkOrder(root: string, entries: Entry[]): Entry[] {
  const children = new Map<string, Entry[]>();
  for (const e of entries) {
    const parent = posix.dirname(e.path);
    children.set(parent, [...(children.get(parent) ?? []), e]);
  }
  const out: Entry[] = [];
  const visit = (dir: string) => {
    const kids = children.get(dir) ?? [];
    const isDir = (e: Entry) => e.type === 'd' || (e.type === 'l' && e.target === 'd');
    const dirs = kids.filter(isDir);
    out.push(...kids.filter((e) => !isDir(e)), ...dirs);
    for (const d of dirs) if (d.type === 'd') visit(d.path);
  };
  visit(root);
  return out;
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `age` in seconds, `size` in bytes; negative means "at most". */
export function parseAmount(text: string, units: Record<string, number>): number {
  const m = /^(-?\d+)([a-z])?$/.exec(text.toLowerCase())!;
  return Number(m[1]) * (m[2] ? units[m[2]] : 1);
}

/** At least `limit` (or, negative, at most its absolute value), as find's age and size read it. */
const atLeast = (value: number, limit: number) => (limit >= 0 ? value >= limit : value <= -limit);

/** Pure: the name filter ansible-core calls pfilter: any pattern matches and no exclude does. */
export function nameFilter(a: {
  patterns: string[];
  excludes?: string[];
  use_regex: boolean;
}): (name: string) => boolean {
  const compile = (p: string) => {
    if (!a.use_regex) {
      const re = fnmatchRegExp(p);
      return (name: string) => re.test(name);
    }
    const re = pythonRegExp(p);
    return (name: string) => pythonMatch(re, name);
  };
  const patterns = (a.patterns.length ? a.patterns : [a.use_regex ? '.*' : '*']).map(compile);
  const excludes = (a.excludes ?? []).map(compile);
  return (name) => patterns.some((m) => m(name)) && !excludes.some((m) => m(name));
}

/** Pure: the entries find selects before `contains` (which needs the files' text), in walk order. */
export function selectEntries(listing: Listing, a: Find): { selected: Entry[]; examined: number } {
  const names = nameFilter(a);
  const deepest = a.recurse ? a.depth || Infinity : 1;
  const age = a.age === undefined ? undefined : parseAmount(a.age, AGE_UNITS);
  const size = a.size === undefined ? undefined : parseAmount(a.size, SIZE_UNITS);
  const selected: Entry[] = [];
  let examined = 0;
  for (const walk of listing.walks) {
    examined += walk.entries.length;
    for (const e of walkOrder(walk.root, walk.entries)) {
      if (e.depth > deepest) continue;
      if (e.name.startsWith('.') && !a.hidden) continue;
      const wantedType =
        a.file_type === 'any' ||
        (a.file_type === 'directory' && e.type === 'd') ||
        (a.file_type === 'file' && e.type === 'f') ||
        (a.file_type === 'link' && e.type === 'l');
      if (!wantedType || !names(e.name)) continue;
      if (age !== undefined && !atLeast(listing.now - e[a.age_stamp], age)) continue;
      // Size is a file's: directories and links pass, as in ansible-core.
      if (size !== undefined && e.type === 'f' && !atLeast(e.size, size)) continue;
      selected.push(e);
    }
  }
  return { selected, examined };
}

/**
 * Pure: the script that names (NUL-separated) which of the files on stdin contain the pattern.
 * grep's exit status cannot tell "no match" from an error through xargs; its stderr can (-s
 * keeps unreadable files quiet, as ansible-core passes over them).
 */
export function containsScript(pattern: string, wholeFile: boolean): string {
  // ansible-core: re.match on each line (so anchored at its start), or re.search on the whole text.
  const pcre = wholeFile ? pattern : `^(?:${pattern})`;
  return `export LC_ALL=C\nxargs -0 -r grep -lZsP ${wholeFile ? '-z ' : ''}-e ${shellQuote(pcre)} --\nexit 0`;
}

/** One entry as a `files` item: ansible-core's stat fields. */
export function fileInfo(e: Entry): Record<string, unknown> {
  const bit = (b: number) => (e.mode & b) !== 0;
  return {
    path: e.path,
    mode: (e.mode & 0o7777).toString(8).padStart(4, '0'),
    isdir: e.type === 'd',
    ischr: e.type === 'c',
    isblk: e.type === 'b',
    isreg: e.type === 'f',
    isfifo: e.type === 'p',
    islnk: e.type === 'l',
    issock: e.type === 's',
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    inode: e.inode,
    dev: e.dev,
    nlink: e.nlink,
    atime: e.atime,
    mtime: e.mtime,
    ctime: e.ctime,
    gr_name: e.group,
    pw_name: e.user,
    wusr: bit(0o200),
    rusr: bit(0o400),
    xusr: bit(0o100),
    wgrp: bit(0o020),
    rgrp: bit(0o040),
    xgrp: bit(0o010),
    woth: bit(0o002),
    roth: bit(0o004),
    xoth: bit(0o001),
    isuid: bit(0o4000),
    isgid: bit(0o2000),
  };
}

export const find: ModuleRunner<Find> = async (ctx, a) => {
  let picked: { selected: Entry[]; examined: number };
  const r = await ctx.remote.run(findScript(a));
  if (r.exitCode !== 0) return failed(`find: ${(r.stderr || r.stdout).trim()}`);
  if (r.stdoutDroppedBytes > 0)
    return failed(`find: more than ${r.stdout.length} bytes of listing; narrow paths, depth or recurse`);
  const listing = parseListing(r.stdout, r.stderr);
  try {
    picked = selectEntries(listing, a);
  } catch (err) {
    if (err instanceof PythonRegexError) return failed(`find: ${err.message}`);
    throw err;
  }
  let files = picked.selected;
  // Only file_type=file looks into files, as in ansible-core.
  if (a.contains !== undefined && a.file_type === 'file' && files.length) {
    const g = await ctx.remote.run(containsScript(a.contains, a.read_whole_file), {
      stdin: files.map((e) => `${e.path}\0`).join(''),
    });
    if (g.exitCode !== 0 || g.stderr.trim())
      return failed(`find: contains: ${(g.stderr || g.stdout).trim()}`);
    const having = new Set(g.stdout.split('\0'));
    files = files.filter((e) => having.has(e.path));
  }
  if (a.limit !== undefined) files = files.slice(0, a.limit);
  const skipped = Object.keys(listing.skipped).length > 0;
  return {
    changed: false,
    msg: skipped ? 'Not all paths examined, check warnings for details' : 'All paths examined',
    data: {
      files: files.map(fileInfo),
      matched: files.length,
      examined: picked.examined,
      skipped_paths: listing.skipped,
    },
  };
};
