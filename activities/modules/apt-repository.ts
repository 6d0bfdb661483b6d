import path from 'node:path';
import type { z } from 'zod';
import { applyMode } from '../../common/file-mode';
import type { AptRepositoryArgs, ModuleResult } from '../../common/modules';
import { heartbeatSleep } from '../wait';
import { shellQuote } from '../ssh/quote';
import { updateFailure } from './apt';
import { changed, failed, ok, type ModuleRunner } from './context';

// apt_repository, as ansible-core's: the one-line sources of sources.list and sources.list.d/*.list
// (where apt's configuration puts them), read line by line. A source given is enabled where it is
// already (commented out too), else added to its own file; state=absent removes it from every file
// that holds it, and a file left with no line goes. After a change the package lists are updated,
// with retries; when that fails the files are put back, as ansible-core does. Only files that
// change are written (ansible-core rewrites every file it read, normalised the same way).

type AptRepository = z.output<typeof AptRepositoryArgs>;

const SOURCE_TYPES = ['deb', 'deb-src'];

/** One line of a sources file, as ansible-core reads it. */
export interface SourceLine {
  /** A `deb` or `deb-src` line (its blanks made single). */
  valid: boolean;
  /** Not commented out. */
  enabled: boolean;
  source: string;
  /** What followed a `#` after the source. */
  comment: string;
}

/** Pure: a line of a sources file. */
export function parseSourceLine(text: string): SourceLine {
  let line = text.trim();
  let enabled = true;
  let comment = '';
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  const hash = line.indexOf('#');
  if (hash > 0) {
    comment = line.slice(hash + 1).trim();
    line = line.slice(0, hash);
  }
  let source = line.trim();
  const words = source.split(/\s+/);
  const valid = source !== '' && SOURCE_TYPES.includes(words[0]);
  if (valid) source = words.join(' ');
  return { valid, enabled, source, comment };
}

/** Pure: a line as ansible-core writes it back. */
export function sourceLineText(l: SourceLine): string {
  return `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`;
}

/** Pure: a file's lines (one per line of text; a last line without a newline counts). */
export const parseSources = (content: string): SourceLine[] =>
  content === '' ? [] : content.replace(/\n$/, '').split('\n').map(parseSourceLine);

/**
 * Pure: the file a new source goes in, as ansible-core names it: `filename` plus `.list`, else
 * the source's URL without options, scheme and credentials, each run of other characters than
 * letters and digits an underscore (`deb http://10.77.0.9/debian x main` -> 10_77_0_9_debian.list).
 * A name without a `/` is in the sources.list.d directory.
 */
export function sourceFilename(source: string, filename: string | undefined, partsDir: string): string {
  let name = filename;
  if (name === undefined) {
    const words = source
      .replace(/\[[^\]]+\]/g, '')
      .replace(/\w+:\/\//g, '')
      .split(/\s+/)
      .filter((w) => w && !SOURCE_TYPES.includes(w));
    const host = (words[0] ?? '').split('@').pop()!;
    name = host
      .replace(/[^a-zA-Z0-9]/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
      .join('_');
  }
  name = `${name}.list`;
  return name.includes('/') ? name : path.posix.join(partsDir, name);
}

/** A sources file as read: its path, where a symlink points, its lines and mode. */
export interface SourcesFile {
  path: string;
  /** Written here instead when the file is a symlink. */
  target?: string;
  mode?: string;
  content: string;
  lines: SourceLine[];
}

export interface SourcesPlan {
  /** path -> new lines; an empty list: the file goes. */
  changed: Map<string, SourceLine[]>;
  /** The file a source was added to (its mode is set). */
  addedTo?: string;
}

/** Pure: which files change, and how, to add or remove `repo` (undefined: not a source line). */
export function planSources(
  files: SourcesFile[],
  repo: string,
  state: 'present' | 'absent',
  newFile: (source: string) => string,
): SourcesPlan | undefined {
  const wanted = parseSourceLine(repo);
  if (!wanted.valid || !wanted.enabled) return undefined;
  const plan: SourcesPlan = { changed: new Map() };
  const dump = (lines: SourceLine[]) => lines.map(sourceLineText).join('');
  for (const f of files) {
    const next =
      state === 'present'
        ? f.lines.map((l) => (l.valid && l.source === wanted.source ? { ...l, enabled: true } : l))
        : f.lines.filter((l) => !(l.valid && l.enabled && l.source === wanted.source));
    if (dump(next) !== dump(f.lines)) plan.changed.set(f.path, next);
  }
  const known = files.some((f) => f.lines.some((l) => l.valid && l.source === wanted.source));
  if (state === 'present' && !known) {
    const target = newFile(wanted.source);
    const existing = files.find((f) => f.path === target)?.lines ?? [];
    plan.changed.set(target, [...existing, { ...wanted, comment: '' }]);
    plan.addedTo = target;
  }
  return plan;
}

/** Pure: the pause before retry `n` (from 0) of the update: 2^n s, at most maxDelay, and some jitter. */
export function retryDelaySeconds(n: number, maxDelay: number, jitter: number): number {
  return Math.min(2 ** n, maxDelay) + jitter;
}

const readScript = [
  'command -v apt-config >/dev/null 2>&1 || { echo noapt; exit 0; }',
  'eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d)"',
  `printf 'parts %s\\n' "$SP"`,
  'for f in "$SL" "$SP"*.list; do',
  '  [ -f "$f" ] || continue',
  '  t=; if [ -L "$f" ]; then t=$(readlink -f -- "$f"); fi',
  `  printf 'file %s|%s|%s\\n' "$(stat -L -c %a -- "$f")" "$t" "$f"; base64 -w0 < "$f"; echo`,
  'done',
].join('\n');

/** Pure: the read script's report. */
export function parseSourcesRead(stdout: string): { noApt: boolean; partsDir: string; files: SourcesFile[] } {
  const out = stdout.split('\n');
  const files: SourcesFile[] = [];
  let partsDir = '/etc/apt/sources.list.d';
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 'noapt') return { noApt: true, partsDir, files };
    if (out[i].startsWith('parts ')) partsDir = out[i].slice(6).replace(/\/$/, '');
    const m = /^file (\d+)\|([^|]*)\|(.*)$/.exec(out[i]);
    if (!m) continue;
    const content = Buffer.from(out[++i] ?? '', 'base64').toString('utf8');
    files.push({ path: m[3], mode: m[1], target: m[2] || undefined, content, lines: parseSources(content) });
  }
  return { noApt: false, partsDir, files };
}

