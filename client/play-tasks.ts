import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { MODULE_NAMES, type ModuleName } from '../common/modules';
import type { PlayTask } from '../common/play';
import type { TaskControl } from '../common/task-control';
import { expressionSyntaxError } from '../common/templates';
import { parseStrict } from '../common/parse-strict';
import { actionForm, commandArgs, keyValueArgs } from './free-form';
import { isWithLookup } from '../common/lookup-loops';
import { LOOP_KEYS } from './lookup-keywords';
import {
  ACTIONS_NOT_YET,
  REMOVED_FROM_ANSIBLE,
  ALIASES,
  moduleKey,
  moduleOf,
  NOT_YET,
  TASK_KEYS,
  TASK_KEYS_NOT_YET,
  TaskKeywordsSchema,
  unknownKey,
} from './playbook-keywords';

// A play's tasks and handlers: each one's keys checked, then every notification resolved to the
// handlers it reaches.

const asList = (v: unknown, split = false): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v.map(String) : split ? String(v).split(',') : [String(v)])
        .map((s) => s.trim())
        .filter(Boolean);

/** A role's copy sources are in its files/, template sources in its templates/, then the role itself. */
export interface SourceDirs {
  copy: string[];
  template: string[];
  /** Where include_vars looks, as ansible-core's search for the 'vars' subdir goes. */
  vars?: string[];
}

function sourceFile(base: string | SourceDirs, module: 'copy' | 'template', src: string): string {
  const dirs = typeof base === 'string' ? [base] : base[module];
  const candidates = dirs.map((d) => path.resolve(d, src));
  return candidates.find((f) => existsSync(f)) ?? candidates[0];
}

/** Where a module's `src` is a worker-side file: unarchive's archive is found as copy's file, unless on the host. */
function localSourceOf(module: ModuleName, args: Record<string, unknown>): 'copy' | 'template' | undefined {
  if (module === 'copy' || module === 'template') return module;
  if (module === 'script') return 'copy';
  if (module === 'unarchive' && !/^(y|yes|on|1|true|t)$/i.test(String(args.remote_src ?? false)))
    return 'copy';
  return undefined;
}

/** script's `cmd` (`files/x.sh --flag`, free-form or given) as the script and its arguments. */
function scriptArgs(args: Record<string, unknown>): Record<string, unknown> {
  const { cmd, ...rest } = args;
  if (typeof cmd !== 'string') return args;
  const text = cmd.trim();
  const space = text.search(/\s/);
  return space < 0
    ? { ...rest, src: text }
    : { ...rest, src: text.slice(0, space), args: text.slice(space + 1).trim() };
}

export interface RawTask {
  /** Where it is, for messages: `site.yml: play 1 ("web") task 2`. */
  at: string;
  keywords: z.output<typeof TaskKeywordsSchema>;
  module: ModuleName;
  args: Record<string, unknown>;
}

