import path from 'node:path';
import type { z } from 'zod';
import { MODULE_NAMES, type ModuleName } from '../common/modules';
import type { PlayTask } from '../common/play';
import { parseStrict } from '../common/parse-strict';
import {
  ACTIONS_NOT_YET,
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
  baseDir: string,
  handler: boolean,
  problems: string[],
): RawTask | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: a ${handler ? 'handler' : 'task'} is a mapping of keys`);
    return undefined;
  }
  const own = handler ? [...TASK_KEYS, 'listen'] : TASK_KEYS;
  const known = [...own, ...TASK_KEYS_NOT_YET, ...MODULE_NAMES, ...Object.keys(ALIASES)];
  const keywords: Record<string, unknown> = {};
  const modules: string[] = [];
  const before = problems.length;
  for (const [key, value] of Object.entries(raw)) {
    if (own.includes(key)) keywords[key] = value;
    else if (moduleOf(key)) modules.push(key);
    else if (key === 'listen') problems.push(`${where}: listen: only a handler listens; a task notifies`);
    else if (key.startsWith('with_') || TASK_KEYS_NOT_YET.includes(key))
      problems.push(`${where}: ${key}: ${NOT_YET}`);
    else if (ACTIONS_NOT_YET.includes(moduleKey(key)))
      problems.push(`${where}: ${key}: ${NOT_YET} (modules: ${MODULE_NAMES.join(', ')})`);
    else
      problems.push(
        `${where}: ${unknownKey(key, known, `neither a task keyword nor a module; modules: ${MODULE_NAMES.join(', ')}`)}`,
      );
  }
  const parsed = parseStrict(TaskKeywordsSchema, keywords);
  if (parsed.problems) problems.push(...parsed.problems.map((p) => `${where}: ${p}`));
  if (modules.length !== 1) {
    if (problems.length === before)
      problems.push(
        `${where}: a ${handler ? 'handler' : 'task'} names exactly one module (found ${modules.join(', ') || 'none'}); modules: ${MODULE_NAMES.join(', ')}`,
      );
    return undefined;
  }
  const module = moduleOf(modules[0])!;
  let args = (raw as Record<string, unknown>)[modules[0]];
  if (typeof args === 'string' && (module === 'command' || module === 'shell')) args = { cmd: args };
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    problems.push(`${where}: ${modules[0]}: ${module} arguments must be a mapping`);
    return undefined;
  }
  if (!parsed.data) return undefined;
  // A local source file is found next to the playbook, whatever directory the worker runs in.
  const src = (args as { src?: unknown }).src;
  if (
    (module === 'copy' || module === 'template') &&
    typeof src === 'string' &&
    !path.isAbsolute(src) &&
    !src.includes('{{')
  ) {
    args = { ...args, src: path.resolve(baseDir, src) };
  }
  return { at: where, keywords: parsed.data, module, args: args as Record<string, unknown> };
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
    return {
      name,
      module: t.module,
      args: t.args,
      notify,
      become: t.keywords.become ?? playBecome,
      tags: asList(t.keywords.tags, true),
      ignoreErrors: t.keywords.ignore_errors === true,
    };
  };
  return {
    tasks: rawTasks.map((t) => build(t, 0)),
    handlers: rawHandlers.map((h, i) => build(h, i + 1)),
  };
}
