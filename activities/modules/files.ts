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
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';
import { renderTemplate } from './render';
import { blockInFile, editIni, editProperties, lineInFile } from './text-edits';

interface Edit {
  owner?: string;
  group?: string;
  mode?: string;
  backup?: boolean;
  /** Create the file when missing (otherwise a missing file is a failure). */
  create: boolean;
}

/**
 * The one path for every module that manages a file's content: read it, compute the new text
 * with a pure function, then write it atomically only if it differs, and fix attributes.
 */
async function editFile(
  ctx: ModuleContext,
  path: string,
  edit: Edit,
  transform: (before: string) => string,
): Promise<ModuleResult> {
  const current = await ctx.remote.stat(path, true);
  if (current.exists && current.kind !== 'file') return failed(`${path} exists and is not a regular file`);
  if (!current.exists && !edit.create)
    return failed(`${path} does not exist (set create: true to create it)`);
  const before = current.content?.toString('utf8') ?? '';
  const after = transform(before);
  const contentChanged = !current.exists || before !== after;
  const attrs = { owner: edit.owner, group: edit.group, mode: edit.mode };
  if (contentChanged) {
    const diff = { path, before: current.exists ? before : '', after };
    if (ctx.check) return changed(ctx, `update ${path}`, diff);
    const backup = await ctx.remote.writeFile(path, after, { ...attrs, backup: edit.backup });
    return changed(ctx, `updated ${path}${backup ? ` (backup ${backup})` : ''}`, diff);
  }
  const fixed = await ctx.remote.fixAttributes(path, current, attrs, ctx.check);
  return fixed.length ? changed(ctx, `set ${fixed.join(', ')} on ${path}`) : ok(`${path} is as wanted`);
}

export const copy: ModuleRunner<z.infer<typeof CopyArgs>> = async (ctx, a) => {
  const content = a.content ?? (await readFile(a.src!, 'utf8'));
  return editFile(ctx, a.dest, { ...a, create: true }, () => content);
};

export const template: ModuleRunner<z.infer<typeof TemplateArgs>> = async (ctx, a) => {
  const text = a.content ?? (await readFile(a.src!, 'utf8'));
  const rendered = renderTemplate(text, ctx.vars);
  return editFile(ctx, a.dest, { ...a, create: true }, () => rendered);
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

/** file: directory / file / touch / link / absent, plus owner, group and mode. */
export const file: ModuleRunner<z.infer<typeof FileArgs>> = async (ctx, a) => {
  const p = shellQuote(a.path);
  const current = await ctx.remote.stat(a.path);
  const describe = (f: typeof current) =>
    f.exists ? `${f.kind}${f.linkTarget ? ` -> ${f.linkTarget}` : ''}` : 'absent';
  let command: string | undefined;
  if (a.state === 'absent') {
    if (!current.exists) return ok(`${a.path} is absent`);
    command = `rm -rf -- ${p}`;
  } else if (a.state === 'directory') {
    if (current.exists && current.kind !== 'directory')
      return failed(`${a.path} exists as a ${current.kind}, not a directory`);
    if (!current.exists) command = `mkdir -p -- ${p}`;
  } else if (a.state === 'link') {
    if (current.exists && current.kind !== 'link')
      return failed(`${a.path} exists as a ${current.kind}, not a link`);
    if (current.linkTarget !== a.src) command = `ln -sfn -- ${shellQuote(a.src!)} ${p}`;
  } else if (a.state === 'touch') {
    command = `touch -- ${p}`;
  } else if (!current.exists) {
    return failed(`${a.path} does not exist (state=file does not create files; use touch or copy)`);
  } else if (current.kind !== 'file') {
    return failed(`${a.path} is a ${current.kind}, not a file`);
  }
  const diff = { path: a.path, before: describe(current), after: a.state === 'absent' ? 'absent' : a.state };
  if (command) {
    if (ctx.check) return changed(ctx, `${a.state} ${a.path}`, diff);
    await ctx.remote.must(command, `${a.state} ${a.path}`);
    if (a.state !== 'absent' && a.state !== 'link') {
      await ctx.remote.fixAttributes(a.path, await ctx.remote.stat(a.path), a, false);
    }
    return changed(ctx, `${a.state} ${a.path}`, diff);
  }
  if (a.state === 'link') return ok(`${a.path} links to ${a.src}`);
  const fixed = await ctx.remote.fixAttributes(a.path, current, a, ctx.check);
  return fixed.length ? changed(ctx, `set ${fixed.join(', ')} on ${a.path}`) : ok(`${a.path} is as wanted`);
};
