import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readVarsText } from './vault';
import type { BlockPlace } from '../common/blocks';
import type { Vars } from '../common/templates';
import { checkTask, type RawTask, type SourceDirs } from './play-tasks';
import { unknownArguments } from '../common/task-arguments';
import {
  listOf,
  resolveRoles,
  roleEntry,
  RoleError,
  type LoadedRole,
  type RoleEntry,
  type RoleFiles,
} from './roles';
import {
  candidateFiles,
  firstFoundExpression,
  firstFoundTerms,
  quote,
  textExpression,
} from './templated-includes';
import { INHERITED_KEYS, moduleKey, NOT_YET, validInherited } from './playbook-keywords';

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
  /**
   * The conditions that pick it as one of the files a templated include can be: a host for which
   * one is false never included it, so its skip is not reported (as in ansible-core).
   */
  guards?: string[];
}

export interface PlaySections {
  tasks: ScopedTask[];
  handlers: ScopedTask[];
  /** Indexes into `tasks` after which the notified handlers run. */
  flushAfter: number[];
  /** Every handler was readable: notifications can be resolved (else they would all seem dangling). */
  handlersComplete: boolean;
  /**
   * What the play's `roles:` give every task of the play, as ansible-core does (its roles' vars
   * are not private): their defaults, lowest of all, and their vars, above the play's.
   */
  roleDefaults: Vars;
  roleVars: Vars;
}

/** Where readTasks puts what it reads; `roles` reads a role an include_role names, into the play. */
interface TaskList {
  tasks: ScopedTask[];
  flushAfter: number[];
  blocks?: number;
  roles?: {
    baseDir: string;
    read(r: { role: LoadedRole; entry: RoleEntry }, at: Place, depth: number, into: TaskList): void;
  };
}

const INCLUDES = ['import_tasks', 'include_tasks'];
const INCLUDE_KEYS = ['name', 'when', 'tags', 'vars', ...INHERITED_KEYS];
const BLOCK_KEYS = ['name', 'block', 'rescue', 'always', 'when', 'tags', 'vars', ...INHERITED_KEYS];

interface Place {
  where: string;
  blocks?: BlockPlace[];
  /** Where an included task file is looked for. */
  tasksDir: string;
  sources: string | SourceDirs;
  scope?: TaskScope;
  /** Keywords the play, role line, blocks and includes around give each task (become, environment…). */
  inherit?: Record<string, unknown>;
  /** The conditions that pick the files of templated includes around (see ScopedTask.guards). */
  guards?: string[];
  /** Inside an include_tasks: a task's arguments are checked now, so a file we cannot run is known. */
  dynamic?: boolean;
}

/** The keywords an enclosing play, block, include or role line hands down, the inner over the outer. */
export function inheritedOf(outer: Record<string, unknown> | undefined, body: Record<string, unknown>) {
  const own = Object.fromEntries(
    Object.entries(body).filter(([k, v]) => INHERITED_KEYS.includes(k) && validInherited(k, v)),
  );
  const merged: Record<string, unknown> = { ...outer, ...own };
  if (outer?.environment && own.environment && typeof own.environment === 'object')
    merged.environment = { ...(outer.environment as object), ...own.environment };
  return Object.keys(merged).length ? merged : undefined;
}