export const aptRepository: ModuleRunner<AptRepository> = async (ctx, a) => {
  const read = parseSourcesRead((await ctx.remote.must(readScript, 'reading the apt sources')).stdout);
  if (read.noApt)
    return failed('Module apt_repository is not supported on target: no apt-config on this host');
  const plan = planSources(read.files, a.repo, a.state, (source) =>
    sourceFilename(source, a.filename ?? undefined, read.partsDir),
  );
  if (!plan) return failed(`Invalid repository string: ${a.repo.trim()}`);
  const source = parseSourceLine(a.repo).source;
  const before = new Map(read.files.map((f) => [f.path, f]));
  const added = [...plan.changed.keys()].filter((p) => !before.has(p));
  const removed = [...plan.changed].filter(([, lines]) => lines.length === 0).map(([p]) => p);
  const data = { repo: a.repo, state: a.state, sources_added: added, sources_removed: removed };
  if (plan.changed.size === 0) return { ...ok(`${source}: ${a.state}`), data };

  const text = (lines: SourceLine[]) => lines.map(sourceLineText).join('');
  const diff = {
    path: [...plan.changed.keys()].join(', '),
    before: [...plan.changed.keys()].map((p) => before.get(p)?.content ?? '').join(''),
    after: [...plan.changed.values()].map(text).join(''),
  };
  const verb = a.state === 'present' ? `add ${source} to` : `remove ${source} from`;
  const result: ModuleResult = {
    ...changed(ctx, `${verb} ${[...plan.changed.keys()].join(', ')}`, diff),
    data,
  };
  if (ctx.check) return result;

  // A symlinked file is written where it points, as ansible-core does; `mode` is for the file added to.
  const write = async (p: string, content: string | undefined, mode?: string) => {
    if (content === undefined)
      return void (await ctx.remote.must(`rm -f -- ${shellQuote(p)}`, `removing ${p}`));
    const at = before.get(p)?.target ?? p;
    if (!before.has(p))
      await ctx.remote.must(`mkdir -p -- ${shellQuote(path.posix.dirname(at))}`, `creating ${at}`);
    await ctx.remote.writeFile(at, content, { mode });
  };
  const mode =
    plan.addedTo && a.mode !== undefined
      ? applyMode(parseInt(before.get(plan.addedTo)?.mode ?? '644', 8), a.mode, false).toString(8)
      : undefined;
  for (const [p, lines] of plan.changed)
    await write(p, lines.length ? text(lines) : undefined, p === plan.addedTo ? mode : undefined);
  if (!a.update_cache) return result;

  let error = '';
  // At least one update: ansible-core with 0 retries fails without trying.
  const attempts = Math.max(1, a.update_cache_retries);
  for (let n = 0; n < attempts; n++) {
    const r = await ctx.remote.run('apt-get update -q', { timeoutMs: 600_000 });
    const failure = updateFailure(r.exitCode, `${r.stdout}\n${r.stderr}`);
    if (!failure) return result;
    error = failure.replace(/^Failed to update apt cache: /, '');
    if (n + 1 < attempts)
      await heartbeatSleep(
        retryDelaySeconds(n, a.update_cache_retry_max_delay, Math.random()) * 1000,
        ctx.hooks,
        'retrying apt-get update',
      );
  }
  // As ansible-core: the sources go back to what they were, so a bad line does not break apt.
  for (const p of plan.changed.keys()) await write(p, before.get(p)?.content);
  return failed(`Failed to update apt cache after ${attempts} retries: ${error}`, { data });
};