/** One task or handler's keys checked, every problem of it at once. */
export function checkTask(
  raw: unknown,
  where: string,
  /** Where a relative `src` is found: beside the playbook, or a role's files/ and templates/. */
  baseDir: string | SourceDirs,
  handler: boolean,
  problems: string[],
): RawTask | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: a ${handler ? 'handler' : 'task'} is a mapping of keys`);
    return undefined;
  }
  // `action: copy src=a` names the module inside; `args:` adds to the module's arguments.
  let task = raw as Record<string, unknown>;
  let extraArgs: Record<string, unknown> | undefined;
  // `local_action:` is the action form run on the worker: delegate_to localhost, as in ansible-core.
  const formKey = 'local_action' in task ? 'local_action' : 'action';
  if (formKey in task) {
    if (formKey === 'local_action' && ('action' in task || 'delegate_to' in task)) {
      problems.push(`${where}: local_action: give it alone, without action or delegate_to`);
      return undefined;
    }
    try {
      const { module: m, args: a } = actionForm(task[formKey]);
      task = {
        ...Object.fromEntries(Object.entries(task).filter(([k]) => k !== formKey)),
        ...(formKey === 'local_action' ? { delegate_to: 'localhost' } : {}),
        [m]: a,
      };
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return undefined;
    }
  }
  if ('args' in task) {
    const { args: a, ...rest } = task;
    if (!a || typeof a !== 'object' || Array.isArray(a)) {
      problems.push(`${where}: args: a mapping of the module's arguments`);
      return undefined;
    }
    extraArgs = a as Record<string, unknown>;
    task = rest;
  }
  const own = handler ? [...TASK_KEYS, 'listen'] : TASK_KEYS;
  const known = [...own, ...TASK_KEYS_NOT_YET, ...MODULE_NAMES, ...Object.keys(ALIASES)];
  const keywords: Record<string, unknown> = {};
  const modules: string[] = [];
  const before = problems.length;
  for (const [key, value] of Object.entries(task)) {
    if (own.includes(key)) keywords[key] = value;
    else if (moduleOf(key)) modules.push(key);
    else if (key === 'listen') problems.push(`${where}: listen: only a handler listens; a task notifies`);
    else if (key.startsWith('with_') || TASK_KEYS_NOT_YET.includes(key))
      problems.push(`${where}: ${key}: ${NOT_YET}`);
    else if (Object.hasOwn(REMOVED_FROM_ANSIBLE, moduleKey(key)))
      problems.push(`${where}: ${key}: ${REMOVED_FROM_ANSIBLE[moduleKey(key)]}`);
    else if (ACTIONS_NOT_YET.includes(moduleKey(key)))
      problems.push(`${where}: ${key}: ${NOT_YET} (modules: ${MODULE_NAMES.join(', ')})`);
    else
      problems.push(
        `${where}: ${unknownKey(key, known, `neither a task keyword nor a module; modules: ${MODULE_NAMES.join(', ')}`)}`,
      );
  }
  const parsed = parseStrict(TaskKeywordsSchema, keywords);
  if (parsed.problems) problems.push(...parsed.problems.map((p) => `${where}: ${p}`));
  if (parsed.data) problems.push(...controlProblems(parsed.data).map((p) => `${where}: ${p}`));
  if (modules.length !== 1) {
    if (problems.length === before)
      problems.push(
        `${where}: a ${handler ? 'handler' : 'task'} names exactly one module (found ${modules.join(', ') || 'none'}); modules: ${MODULE_NAMES.join(', ')}`,
      );
    return undefined;
  }
  const module = moduleOf(modules[0])!;
  let args = task[modules[0]];
  if (args === null || args === undefined) args = {};
  // `meta: end_host`: the action is the whole argument.
  if (module === 'meta' && typeof args === 'string') args = { action: args.trim() };
  if (typeof args === 'string') {
    try {
      args =
        module === 'raw'
          ? { cmd: args }
          : module === 'command' || module === 'shell' || module === 'script'
            ? commandArgs(args)
            : keyValueArgs(args);
    } catch (err) {
      problems.push(`${where}: ${modules[0]}: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (extraArgs && args && typeof args === 'object' && !Array.isArray(args)) args = { ...extraArgs, ...args };
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    problems.push(`${where}: ${modules[0]}: ${module} arguments must be a mapping`);
    return undefined;
  }
  if (!parsed.data) return undefined;
  if (module === 'script') args = scriptArgs(args as Record<string, unknown>);
  // A local source file is found next to the playbook, whatever directory the worker runs in.
  const src = (args as { src?: unknown }).src;
  const from = localSourceOf(module, args as Record<string, unknown>);
  if (from && typeof src === 'string' && !path.isAbsolute(src) && !src.includes('{{')) {
    args = { ...(args as Record<string, unknown>), src: sourceFile(baseDir, from, src) };
  }
  return { at: where, keywords: parsed.data, module, args: args as Record<string, unknown> };
}

const CONDITION_KEYS = ['when', 'until', 'changed_when', 'failed_when'] as const;

/** What the task's control keywords say that cannot run: a syntax error, two loops, until unregistered. */
function controlProblems(k: z.output<typeof TaskKeywordsSchema>): string[] {
  const problems: string[] = [];
  for (const key of CONDITION_KEYS)
    for (const [i, c] of (k[key] ?? []).entries()) {
      if (typeof c !== 'string') continue;
      const text = c.trim().replace(/^\{\{(.*)\}\}$/s, '$1');
      const error = expressionSyntaxError(text);
      if (error) problems.push(`${key}${(k[key]?.length ?? 0) > 1 ? `[${i}]` : ''}: ${error}`);
    }
  const loops = LOOP_KEYS.filter((l) => k[l] !== undefined);
  if (loops.length > 1) problems.push(`${loops.join(', ')}: a task has one loop`);
  if (k.loop_control && !loops.length) problems.push('loop_control: the task has no loop');
  if ((k.retries !== undefined || k.delay !== undefined) && !k.until)
    problems.push(`${k.retries !== undefined ? 'retries' : 'delay'}: only with until`);
  return problems;
}

/** The keywords that steer a task's module, as the activity takes them; undefined when none. */
export function taskControl(k: z.output<typeof TaskKeywordsSchema>): TaskControl | undefined {
  const loopKind = LOOP_KEYS.find((l) => k[l] !== undefined);
  const control: TaskControl = {
    when: k.when,
    register: k.register,
    // A with_<lookup>'s bare word is a term (`with_file: motd`), not a variable.
    loop: loopKind
      ? { items: isWithLookup(loopKind) ? k[loopKind] : loopItemsOf(k[loopKind]), kind: loopKind }
      : undefined,
    loopVar: k.loop_control?.loop_var,
    indexVar: k.loop_control?.index_var,
    label: k.loop_control?.label,
    changedWhen: k.changed_when,
    failedWhen: k.failed_when,
    until: k.until,
    retries: k.retries,
    delay: k.delay,
    vars: k.vars,
    noLog: k.no_log || undefined,
  };
  const set = Object.fromEntries(Object.entries(control).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? (set as TaskControl) : undefined;
}

/** A bare name (`with_items: users`, as older plays write it) is the variable's value. */
function loopItemsOf(v: unknown): unknown {
  return typeof v === 'string' && /^\s*[A-Za-z_][A-Za-z0-9_.]*\s*$/.test(v) ? `{{ ${v.trim()} }}` : v;
}

/** Handler names a notification reaches: handlers of that name and those that `listen` to it. */
function notifiedHandlers(topic: string, handlers: { name: string; listen: string[] }[]): string[] {
  return handlers.filter((h) => h.name === topic || h.listen.includes(topic)).map((h) => h.name);
}

/** The tasks and handlers of one play, with every notification resolved to handler names. */
export function playTasks(
  rawTasks: RawTask[],
  rawHandlers: RawTask[],
  playBecome: boolean | undefined,
  problems: string[],
): { tasks: PlayTask[]; handlers: PlayTask[] } {
  const named = rawHandlers.map((h) => ({
    name: h.keywords.name ?? h.module,
    listen: asList(h.keywords.listen),
  }));
  const build = (t: RawTask, after: number): PlayTask => {
    const name = t.keywords.name ?? t.module;
    const control = taskControl(t.keywords);
    const notify: string[] = [];
    for (const topic of asList(t.keywords.notify)) {
      const reached = notifiedHandlers(topic, named);
      if (!reached.length)
        problems.push(`${t.at} ("${name}"): notifies "${topic}", which no handler answers`);
      // The workflow runs handlers once, in order, at the end of a batch: a handler can only
      // notify one defined after it.
      else if (reached.some((h) => named.findIndex((n) => n.name === h) < after))
        problems.push(
          `${t.at} ("${name}"): notifies "${topic}", itself or a handler defined before it: ${NOT_YET}`,
        );
      for (const h of reached) if (!notify.includes(h)) notify.push(h);
    }
    const k = t.keywords;
    const extra: Partial<PlayTask> = {
      becomeUser: k.become_user,
      becomeMethod: k.become_method,
      remoteUser: k.remote_user,
      environment: k.environment,
      check: k.check_mode,
      diff: k.diff,
      ignoreUnreachable: k.ignore_unreachable || undefined,
      anyErrorsFatal: k.any_errors_fatal || undefined,
      runOnce: k.run_once || undefined,
      delegateTo: k.delegate_to,
    };
    return {
      name,
      module: t.module,
      args: t.args,
      notify,
      become: k.become ?? playBecome,
      tags: asList(k.tags, true),
      ignoreErrors: k.ignore_errors === true,
      ...(control ? { control } : {}),
      ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    };
  };
  return {
    tasks: rawTasks.map((t) => build(t, 0)),
    handlers: rawHandlers.map((h, i) => build(h, i + 1)),
  };
}