/** A task with what its surroundings hand down, where it does not say otherwise. */
function withInherited(raw: unknown, inherit: Record<string, unknown> | undefined): unknown {
  if (!inherit || !raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return inheritedOf(inherit, raw as Record<string, unknown>)
    ? { ...raw, ...inheritedOf(inherit, raw as Record<string, unknown>) }
    : raw;
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
  out: TaskList,
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
        Object.entries(b).filter(([k]) => ['when', 'tags', 'vars'].includes(k)),
      );
      const inherit = inheritedOf(at.inherit, b);
      for (const part of ['block', 'rescue', 'always'] as const) {
        const list = b[part] ?? [];
        if (!Array.isArray(list)) {
          problems.push(`${where}: ${part}: a list of tasks`);
          continue;
        }
        const tasks = list.map((t) => mergeIncludeKeys(t, inherited));
        const blocks = [...(at.blocks ?? []), { id, part }];
        readTasks(
          tasks,
          { ...at, where: `${where} ${part}`, blocks, inherit },
          false,
          problems,
          out,
          depth + 1,
        );
      }
      return;
    }
    const push = (task: RawTask | undefined, guards = at.guards) => {
      if (task)
        out.tasks.push({
          raw: task,
          scope: at.scope,
          ...(at.blocks ? { blocks: at.blocks } : {}),
          ...(guards?.length ? { guards } : {}),
        });
    };
    /** A task of ours; `guard`: the condition (first in its when) that picks it among the candidates. */
    const check = (t: Record<string, unknown>, guard?: string) =>
      push(
        checkTask(withInherited(t, at.inherit), where, at.sources, false, problems),
        guard ? [...(at.guards ?? []), guard] : at.guards,
      );
    // A dynamic include is a task of its own in ansible-core's output (ok, or skipped by its when).
    const includedMarker = (key: string, rest: Record<string, unknown>) => {
      const { name, when, tags, vars: v, ...keywords } = rest;
      check({
        name: String(name ?? key),
        ...(when !== undefined ? { when } : {}),
        ...(tags !== undefined ? { tags } : {}),
        ...(v !== undefined ? { vars: v } : {}),
        ...keywords,
        assert: { that: [true], quiet: true },
      });
    };
    const vars = includeVarsOf(raw);
    if (vars && !handler) {
      // Read when the playbook loads, and set for the host as set_fact would; a name only the
      // host's facts decide is every file it can be, each under the condition that picks it.
      const { key, file, rest, options } = vars;
      if (options.length) return void problems.push(`${where}: ${key}: ${options.join(', ')}: ${NOT_YET}`);
      const { with_first_found: firstFound, ...keys } = rest;
      // As ansible-core looks for a 'vars' file: <dir>/vars/<name>, then <dir>/<name>, for the
      // role, the including file's directory, then the playbook's.
      const base =
        typeof at.sources === 'string' ? [path.join(at.sources, 'vars'), at.sources] : at.sources.vars;
      const dirs = [...new Set([...(base ?? []), at.tasksDir])];
      let choices: { name: string; file: string }[];
      let guard: ((name: string) => string) | undefined;
      let none: string | undefined;
      let skipsNone = false;
      try {
        if (firstFound !== undefined) {
          if (typeof file !== 'string' || !/^\{\{\s*item\s*\}\}$/.test(file.trim()))
            return void problems.push(`${where}: ${key}: with_first_found: the file must be "{{ item }}"`);
          const { names, skip } = firstFoundTerms(firstFound);
          skipsNone = skip;
          choices = names
            .flatMap((n) => candidateFiles(n, dirs))
            .filter((c, i, all) => all.findIndex((o) => o.name === c.name) === i);
          const expr = firstFoundExpression(
            names,
            choices.map((c) => c.name),
          );
          guard = (name) => `${expr} == ${quote(name)}`;
          none = `${expr} is undefined or ${expr} is none`;
        } else if (typeof file === 'string' && file.includes('{{')) {
          choices = candidateFiles(file, dirs);
          const expr = textExpression(file);
          guard = (name) => `(${expr}) == ${quote(name)}`;
          none = `(${expr}) not in [${choices.map((c) => quote(c.name)).join(', ')}]`;
        } else if (typeof file === 'string') {
          const found = dirs.map((d) => path.resolve(d, file)).find((f) => existsSync(f));
          if (!found) return void problems.push(`${where}: ${key}: ${file} not found in ${dirs.join(', ')}`);
          choices = [{ name: file, file: found }];
        } else return void problems.push(`${where}: ${key}: a file name`);
      } catch (err) {
        return void problems.push(`${where}: ${key}: ${(err as Error).message}`);
      }
      if (guard && !choices.length && !skipsNone)
        return void problems.push(`${where}: ${key}: no file in ${dirs.join(', ')} matches ${String(file)}`);
      for (const c of choices) {
        let content: unknown;
        try {
          content = readVarsText(readFileSync(c.file, 'utf8')) ?? {};
        } catch (err) {
          return void problems.push(`${where}: ${key}: ${c.file}: ${(err as Error).message.split('\n')[0]}`);
        }
        if (!content || typeof content !== 'object' || Array.isArray(content)) {
          // A file the name could be but is no vars file (the playbook itself): never the one meant.
          if (guard) continue;
          return void problems.push(`${where}: ${key}: ${c.file}: a mapping of variables`);
        }
        const picks = guard?.(c.name);
        const when = [...(picks ? [picks] : []), ...asConditions(keys.when)];
        check({ name: key, ...keys, ...(when.length ? { when } : {}), set_fact: content }, picks);
      }
      // No file for the host: with skip: true an empty loop, which ansible-core reports skipped;
      // else the host fails.
      if (none)
        check(
          skipsNone
            ? { name: key, ...keys, when: [none, 'false', ...asConditions(keys.when)], meta: 'noop' }
            : {
                name: key,
                ...keys,
                when: [none, ...asConditions(keys.when)],
                fail: {
                  msg: `${key}: no file found for ${String(firstFound ?? file)} in ${dirs.join(', ')}`,
                },
              },
          none,
        );
      return;
    }
    const role = roleIncludeOf(raw);
    if (role && !handler) {
      const extra = Object.keys(role.rest).filter((k) => !INCLUDE_KEYS.includes(k));
      if (extra.length) return void problems.push(`${where}: ${extra.join(', ')} on ${role.key}: ${NOT_YET}`);
      if (depth > 20) return void problems.push(`${where}: ${role.key}: includes nest deeper than 20`);
      if (!out.roles) return void problems.push(`${where}: ${role.key}: only in a play's tasks`);
      if (moduleKey(role.key) === 'include_role') includedMarker(role.key, role.rest);
      try {
        const options = roleIncludeOptions(role.args, `${where}: ${role.key}`);
        const { when, tags, vars: lineVars, ...keywords } = role.rest;
        const entry = roleEntry(
          {
            role: options.name,
            vars: { ...(lineVars as object) },
            ...(when ? { when } : {}),
            ...(tags ? { tags } : {}),
            ...keywords,
          },
          `${where}: ${role.key}`,
        );
        for (const loaded of resolveRoles([entry], out.roles.baseDir, options)) {
          out.roles.read(
            loaded,
            { ...at, where: `${where} (${role.key} ${loaded.role.name})` },
            depth + 1,
            out,
          );
        }
      } catch (err) {
        if (!(err instanceof RoleError)) throw err;
        problems.push(err.message.startsWith(where) ? err.message : `${where}: ${role.key}: ${err.message}`);
      }
      return;
    }
    const inc = includeOf(raw);
    if (inc && !handler) {
      const extra = Object.keys(inc.rest).filter((k) => !INCLUDE_KEYS.includes(k));
      if (extra.length) return void problems.push(`${where}: ${extra.join(', ')} on ${inc.key}: ${NOT_YET}`);
      const name =
        inc.file && typeof inc.file === 'object' && !Array.isArray(inc.file)
          ? (inc.file as Record<string, unknown>).file
          : inc.file;
      if (inc.file && typeof inc.file === 'object' && Object.keys(inc.file).some((k) => k !== 'file'))
        return void problems.push(
          `${where}: ${inc.key}: ${Object.keys(inc.file)
            .filter((k) => k !== 'file')
            .join(', ')}: ${NOT_YET}`,
        );
      if (typeof name !== 'string') return void problems.push(`${where}: ${inc.key}: a file name`);
      if (depth > 20) return void problems.push(`${where}: ${inc.key}: includes nest deeper than 20`);
      let choices: { name: string; file: string }[];
      try {
        choices = name.includes('{{')
          ? candidateFiles(name, [at.tasksDir])
          : [{ name, file: path.resolve(at.tasksDir, name) }];
      } catch (err) {
        return void problems.push(`${where}: ${inc.key}: ${(err as Error).message}`);
      }
      if (!choices.length)
        return void problems.push(`${where}: ${inc.key}: no file in ${at.tasksDir} matches ${name}`);
      const expr = name.includes('{{') ? textExpression(name) : undefined;
      // The include's own when, tags and vars apply to every task it brings, as import_tasks does.
      const own = Object.fromEntries(Object.entries(inc.rest).filter(([k]) => !INHERITED_KEYS.includes(k)));
      if (moduleKey(inc.key) === 'include_tasks') includedMarker(inc.key, inc.rest);
      for (const c of choices) {
        let tasks: unknown[];
        try {
          tasks = listOf(c.file);
        } catch (err) {
          // A file the name could be but is no task list (a vars file beside it): never the one meant.
          if (expr) continue;
          return void problems.push(`${where}: ${inc.key}: ${(err as Error).message}`);
        }
        const picks = expr ? `(${expr}) == ${quote(c.name)}` : undefined;
        const keys = picks ? { ...own, when: [picks, ...asConditions(own.when)] } : own;
        // A host that skips a dynamic include never sees its tasks: Ansible reports the include
        // skipped and nothing inside, so skips by the include's own conditions are not shown.
        const dynamic = moduleKey(inc.key) === 'include_tasks';
        const guards = [
          ...(at.guards ?? []),
          ...(picks ? [picks] : []),
          ...(dynamic ? asConditions(own.when).map(String) : []),
        ];
        const local: string[] = [];
        const read: TaskList = { tasks: [], flushAfter: [], blocks: out.blocks, roles: out.roles };
        readTasks(
          tasks.map((t) => mergeIncludeKeys(t, keys)),
          {
            ...at,
            where: `${where} (${c.name})`,
            tasksDir: path.dirname(c.file),
            inherit: inheritedOf(at.inherit, inc.rest),
            ...(guards.length ? { guards } : {}),
            ...(dynamic ? { dynamic: true } : {}),
          },
          false,
          local,
          read,
          depth + 1,
        );
        // include_tasks is dynamic: ansible-core reads the file only for a host that gets there
        // (`setup-FreeBSD.yml` under `when: ansible_os_family == 'FreeBSD'`). A file we cannot
        // run fails such a host at the include, with every problem named, before any of its tasks.
        if (local.length && moduleKey(inc.key) === 'include_tasks') {
          check(
            {
              name: String(own.name ?? inc.key),
              ...keys,
              fail: { msg: `${inc.key}: ${c.name} cannot run here: ${local.join('; ')}` },
            },
            picks,
          );
          continue;
        }
        problems.push(...local);
        const offset = out.tasks.length;
        out.tasks.push(...read.tasks);
        out.flushAfter.push(...read.flushAfter.map((i) => i + offset));
        out.blocks = read.blocks;
      }
      if (expr) {
        const none = `(${expr}) not in [${choices.map((c) => quote(c.name)).join(', ')}]`;
        check(
          {
            name: String(own.name ?? inc.key),
            ...own,
            when: [none, ...asConditions(own.when)],
            fail: { msg: `${inc.key}: could not find or access ${name} in ${at.tasksDir}` },
          },
          none,
        );
      }
      return;
    }
    const task = checkTask(withInherited(raw, at.inherit), where, at.sources, handler, problems);
    if (task && at.dynamic)
      problems.push(...unknownArguments(task.module, task.args).map((m) => `${where}: ${m}`));
    if (task)
      out.tasks.push({
        raw: task,
        scope: at.scope,
        ...(at.blocks ? { blocks: at.blocks } : {}),
        ...(at.guards ? { guards: at.guards } : {}),
      });
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

