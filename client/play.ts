import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import { z } from 'zod';
import { renderArgs } from '../activities/modules/render';
import { MODULE_NAMES, ModuleArgs, type ModuleName } from '../common/modules';
import type { PlayInput, PlaySpec, PlayTask } from '../common/play';
import { suggest } from '../common/suggest';
import { selectHosts, targetFor, varsOf, type Inventory } from './inventory';
import { parseStrict } from './spec';

export class PlaybookError extends Error {
  /** Every problem found, each naming the file, play, task and key. */
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.problems = list;
  }
}

/** Ansible names that map onto our modules. */
const ALIASES: Record<string, ModuleName> = {
  apt: 'package',
  yum: 'package',
  dnf: 'package',
  systemd: 'service',
  properties: 'properties',
};

// The playbook language as one table per level, as ansible-core declares it: what we run, and
// what Ansible has that we do not run yet. A key of the second kind is refused before anything
// runs, never skipped: a play with `become_user: nobody` must not quietly run as root.

/** Play keys we implement. `forks` is ours (ansible-playbook's -f, per play). */
const PLAY_KEYS = [
  'name',
  'hosts',
  'serial',
  'max_fail_percentage',
  'vars',
  'become',
  'gather_facts',
  'forks',
  'tasks',
  'handlers',
];
/** Ansible's play keywords (and playbook entries) that we refuse until they are implemented. */
const PLAY_KEYS_NOT_YET = [
  'pre_tasks',
  'post_tasks',
  'roles',
  'import_playbook',
  'include',
  'include_playbook',
  'become_user',
  'become_method',
  'become_flags',
  'become_exe',
  'remote_user',
  'connection',
  'port',
  'environment',
  'vars_files',
  'vars_prompt',
  'strategy',
  'serial_strategy',
  'order',
  'throttle',
  'timeout',
  'tags',
  'collections',
  'module_defaults',
  'force_handlers',
  'any_errors_fatal',
  'ignore_errors',
  'ignore_unreachable',
  'run_once',
  'check_mode',
  'diff',
  'no_log',
  'debugger',
  'fact_path',
  'gather_subset',
  'gather_timeout',
];
/** Task keys we implement; a handler also takes `listen`. */
const TASK_KEYS = ['name', 'notify', 'become', 'tags', 'ignore_errors'];
/** Ansible's task keywords that we refuse until they are implemented. */
const TASK_KEYS_NOT_YET = [
  'when',
  'register',
  'loop',
  'loop_control',
  'until',
  'retries',
  'delay',
  'changed_when',
  'failed_when',
  'delegate_to',
  'delegate_facts',
  'local_action',
  'action',
  'run_once',
  'block',
  'rescue',
  'always',
  'vars',
  'args',
  'environment',
  'become_user',
  'become_method',
  'become_flags',
  'become_exe',
  'remote_user',
  'connection',
  'port',
  'check_mode',
  'diff',
  'no_log',
  'any_errors_fatal',
  'ignore_unreachable',
  'async',
  'poll',
  'throttle',
  'timeout',
  'module_defaults',
  'collections',
  'debugger',
];
/** Ansible actions that are language rather than a module of ours yet (includes, facts, control flow). */
const ACTIONS_NOT_YET = [
  'include',
  'include_tasks',
  'import_tasks',
  'include_role',
  'import_role',
  'import_playbook',
  'include_vars',
  'set_fact',
  'set_stats',
  'meta',
  'debug',
  'fail',
  'assert',
  'pause',
  'add_host',
  'group_by',
  'setup',
  'gather_facts',
  'ping',
  'raw',
  'script',
  'stat',
  'uri',
  'get_url',
  'unarchive',
  'fetch',
  'git',
  'cron',
  'replace',
  'reboot',
  'wait_for_connection',
  'systemd_service',
  'apt_key',
  'apt_repository',
  'yum_repository',
  'pip',
  'sysctl',
  'authorized_key',
  'hostname',
  'synchronize',
];

const NOT_YET = 'not supported yet';
const moduleKey = (key: string) =>
  key.replace(/^ansible\.(builtin|posix)\./, '').replace(/^community\.general\./, '');
