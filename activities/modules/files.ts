import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type {
  BlockInFileArgs,
  CopyArgs,
  FileArgs,
  IniArgs,
  LineInFileArgs,
  ModuleResult,
  PropertiesArgs,
  TemplateArgs,
} from '../../common/modules';
import { applyMode, formatMode, type FileMode } from '../../common/file-mode';
import { attributeChanges, type FileAttributes, type RemoteFile } from '../remote';
import { setTimes, wantedTimes } from './file-times';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';
import { renderTemplate } from '../../common/templates';
import { blockInFile, editIni, editProperties, lineInFile } from './text-edits';

interface Edit {
  owner?: string;
  group?: string;
  mode?: FileMode;
  backup?: boolean;
  /** Create the file when missing (otherwise a missing file is a failure). */
  create: boolean;
  /** The failure for a missing file when `create` is false, if the module words it its own way. */
  missing?: string;
  /** `force: false`: an existing file keeps its content (copy, template). */
  force?: boolean;
  /** Checks the new file before it replaces the old one (`%s` is the new file). */
  validate?: string;
  /**
   * A link at the path, as ansible-core treats it: copy and template replace the link by the file
   * unless told to follow it; the line and block editors edit the file the link points to.
   */
  follow?: boolean;
}

interface WantedAttributes {
  owner?: string;
  group?: string;
  mode?: FileMode;
}

/** What the host creates a path with before its mode is set: writeFile's 644, umask for the rest. */
const CREATED_MODE = { written: 0o644, touched: 0o666, directory: 0o777 } as const;

/**
 * The attributes to set on a path, its mode resolved against the mode the path has (a symbolic
 * mode is relative), in the form the host's stat reports (`644`, `2775`).
 */
export function resolveAttributes(wanted: WantedAttributes, current: RemoteFile): FileAttributes {
  const mode =
    wanted.mode === undefined
      ? undefined
      : applyMode(parseInt(current.mode ?? '0', 8), wanted.mode, current.kind === 'directory', current.umask);
  return {
    owner: wanted.owner,
    group: wanted.group,
    mode: mode === undefined ? undefined : mode.toString(8).padStart(3, '0'),
  };
}

/** How a path will look right after the host creates it, for check mode to predict the same mode. */
export function createdPath(how: keyof typeof CREATED_MODE, umask = 0o022): RemoteFile {
  const mode = how === 'written' ? CREATED_MODE.written : CREATED_MODE[how] & ~umask;
  return { exists: true, kind: how === 'directory' ? 'directory' : 'file', mode: mode.toString(8), umask };
}

/** A path's kind and the attributes a task sets, one per line, as --diff shows them (modes as Ansible writes them). */
export function describePath(f: RemoteFile, attrs: FileAttributes = {}): string {
  const lines = [f.exists ? `${f.kind}${f.linkTarget ? ` -> ${f.linkTarget}` : ''}` : 'absent'];
  if (f.exists && attrs.owner) lines.push(`owner: ${f.owner ?? '-'}`);
  if (f.exists && attrs.group) lines.push(`group: ${f.group ?? '-'}`);
  if (f.exists && attrs.mode) lines.push(`mode: ${f.mode ? formatMode(parseInt(f.mode, 8)) : '-'}`);
  return lines.join('\n');
}

/** The same path with the wanted attributes applied. */
const withAttributes = (f: RemoteFile, attrs: FileAttributes): RemoteFile => ({
  ...f,
  owner: attrs.owner ?? f.owner,
  group: attrs.group ?? f.group,
  mode: attrs.mode ?? f.mode,
});

/**
 * The one path for every module that manages a file's content: read it, compute the new text
 * with a pure function, then write it atomically only if it differs, and fix attributes.
 */
export async function editFile(
  ctx: ModuleContext,
  path: string,
  edit: Edit,
  transform: (before: string) => string,
): Promise<ModuleResult> {
  let current = await ctx.remote.stat(path, true);
  if (current.kind === 'link' && edit.follow !== false) {
    const real = (
      await ctx.remote.must(`readlink -f -- ${shellQuote(path)}`, `resolving ${path}`)
    ).stdout.trim();
    return editFile(ctx, real, { ...edit, follow: false }, transform);
  }
  // The link itself is replaced: as ansible-core, whatever it points to counts as no content here.
  if (current.kind === 'link') current = { exists: false, umask: current.umask };
  if (current.exists && current.kind !== 'file') return failed(`${path} exists and is not a regular file`);
  if (!current.exists && !edit.create)
    return failed(edit.missing ?? `${path} does not exist (set create: true to create it)`);
  const before = current.content?.toString('utf8') ?? '';
  const after = current.exists && edit.force === false ? before : transform(before);
  const contentChanged = !current.exists || before !== after;
  const attrs = resolveAttributes(edit, current.exists ? current : createdPath('written', current.umask));
  if (contentChanged) {
    const diff = { path, before: current.exists ? before : '', after };
    // Attributes changed together with the content are named in the message, the same in check mode.
    const also = current.exists ? attributeChanges(current, attrs) : [];
    const suffix = also.length ? `; ${also.join(', ')}` : '';
    if (ctx.check) return changed(ctx, `update ${path}${suffix}`, diff);
    const backup = await ctx.remote.writeFile(path, after, {
      ...attrs,
      backup: edit.backup,
      validate: edit.validate,
    });
    const result = changed(ctx, `updated ${path}${suffix}${backup ? ` (backup ${backup})` : ''}`, diff);
    return backup ? { ...result, data: { backup_file: backup } } : result;
  }
  const fixed = await ctx.remote.fixAttributes(path, current, attrs, ctx.check);
  if (!fixed.length) return ok(`${path} is as wanted`);
  const diff = {
    path,
    before: describePath(current, attrs),
    after: describePath(withAttributes(current, attrs), attrs),
  };
  return changed(ctx, `set ${fixed.join(', ')} on ${path}`, diff);
}