const asConditions = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** with_first_found's names: a list, or `{ files: [...], paths: [...] }` (each file under each path). */
const ROLE_INCLUDES = ['include_role', 'import_role'];

function roleIncludeOf(
  raw: unknown,
): { key: string; args: unknown; rest: Record<string, unknown> } | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const key = Object.keys(r).find((k) => ROLE_INCLUDES.includes(moduleKey(k)));
  if (!key) return undefined;
  return { key, args: r[key], rest: Object.fromEntries(Object.entries(r).filter(([k]) => k !== key)) };
}

/** include_role / import_role's own options: which role, and which of its files. */
function roleIncludeOptions(args: unknown, where: string): RoleFiles & { name: string } {
  if (!args || typeof args !== 'object' || Array.isArray(args))
    throw new RoleError(`${where}: name: the role to include`);
  const a = args as Record<string, unknown>;
  const known = [
    'name',
    'tasks_from',
    'vars_from',
    'defaults_from',
    'handlers_from',
    'allow_duplicates',
    'public',
  ];
  const other = Object.keys(a).filter((k) => !known.includes(k));
  if (other.length) throw new RoleError(`${where}: ${other.join(', ')}: ${NOT_YET}`);
  // The role's variables stay its own; `public: true` would hand them to the play's later tasks.
  if (a.public === true) throw new RoleError(`${where}: public: true: ${NOT_YET}`);
  if (typeof a.name !== 'string' || !a.name) throw new RoleError(`${where}: name: the role to include`);
  const file = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  return {
    name: a.name,
    tasks: file('tasks_from'),
    vars: file('vars_from'),
    defaults: file('defaults_from'),
    handlers: file('handlers_from'),
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
  const play: Place = { where, tasksDir: baseDir, sources: baseDir, inherit: inheritedOf(undefined, body) };
  const tasks: TaskList = { tasks: [], flushAfter: [] };
  const handlers: TaskList = { tasks: [], flushAfter: [] };
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
  const handlersRead = new Set<string>();
  const readRole = (
    { role, entry }: { role: LoadedRole; entry: RoleEntry },
    parent: Place,
    depth: number,
    into: TaskList = tasks,
  ) => {
    const scope: TaskScope = {
      role: role.name,
      defaults: role.defaults,
      // role_name and role_path: Ansible's magic variables inside a role.
      vars: { ...role.vars, ...entry.params, role_name: role.name, role_path: role.dir },
      when: entry.when,
      tags: entry.tags,
    };
    const sources: SourceDirs = {
      copy: [path.join(role.dir, 'files'), role.dir, baseDir],
      template: [path.join(role.dir, 'templates'), role.dir, baseDir],
      vars: [path.join(role.dir, 'vars'), role.dir, role.tasksDir, path.join(baseDir, 'vars'), baseDir],
    };
    const at: Place = {
      where: parent.where,
      tasksDir: role.tasksDir,
      sources,
      scope,
      inherit: inheritedOf(parent.inherit, entry.keywords),
      ...(parent.blocks ? { blocks: parent.blocks } : {}),
    };
    readTasks(role.tasks, at, false, problems, into, depth);
    // A role's handlers join the play once, however often the role is included.
    const handlerKey = `${role.dir} ${JSON.stringify(role.handlers)}`;
    if (handlersRead.has(handlerKey)) return;
    handlersRead.add(handlerKey);
    handlerCount += role.handlers.length;
    readTasks(role.handlers, { ...at, tasksDir: path.join(role.dir, 'handlers') }, true, problems, handlers);
  };
  tasks.roles = { baseDir, read: readRole };
  for (const r of roles) readRole(r, { ...play, where: `${where} role ${r.role.name}` }, 0);
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
    roleDefaults: Object.assign({}, ...roles.map((r) => r.role.defaults)),
    roleVars: Object.assign({}, ...roles.map((r) => r.role.vars)),
  };
}