const moduleOf = (key: string): ModuleName | undefined => {
  const k = moduleKey(key);
  const m = ALIASES[k] ?? k;
  return Object.hasOwn(ModuleArgs, m) ? (m as ModuleName) : undefined;
};

const Names = z.union([
  z.string().min(1),
  z.number().transform(String),
  z.array(z.union([z.string().min(1), z.number().transform(String)])),
]);
const Bool = z.boolean({ error: 'true or false (a templated keyword is not supported yet)' });
/** The keywords of a task or handler, once the module key is set apart. */
const TaskKeywordsSchema = z.strictObject({
  name: z.union([z.string(), z.number().transform(String)]).optional(),
  notify: Names.optional(),
  listen: Names.optional(),
  become: Bool.optional(),
  // Ansible splits a string of tags at commas.
  tags: Names.optional(),
  ignore_errors: Bool.optional(),
});

const SerialSchema = z.union([
  z.number().int().positive(),
  z.string(),
  z.array(z.union([z.number().int().positive(), z.string()])).min(1),
]);
const PlaySchema = z.strictObject({
  name: z.union([z.string(), z.number().transform(String)]).optional(),
  hosts: z.union(
    [
      z.string().min(1),
      // Ansible takes a list of patterns as well: their union.
      z
        .array(z.string().min(1))
        .min(1)
        .transform((l) => l.join(',')),
    ],
    { error: 'a host pattern, or a list of them' },
  ),
  serial: SerialSchema.optional(),
  max_fail_percentage: z.number().min(0).max(100).optional(),
  vars: z.record(z.string(), z.unknown()).default({}),
  become: Bool.optional(),
  // Plays never gather facts; `true` would promise variables that never come.
  gather_facts: z
    .literal(false, { error: `true: ${NOT_YET} (plays do not gather facts; set false or leave it out)` })
    .optional(),
  forks: z.number().int().positive().optional(),
  tasks: z.array(z.unknown()).nullable().default([]),
  handlers: z.array(z.unknown()).nullable().default([]),
});

const asList = (v: unknown, split = false): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v.map(String) : split ? String(v).split(',') : [String(v)])
        .map((s) => s.trim())
        .filter(Boolean);

/** An unknown key: the known one it most likely meant, else what is known (`what`). */
function unknownKey(key: string, known: readonly string[], what: string): string {
  const meant = suggest(key, known);
  return `${key}: unknown key${meant ? `; did you mean ${meant}?` : ` (${what})`}`;
}

interface RawTask {
  /** Where it is, for messages: `site.yml: play 1 ("web") task 2`. */
  at: string;
  keywords: z.output<typeof TaskKeywordsSchema>;
  module: ModuleName;
  args: Record<string, unknown>;
}

