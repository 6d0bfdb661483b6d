import path from 'node:path';
import type { z } from 'zod';
import type { AuthorizedKeyArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

// authorized_key, as ansible.posix's: a key is known by its blob (the base64 part); each line of
// the file is kept in its place, a key given is added after them, and a key whose type, options
// or comment differ is replaced (and so moves to the end), as ansible.posix rewrites the file.
// Keys come as text or from a file on the host (`file://`); a URL is refused by the schema.

type AuthorizedKey = z.output<typeof AuthorizedKeyArgs>;

/** The key types ansible.posix recognises: a line without one is not a key. */
const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-rsa',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** Options in their order, a name given twice kept twice; `no-pty` has no value. */
export type KeyOptions = [string, string | null][];

export interface KeyLine {
  type: string;
  blob: string;
  options: KeyOptions;
  comment: string;
  /** Where it goes: its line number, or after every line for a key added. */
  rank: number;
}

/** A comment, blank or unreadable line: written back as it was. */
export interface OtherLine {
  raw: string;
  rank: number;
}

/** Pure: `from="a,b",no-pty,command="x"` as its options; commas inside quotes do not split. */
export function parseOptions(text: string | undefined): KeyOptions {
  if (!text) return [];
  const options: KeyOptions = [];
  // A split on the runs between commas keeps the runs and the separators, as ansible.posix reads them.
  for (const part of text.split(/((?:[^,"']|"[^"]*"|'[^']*')+)/).slice(1, -1)) {
    const eq = part.indexOf('=');
    if (eq >= 0) options.push([part.slice(0, eq), part.slice(eq + 1)]);
    else if (part !== ',') options.push([part, null]);
  }
  return options;
}

/**
 * Pure: a line as a key (options, type, blob, comment), as a line to keep as it is (a comment),
 * or undefined when it names no key type. Words are split at blanks, as ansible.posix's shlex
 * without quotes does: a comment's runs of blanks become one.
 */
export function parseKeyLine(raw: string, rank: number): KeyLine | OtherLine | undefined {
  const words = raw
    .replace(/\\#/g, '#')
    .split(/[ \t\r\n]+/)
    .filter(Boolean);
  if (words[0] === '#') return { raw, rank };
  const at = words.findIndex((w) => KEY_TYPES.has(w));
  if (at < 0 || words[at + 1] === undefined) return undefined;
  return {
    type: words[at],
    blob: words[at + 1],
    options: parseOptions(at > 0 ? words.slice(0, at).join(' ') : undefined),
    comment: words.slice(at + 2).join(' '),
    rank,
  };
}

const isKey = (l: KeyLine | OtherLine | undefined): l is KeyLine => l !== undefined && 'blob' in l;

/** Options compare as ansible.posix's do: by name, each name's values in their order. */
function sameOptions(a: KeyOptions, b: KeyOptions): boolean {
  const byName = (o: KeyOptions) => {
    const m = new Map<string, (string | null)[]>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const [x, y] = [byName(a), byName(b)];
  return x.size === y.size && [...x].every(([k, v]) => JSON.stringify(y.get(k)) === JSON.stringify(v));
}

const sameKey = (a: KeyLine, b: KeyLine | OtherLine) =>
  isKey(b) && a.type === b.type && a.comment === b.comment && sameOptions(a.options, b.options);

/**
 * Pure: a line of the file as ansible.posix writes it: a key without a comment keeps the blank
 * after its blob (`type blob \n`), so files stay byte for byte alike. A last line without a
 * newline gets one (ansible.posix would run the next key on into it).
 */
export function keyLineText(l: KeyLine | OtherLine): string {
  if (!isKey(l)) return l.raw.endsWith('\n') ? l.raw : `${l.raw}\n`;
  const options = l.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',');
  return `${options ? `${options} ` : ''}${l.type} ${l.blob} ${l.comment}\n`;
}

export interface KeysWanted {
  /** The key text: one key per line; blank lines and lines starting with # are left out. */
  keys: string;
  state: 'present' | 'absent';
  keyOptions?: string;
  comment?: string;
  exclusive: boolean;
}

/** Pure: the file's new content, whether it is to be written, or the key that cannot be read. */
export function planAuthorizedKeys(
  existing: string,
  w: KeysWanted,
): { content: string; write: boolean } | { error: string } {
  // Keyed as ansible.posix keys them: a key by its blob, any other line by its text (so a key or
  // a line given twice is kept once, at its last place).
  const lines = new Map<string, KeyLine | OtherLine>();
  for (const [rank, raw] of existing.split(/(?<=\n)/).entries()) {
    if (raw === '') continue;
    const parsed = parseKeyLine(raw, rank);
    lines.set(isKey(parsed) ? parsed.blob : raw, isKey(parsed) ? parsed : { raw, rank });
  }
  // New keys rank after the entries (ansible.posix counts entries, not lines).
  const firstNew = lines.size;
  const wanted: string[] = [];
  let write = false;
  const given = w.keys.split(/\r\n|\n|\r/).filter((l) => l !== '' && !l.startsWith('#'));
  for (const [i, text] of given.entries()) {
    const parsed = parseKeyLine(text, i);
    if (!isKey(parsed)) return { error: `invalid key specified: ${text}` };
    const key: KeyLine = {
      ...parsed,
      options: w.keyOptions !== undefined ? parseOptions(w.keyOptions) : parsed.options,
      comment: w.comment ?? parsed.comment,
      rank: firstNew + i,
    };
    if (w.state === 'absent') {
      if (lines.delete(key.blob)) write = true;
      continue;
    }
    wanted.push(key.blob);
    const old = lines.get(key.blob);
    if (old && sameKey(key, old)) continue;
    lines.delete(key.blob);
    lines.set(key.blob, key);
    write = true;
  }
  if (w.state === 'present' && w.exclusive)
    for (const id of [...lines.keys()]) if (!wanted.includes(id)) write = lines.delete(id);
  const content = [...lines.values()]
    .sort((a, b) => a.rank - b.rank)
    .map(keyLineText)
    .join('');
  return { content, write };
}

interface KeyFileState {
  /** The user's passwd entry: uid, gid, home. */
  user?: { uid: string; gid: string; home: string };
  keyfile: string;
  content: string;
  notAFile: boolean;
  /** A `file://` key: its text, or why it cannot be read. */
  keySource?: string | { error: string };
}

/** Pure: the path a `file://` key names, as urlparse's path. */
const keySourcePath = (key: string) => key.replace(/^file:(\/\/[^/]*)?/, '');

/** One round trip: the user, the key file (followed with `follow`), its content, a file:// key's text. */
function readScript(a: AuthorizedKey): string {
  const lines = [
    `ent=$(getent passwd -- ${shellQuote(a.user)}) && printf 'passwd %s\\n' "$ent"`,
    `p=${shellQuote(a.path ?? '')}`,
    `if [ -z "$p" ] && [ -n "$ent" ]; then p="$(printf %s "$ent" | cut -d: -f6)/.ssh/authorized_keys"; fi`,
    a.follow ? 'if [ -n "$p" ]; then p=$(readlink -m -- "$p"); fi' : '',
    `printf 'keyfile %s\\n' "$p"`,
    'if [ -n "$p" ] && [ -f "$p" ]; then echo content; base64 -w0 < "$p"; echo; elif [ -n "$p" ] && [ -e "$p" ]; then echo notafile; fi',
  ];
  if (a.key.startsWith('file')) {
    const k = shellQuote(keySourcePath(a.key));
    lines.push(
      `if [ -f ${k} ]; then echo keysource; base64 -w0 < ${k}; echo; elif [ -e ${k} ]; then echo keysourcedir; else echo keysourcemissing; fi`,
    );
  }
  return lines.filter(Boolean).join('\n');
}

/** Pure: the read script's report. */
export function parseKeyFileState(stdout: string, key: string): KeyFileState {
  const out = stdout.split('\n');
  const state: KeyFileState = { keyfile: '', content: '', notAFile: false };
  const next = (i: number) => Buffer.from(out[i + 1] ?? '', 'base64').toString('utf8');
  const source = keySourcePath(key);
  for (const [i, line] of out.entries()) {
    if (line.startsWith('passwd ')) {
      const f = line.slice(7).split(':');
      state.user = { uid: f[2], gid: f[3], home: f[5] };
    } else if (line.startsWith('keyfile ')) state.keyfile = line.slice(8);
    else if (line === 'content') state.content = next(i);
    else if (line === 'notafile') state.notAFile = true;
    else if (line === 'keysource') state.keySource = next(i);
    else if (line === 'keysourcedir')
      state.keySource = { error: `Path to a key is a directory and must be a file: ${source}` };
    else if (line === 'keysourcemissing')
      state.keySource = { error: `Path to a key file not found: ${source}` };
  }
  return state;
}

export const authorizedKey: ModuleRunner<AuthorizedKey> = async (ctx, a) => {
  const s = parseKeyFileState(
    (await ctx.remote.must(readScript(a), 'reading authorized_keys')).stdout,
    a.key,
  );
  if (typeof s.keySource === 'object') return failed(s.keySource.error);
  if (!s.user && !(ctx.check && a.path))
    return failed(
      ctx.check
        ? 'Either user must exist or you must provide full path to key file in check mode'
        : `Failed to lookup user ${a.user}: getpwnam(): name not found: '${a.user}'`,
    );
  if (s.notAFile) return failed(`${s.keyfile} is not a regular file`);
  const data = {
    user: a.user,
    key: a.key,
    path: a.path ?? null,
    manage_dir: a.manage_dir,
    state: a.state,
    key_options: a.key_options ?? null,
    exclusive: a.exclusive,
    comment: a.comment ?? null,
    validate_certs: a.validate_certs,
    follow: a.follow,
    keyfile: s.keyfile,
  };
  const plan = planAuthorizedKeys(s.content, {
    keys: s.keySource ?? a.key,
    state: a.state,
    keyOptions: a.key_options ?? undefined,
    comment: a.comment ?? undefined,
    exclusive: a.exclusive,
  });
  if ('error' in plan) return failed(plan.error, { data });
  if (!plan.write) return { ...ok(`${s.keyfile} holds the keys as asked`), data };

  if (!ctx.check && s.user) {
    const { uid, gid } = s.user;
    const sshDir = a.path ? path.dirname(a.path) : `${s.user.home}/.ssh`;
    const d = shellQuote(sshDir);
    await ctx.remote.must(
      [
        'set -e',
        // ~/.ssh as sshd's StrictModes wants it: the user's, 0700.
        a.manage_dir
          ? `[ -e ${d} ] || mkdir -m 0700 -- ${d}; chown ${a.follow ? '' : '-h '}${uid}:${gid} -- ${d}; chmod 0700 -- ${d}`
          : '',
        `mkdir -p -- "$(dirname -- ${shellQuote(s.keyfile)})"`,
      ]
        .filter(Boolean)
        .join('\n'),
      `preparing ${sshDir}`,
    );
    await ctx.remote.writeFile(s.keyfile, plan.content, { owner: uid, group: gid, mode: '600' });
  }
  return {
    ...changed(ctx, `update ${s.keyfile}`, { path: s.keyfile, before: s.content, after: plan.content }),
    data,
  };
};
