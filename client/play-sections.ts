import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import type { BlockPlace } from '../common/blocks';
import type { Vars } from '../common/templates';
import { checkTask, type RawTask, type SourceDirs } from './play-tasks';
import { listOf, resolveRoles, roleEntry, RoleError } from './roles';
import { moduleKey, NOT_YET } from './playbook-keywords';

// A play's tasks in Ansible's order — pre_tasks, the roles (dependencies first), tasks,
// post_tasks — with the handlers of its roles and its own, and where handlers are flushed: after
// each section and at `meta: flush_handlers`. `import_tasks` / `include_tasks` of a static file
// are read in place. Every task is checked as it is read.

/** What a role gives each of its tasks: its variables, and the role line's `when` and `tags`. */
export interface TaskScope {
  role: string;
  /** defaults/main.yml: below every other variable. */
  defaults: Vars;
  /** vars/main.yml, then the role line's params. */
  vars: Vars;
  when: (string | boolean)[];
  tags: string[];
}

export interface ScopedTask {
  raw: RawTask;
  scope?: TaskScope;
  /** The blocks it sits in, outermost first. */
  blocks?: BlockPlace[];
}

export interface PlaySections {
  tasks: ScopedTask[];
  handlers: ScopedTask[];
  /** Indexes into `tasks` after which the notified handlers run. */
  flushAfter: number[];
  /** Every handler was readable: notifications can be resolved (else they would all seem dangling). */
  handlersComplete: boolean;
}

const INCLUDES = ['import_tasks', 'include_tasks'];
const INCLUDE_KEYS = ['name', 'when', 'tags', 'vars'];
const BLOCK_KEYS = ['name', 'block', 'rescue', 'always', 'when', 'tags', 'vars'];

interface Place {
  where: string;
  blocks?: BlockPlace[];
  /** Where an included task file is looked for. */
  tasksDir: string;
  sources: string | SourceDirs;
  scope?: TaskScope;
}

function includeOf(raw: unknown): { key: string; file: unknown; rest: Record<string, unknown> } | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const key = Object.keys(r).find((k) => INCLUDES.includes(moduleKey(k)));
  if (!key) return undefined;
  const rest = Object.fromEntries(Object.entries(r).filter(([k]) => k !== key));
  return { key, file: r[key], rest };
}

const isFlush = (raw: unknown) =>
  !!raw &&
  typeof raw === 'object' &&
  Object.entries(raw as Record<string, unknown>).some(
    ([k, v]) => moduleKey(k) === 'meta' && v === 'flush_handlers',
  );

/** Reads a list of tasks at one place: includes expanded, flush points noted, each task checked. */
function readTasks(
  list: unknown[],
  at: Place,
  handler: boolean,
  problems: string[],
  out: { tasks: ScopedTask[]; flushAfter: number[]; blocks?: number },
  depth = 0,
): void {
  list.forEach((raw, i) => {
    const where = `${at.where} ${handler ? 'handler' : 'task'} ${i + 1}`;
    if (
      !handler &&
      isFlush(raw) &&
      Object.keys(raw as object).every((k) => k === 'name' || moduleKey(k) === 'meta')
    ) {
      if (out.tasks.length) out.flushAfter.push(out.tasks.length - 1);
      return;
    }
    if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'block' in raw) {
      if (handler) return void problems.push(`${where}: block: in a handler: ${NOT_YET}`);
      const b = raw as Record<string, unknown>;
      const extra = Object.keys(b).filter((k) => !BLOCK_KEYS.includes(k));
      if (extra.length) return void problems.push(`${where}: ${extra.join(', ')} on a block: ${NOT_YET}`);
      const id = `b${(out.blocks = (out.blocks ?? 0) + 1)}`;
      const inherited = Object.fromEntries(
        Object.entries(b).filter(([k]) => INCLUDE_KEYS.includes(k) && k !== 'name'),
      );
      for (const part of ['block', 'rescue', 'always'] as const) {
        const list = b[part] ?? [];
        if (!Array.isArray(list)) {
          problems.push(`${where}: ${part}: a list of tasks`);
          continue;
        }
        const tasks = list.map((t) => mergeIncludeKeys(t, inherited));
        const blocks = [...(at.blocks ?? []), { id, part }];
        readTasks(tasks, { ...at, where: `${where} ${part}`, blocks }, false, problems, out, depth + 1);
      }
      return;
    }
    const vars = includeVarsOf(raw);
    if (vars && !handler) {
      // Read when the playbook loads (a static file), and set for the host as set_fact would.
      const { key, file, rest, options } = vars;
      if (options.length) return void problems.push(`${where}: ${key}: ${options.join(', ')}: ${NOT_YET}`);
      if (typeof file !== 'string' || file.includes('{{'))
        return void problems.push(`${where}: ${key}: a templated or non-text file name: ${NOT_YET}`);
      const dirs = at.scope ? [path.join(path.dirname(at.tasksDir), 'vars'), at.tasksDir] : [at.tasksDir];
      const found = dirs.map((d) => path.resolve(d, file)).find((f) => existsSync(f));
      if (!found) return void problems.push(`${where}: ${key}: ${file} not found in ${dirs.join(', ')}`);
      let content: unknown;
      try {
        const text = readFileSync(found, 'utf8');
        if (text.startsWith('$ANSIBLE_VAULT'))
          return void problems.push(`${where}: ${key}: ${found}: an ansible-vault file: ${NOT_YET}`);
        content = parse(text) ?? {};
      } catch (err) {
        return void problems.push(`${where}: ${key}: ${found}: ${(err as Error).message.split('\n')[0]}`);
      }
      if (!content || typeof content !== 'object' || Array.isArray(content))
        return void problems.push(`${where}: ${key}: ${found}: a mapping of variables`);
      const task = checkTask(
        { name: `include_vars ${file}`, ...rest, set_fact: content },
        where,
        at.sources,
        false,
        problems,
      );
      if (task) out.tasks.push({ raw: task, scope: at.scope, ...(at.blocks ? { blocks: at.blocks } : {}) });
      return;
    }
    const inc = includeOf(raw);
    if (inc && !handler) {
      const extra = Object.keys(inc.rest).filter((k) => !INCLUDE_KEYS.includes(k));
      if (extra.length) return void problems.push(`${where}: ${extra.join(', ')} on ${inc.key}: ${NOT_YET}`);
      if (typeof inc.file !== 'string' || inc.file.includes('{{'))
        return void problems.push(`${where}: ${inc.key}: a templated or non-text file name: ${NOT_YET}`);
      if (depth > 20) return void problems.push(`${where}: ${inc.key}: includes nest deeper than 20`);
      const file = path.resolve(at.tasksDir, inc.file);
      let tasks: unknown[];
      try {
        tasks = listOf(file);
      } catch (err) {
        return void problems.push(`${where}: ${inc.key}: ${(err as Error).message}`);
      }
      // The include's own when, tags and vars apply to every task it brings, as import_tasks does.
      const withKeys = tasks.map((t) => mergeIncludeKeys(t, inc.rest));
      readTasks(
        withKeys,
        { ...at, where: `${where} (${inc.file})`, tasksDir: path.dirname(file) },
        false,
        problems,
        out,
        depth + 1,
      );
      return;
    }
    const task = checkTask(raw, where, at.sources, handler, problems);
    if (task) out.tasks.push({ raw: task, scope: at.scope, ...(at.blocks ? { blocks: at.blocks } : {}) });
  });
}