/** One task or handler's keys checked, every problem of it at once. */
function checkTask(
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
function playTasks(
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

/**
 * Reads a playbook, resolves its hosts against the inventory, and validates every task's arguments
 * for every host (rendered with that host's vars) before anything runs.
 */
export function loadPlaybook(
  file: string,
  inv: Inventory,
  options: {
    /** `--limit`'s host pattern, or the exact hosts an operation runs on (a list stays a list). */
    limit?: string | string[];
    check: boolean;
    diff: boolean;
    tags: string[];
    forks: number;
    cluster: string;
    /** ansible-playbook's -e: above every other variable. */
    extraVars?: Record<string, unknown>;
  },
): PlayInput {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PlaybookError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(doc)) throw new PlaybookError(`${file}: a playbook is a list of plays`);
  const base = path.basename(file);
  const baseDir = path.dirname(path.resolve(file));
  // Every key of every play, task and handler first, each problem at once, before any host is looked at.
  const problems: string[] = [];
  const structured = doc.map((rawPlay, p) => {
    if (rawPlay === null || typeof rawPlay !== 'object' || Array.isArray(rawPlay)) {
      problems.push(`${base}: play ${p + 1}: a play is a mapping of keys`);
      return undefined;
    }
    const label = (rawPlay as { name?: unknown }).name ?? (rawPlay as { hosts?: unknown }).hosts;
    const where = `${base}: play ${p + 1}${typeof label === 'string' ? ` ("${label}")` : ''}`;
    const body = rawPlay as Record<string, unknown>;
    const imports = ['import_playbook', 'include', 'include_playbook'].filter((k) => k in body);
    // A playbook entry that imports another is not a play: its missing hosts are no news.
    if (imports.length) {
      problems.push(...imports.map((k) => `${where}: ${k}: ${NOT_YET}`));
      return undefined;
    }
    const keys: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (PLAY_KEYS.includes(key)) keys[key] = value;
      else if (PLAY_KEYS_NOT_YET.includes(key)) problems.push(`${where}: ${key}: ${NOT_YET}`);
      else
        problems.push(
          `${where}: ${unknownKey(key, [...PLAY_KEYS, ...PLAY_KEYS_NOT_YET], `a play takes ${PLAY_KEYS.join(', ')}`)}`,
        );
    }
    const parsed = parseStrict(PlaySchema, keys);
    if (parsed.problems) problems.push(...parsed.problems.map((m) => `${where}: ${m}`));
    // The tasks are checked even when the play is wrong, so one run names every problem.
    const list = (k: 'tasks' | 'handlers') => (Array.isArray(body[k]) ? (body[k] as unknown[]) : []);
    const rawTasks = list('tasks').map((t, i) =>
      checkTask(t, `${where} task ${i + 1}`, baseDir, false, problems),
    );
    const rawHandlers = list('handlers').map((t, i) =>
      checkTask(t, `${where} handler ${i + 1}`, baseDir, true, problems),
    );
    const spec = parsed.data;
    // Notifications need every handler; a task already refused is simply not looked at again.
    if (!rawHandlers.every(Boolean)) return undefined;
    const { tasks, handlers } = playTasks(
      rawTasks.filter((t) => t !== undefined),
      rawHandlers as RawTask[],
      spec?.become,
      problems,
    );
    if (!spec) return undefined;
    return { spec, where, tasks, handlers };
  });
  if (problems.length) throw new PlaybookError(problems);

  const limitSet =
    options.limit === undefined || options.limit === ''
      ? undefined
      : new Set(Array.isArray(options.limit) ? options.limit : selectHosts(inv, options.limit));
  const plays: PlaySpec[] = structured.map((play) => {
    const { spec, where, tasks, handlers } = play!;
    const name = spec.name ?? spec.hosts;
    const names = selectHosts(inv, spec.hosts).filter((h) => !limitSet || limitSet.has(h));
    const hosts = names.map((h) => ({
      target: targetFor(inv, h),
      vars: { ...varsOf(inv, h), ...spec.vars, ...options.extraVars },
    }));
    const labelled = [
      ...tasks.map((t, i) => ({ t, at: `${where} task ${i + 1} ("${t.name}")` })),
      ...handlers.map((t, i) => ({ t, at: `${where} handler ${i + 1} ("${t.name}")` })),
    ];
    for (const host of hosts) {
      for (const { t, at } of labelled) {
        let rendered: unknown;
        try {
          rendered = renderArgs(t.args, host.vars);
        } catch (err) {
          throw new PlaybookError(
            `${at} on ${host.target.name}: ${(err as Error).message.split('\n').pop()?.trim()}`,
          );
        }
        const check = parseStrict(ModuleArgs[t.module], rendered, [t.module]);
        if (check.problems)
          throw new PlaybookError(check.problems.map((m) => `${at} on ${host.target.name}: ${m}`));
      }
    }
    return {
      name,
      hosts,
      serial: spec.serial,
      maxFailPercentage: spec.max_fail_percentage,
      forks: spec.forks ?? options.forks,
      tasks,
      handlers,
    };
  });
  if (plays.every((p) => p.hosts.length === 0))
    throw new PlaybookError(
      `${file}: no host matched any play${limitSet === undefined ? '' : ` within --limit ${[options.limit].flat().join(',')}`}`,
    );
  return {
    cluster: options.cluster,
    source: path.basename(file),
    check: options.check,
    diff: options.diff,
    tags: options.tags,
    plays,
  };
}
