import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import type { PlayInput, PlaySpec, PlayTask } from '../common/play';
import { parseStrict } from '../common/parse-strict';
import { taskArguments, unknownArguments } from '../common/task-arguments';
import { selectHosts, targetFor, varsOf, type Inventory } from './inventory';
import { playSections, type ScopedTask, type TaskScope } from './play-sections';
import { playTasks } from './play-tasks';
import { NOT_YET, PLAY_KEYS, PLAY_KEYS_NOT_YET, PlaySchema, unknownKey } from './playbook-keywords';

/** A role's task: the role's variables below its own, the role line's `when` and `tags` before its own. */
function inScope(task: PlayTask, scope: TaskScope | undefined): PlayTask {
  if (!scope) return task;
  const control = {
    ...task.control,
    defaults: scope.defaults,
    vars: { ...scope.vars, ...task.control?.vars },
    ...(scope.when.length ? { when: [...scope.when, ...(task.control?.when ?? [])] } : {}),
  };
  return { ...task, role: scope.role, tags: [...new Set([...scope.tags, ...task.tags])], control };
}

/** A play's `vars_files`, read beside the playbook; later files override earlier ones. */
function varsFiles(
  files: string | string[] | undefined,
  baseDir: string,
  where: string,
): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const f of [files ?? []].flat()) {
    if (f.includes('{{'))
      throw new PlaybookError(`${where}: vars_files: ${f}: a templated file name: ${NOT_YET}`);
    const file = path.resolve(baseDir, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PlaybookError(
        `${where}: vars_files: ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
    if (text.startsWith('$ANSIBLE_VAULT'))
      throw new PlaybookError(`${where}: vars_files: ${file}: an ansible-vault file: ${NOT_YET}`);
    const doc = parse(text);
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new PlaybookError(`${where}: vars_files: ${file}: a mapping of variables`);
    Object.assign(vars, doc);
  }
  return vars;
}

/** Names a run gives values to: what the play's tasks register or set with set_fact. */
function runtimeNames(tasks: PlayTask[]): string[] {
  return tasks.flatMap((t) => [
    ...(t.control?.register ? [t.control.register] : []),
    ...(t.module === 'set_fact' ? Object.keys(t.args) : []),
  ]);
}

/** Whether a template in the arguments names one of these variables. */
function mentions(args: unknown, names: string[]): boolean {
  if (!names.length) return false;
  const text = JSON.stringify(args);
  return names.some((n) => new RegExp(`\\b${n}\\b`).test(text));
}

export class PlaybookError extends Error {
  /** Every problem found, each naming the file, play, task and key. */
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.problems = list;
  }
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
    const sections = playSections(body, where, baseDir, problems);
    const spec = parsed.data;
    // Notifications need every handler; a task already refused is simply not looked at again.
    if (!sections.handlersComplete) return undefined;
    const { tasks, handlers } = playTasks(
      sections.tasks.map((t) => t.raw),
      sections.handlers.map((t) => t.raw),
      spec?.become,
      problems,
    );
    const scoped = (list: PlayTask[], from: ScopedTask[]) =>
      list.map((t, i) => ({
        task: { ...inScope(t, from[i].scope), ...(from[i].blocks ? { blocks: from[i].blocks } : {}) },
        at: from[i].raw.at,
      }));
    if (!spec) return undefined;
    return {
      spec,
      where,
      tasks: scoped(tasks, sections.tasks),
      handlers: scoped(handlers, sections.handlers),
      flushAfter: sections.flushAfter,
    };
  });
  if (problems.length) throw new PlaybookError(problems);

  const limitSet =
    options.limit === undefined || options.limit === ''
      ? undefined
      : new Set(Array.isArray(options.limit) ? options.limit : selectHosts(inv, options.limit));
  const plays: PlaySpec[] = structured.map((play) => {
    const { spec, tasks: scopedTasks, handlers: scopedHandlers, flushAfter } = play!;
    const tasks = scopedTasks.map((t) => t.task);
    const handlers = scopedHandlers.map((t) => t.task);
    const name = spec.name ?? spec.hosts;
    const filesVars = varsFiles(spec.vars_files, baseDir, play!.where);
    const names = selectHosts(inv, spec.hosts).filter((h) => !limitSet || limitSet.has(h));
    const hosts = names.map((h) => ({
      target: targetFor(inv, h),
      vars: { ...varsOf(inv, h), ...spec.vars, ...filesVars, ...options.extraVars },
    }));
    const labelled = [...scopedTasks, ...scopedHandlers].map(({ task: t, at }) => ({
      t,
      at: `${at} ("${t.name}")`,
    }));
    // Pre-flight: every task on every host, as the activity will check it, before anything runs.
    // A task whose arguments depend on the run (a loop item, a registered result, a fact it sets,
    // a condition that may skip it) has only its keys checked here; the rest when it runs.
    const runtime = runtimeNames([...tasks, ...handlers]);
    for (const host of hosts) {
      for (const { t, at } of labelled) {
        const deferred = Boolean(t.control?.when || t.control?.loop) || mentions(t.args, runtime);
        const problems = deferred
          ? unknownArguments(t.module, t.args)
          : taskArguments(t.module, t.args, { ...t.control?.defaults, ...host.vars, ...t.control?.vars })
              .problems;
        if (problems?.length)
          throw new PlaybookError(problems.map((m) => `${at} on ${host.target.name}: ${m}`));
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
      ...(flushAfter.length ? { flushAfter } : {}),
      ...(spec.gather_facts === true || spec.gather_facts === 'yes' || spec.gather_facts === 'true'
        ? { gatherFacts: true }
        : {}),
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