export const copy: ModuleRunner<z.infer<typeof CopyArgs>> = async (ctx, a) => {
  const content = a.content ?? (await readFile(a.src!, 'utf8'));
  return editFile(ctx, a.dest, { ...a, create: true, follow: a.follow }, () => content);
};

export const template: ModuleRunner<z.infer<typeof TemplateArgs>> = async (ctx, a) => {
  const text = a.content ?? (await readFile(a.src!, 'utf8'));
  const rendered = renderTemplate(text, ctx.vars);
  return editFile(ctx, a.dest, { ...a, create: true, follow: a.follow }, () => rendered);
};

export const lineinfile: ModuleRunner<z.infer<typeof LineInFileArgs>> = (ctx, a) =>
  editFile(ctx, a.path, a, (text) => lineInFile(text, a));

export const blockinfile: ModuleRunner<z.infer<typeof BlockInFileArgs>> = (ctx, a) =>
  editFile(ctx, a.path, a, (text) => blockInFile(text, a));

export const properties: ModuleRunner<z.infer<typeof PropertiesArgs>> = (ctx, a) =>
  editFile(ctx, a.path, a, (text) => editProperties(text, a));

export const ini: ModuleRunner<z.infer<typeof IniArgs>> = (ctx, a) =>
  editFile(ctx, a.path, a, (text) =>
    editIni(text, a.settings as Record<string, Record<string, string | null>>),
  );

/** file: directory / file / touch / link / absent, plus owner, group, mode and times. */
export const file: ModuleRunner<z.infer<typeof FileArgs>> = async (ctx, a) => {
  const p = shellQuote(a.path);
  const current = await ctx.remote.stat(a.path);
  const times = wantedTimes(a);
  let command: string | undefined;
  /** How the host creates the path, when the command creates it (its mode is then predicted). */
  let creates: 'touched' | 'directory' | undefined;
  if (a.state === 'absent') {
    if (!current.exists) return ok(`${a.path} is absent`);
    command = `rm -rf -- ${p}`;
  } else if (a.state === 'directory') {
    if (current.exists && current.kind !== 'directory')
      return failed(`${a.path} exists as a ${current.kind}, not a directory`);
    if (!current.exists) [command, creates] = [`mkdir -p -- ${p}`, 'directory'];
  } else if (a.state === 'link') {
    // force: a file in the way is replaced by the link, as Ansible's force does (never a directory).
    if (current.exists && current.kind !== 'link' && !(a.force && current.kind === 'file'))
      return failed(
        `${a.path} exists as a ${current.kind}, not a link${a.force ? '' : ' (force: true replaces a file)'}`,
      );
    if (current.linkTarget !== a.src)
      command = `${current.kind === 'file' ? `rm -f -- ${p} && ` : ''}ln -sfn -- ${shellQuote(a.src!)} ${p}`;
  } else if (a.state === 'touch') {
    // An existing file's times are the times options' business (now, unless preserved).
    if (!current.exists) [command, creates] = [`touch -- ${p}`, 'touched'];
  } else if (!current.exists) {
    return failed(`${a.path} does not exist (state=file does not create files; use touch or copy)`);
  } else if (current.kind !== 'file') {
    return failed(`${a.path} is a ${current.kind}, not a file`);
  }
  const setsAttributes = a.state !== 'absent' && a.state !== 'link';
  if (command) {
    // Check mode predicts the created path's mode; a real run reads it back after creating.
    let made = creates ? createdPath(creates, current.umask) : current;
    if (!ctx.check) {
      await ctx.remote.must(command, `${a.state} ${a.path}`);
      if (setsAttributes) made = await ctx.remote.stat(a.path);
    }
    const attrs = setsAttributes ? resolveAttributes(a, made) : {};
    if (!ctx.check && setsAttributes) {
      await ctx.remote.fixAttributes(a.path, made, attrs, false);
      await setTimes(
        ctx.remote,
        a.path,
        times.filter((t) => t.value !== 'now'),
        false,
      );
    }
    const after =
      a.state === 'absent'
        ? 'absent'
        : a.state === 'link'
          ? `link -> ${a.src}`
          : describePath(withAttributes(made, attrs), attrs);
    return changed(ctx, `${a.state} ${a.path}`, { path: a.path, before: describePath(current), after });
  }
  if (a.state === 'link') return ok(`${a.path} links to ${a.src}`);
  const attrs = resolveAttributes(a, current);
  const fixed = [
    ...(await ctx.remote.fixAttributes(a.path, current, attrs, ctx.check)),
    ...(setsAttributes ? await setTimes(ctx.remote, a.path, times, ctx.check) : []),
  ];
  if (!fixed.length) return ok(`${a.path} is as wanted`);
  const diff = {
    path: a.path,
    before: describePath(current, attrs),
    after: describePath(withAttributes(current, attrs), attrs),
  };
  return changed(ctx, `set ${fixed.join(', ')} on ${a.path}`, diff);
};