function includeVarsOf(
  raw: unknown,
): { key: string; file: unknown; rest: Record<string, unknown>; options: string[] } | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const key = Object.keys(r).find((k) => moduleKey(k) === 'include_vars');
  if (!key) return undefined;
  const v = r[key];
  const mapping =
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  return {
    key,
    file: mapping ? mapping.file : v,
    // `name`, `dir`, `files_matching`…: not read yet, so refused rather than ignored.
    options: mapping ? Object.keys(mapping).filter((k) => k !== 'file') : [],
    rest: Object.fromEntries(Object.entries(r).filter(([k]) => k !== key)),
  };
}

function mergeIncludeKeys(task: unknown, keys: Record<string, unknown>): unknown {
  if (!task || typeof task !== 'object' || Array.isArray(task) || !Object.keys(keys).length) return task;
  const t = { ...(task as Record<string, unknown>) };
  const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  if (keys.when !== undefined) t.when = [...list(keys.when), ...list(t.when)];
  if (keys.tags !== undefined) t.tags = [...list(keys.tags), ...list(t.tags)];
  if (keys.vars !== undefined) t.vars = { ...(keys.vars as object), ...(t.vars as object) };
  return t;
}

/** The sections of one play, read from its body. */
export function playSections(
  body: Record<string, unknown>,
  where: string,
  baseDir: string,
  problems: string[],
): PlaySections {
  const list = (k: string) => (Array.isArray(body[k]) ? (body[k] as unknown[]) : []);
  const play: Place = { where, tasksDir: baseDir, sources: baseDir };
  const tasks = { tasks: [] as ScopedTask[], flushAfter: [] as number[] };
  const handlers = { tasks: [] as ScopedTask[], flushAfter: [] as number[] };
  const sectionEnd = () => {
    if (tasks.tasks.length && tasks.flushAfter.at(-1) !== tasks.tasks.length - 1)
      tasks.flushAfter.push(tasks.tasks.length - 1);
  };

  readTasks(list('pre_tasks'), { ...play, where: `${where} pre_tasks` }, false, problems, tasks);
  sectionEnd();
  let handlerCount = list('handlers').length;
  let roles: ReturnType<typeof resolveRoles> = [];
  try {
    const entries = list('roles').map((r, i) => roleEntry(r, `${where} roles[${i}]`));
    roles = resolveRoles(entries, baseDir);
  } catch (err) {
    if (!(err instanceof RoleError)) throw err;
    problems.push(err.message.startsWith(where) ? err.message : `${where}: roles: ${err.message}`);
  }
  for (const { role, entry } of roles) {
    const scope: TaskScope = {
      role: role.name,
      defaults: role.defaults,
      vars: { ...role.vars, ...entry.params },
      when: entry.when,
      tags: entry.tags,
    };
    const sources: SourceDirs = {
      copy: [path.join(role.dir, 'files'), role.dir, baseDir],
      template: [path.join(role.dir, 'templates'), role.dir, baseDir],
    };
    const at: Place = { where: `${where} role ${role.name}`, tasksDir: role.tasksDir, sources, scope };
    readTasks(role.tasks, at, false, problems, tasks);
    handlerCount += role.handlers.length;
    readTasks(role.handlers, { ...at, tasksDir: path.join(role.dir, 'handlers') }, true, problems, handlers);
  }
  readTasks(list('tasks'), play, false, problems, tasks);
  sectionEnd();
  readTasks(list('post_tasks'), { ...play, where: `${where} post_tasks` }, false, problems, tasks);
  readTasks(list('handlers'), play, true, problems, handlers);
  // The end of the batch flushes anyway: a last flush point there would be a second, empty one.
  const last = tasks.tasks.length - 1;
  return {
    tasks: tasks.tasks,
    handlers: handlers.tasks,
    flushAfter: tasks.flushAfter.filter((i) => i !== last),
    handlersComplete: handlers.tasks.length === handlerCount,
  };
}
