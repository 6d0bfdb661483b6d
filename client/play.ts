import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlayInput, PlaySpec, PlayTask } from '../common/play';
import { parseStrict } from '../common/parse-strict';
import { taskArguments, unknownArguments } from '../common/task-arguments';
import { selectHosts, targetFor, varsOf, type Inventory } from './inventory';
import { playSections, type ScopedTask, type TaskScope } from './play-sections';
import { playTasks } from './play-tasks';
import { located } from './task-location';
import { playEntries } from './import-playbook';
import { runDependence } from './run-dependent';
// The digest and path filters, for the pre-flight render of every task (as the worker has them).
import '../activities/worker-filters';
import { delegation } from './delegation';
import { groupsOf, inventoryHostvars, magicVars, mentionsName } from './magic-vars';
import { dependsOnVault, readVarsText, sealVaulted, VaultOpenError } from './vault';
import {
  NOT_YET,
  PLAY_KEYS,
  PLAY_KEYS_NOT_YET,
  PlaySchema,
  REMOVED_FROM_ANSIBLE,
  unknownKey,
} from './playbook-keywords';

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
    let doc: unknown;
    try {
      doc = readVarsText(text);
    } catch (err) {
      if (!(err instanceof VaultOpenError)) throw err;
      throw new PlaybookError(`${where}: vars_files: ${file}: ${err.message}`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new PlaybookError(`${where}: vars_files: ${file}: a mapping of variables`);
    Object.assign(vars, doc);
  }
  return vars;
}

/** Names a run gives values to: what the play's tasks register or set with set_fact. */
function runtimeNames(tasks: PlayTask[]): string[] {
  return [
    // What a rescue sees of the failure (set by the play workflow).
    'ansible_failed_task',
    'ansible_failed_result',
    ...tasks.flatMap((t) => [
      ...(t.control?.register ? [t.control.register] : []),
      ...(t.module === 'set_fact' ? Object.keys(t.args) : []),
    ]),
  ];
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
  // Every key of every play, task and handler first, each problem at once, before any host is looked at.
  const problems: string[] = [];
  const entries = playEntries(file, problems);
  if (problems.length) throw new PlaybookError(problems);
  const structured = entries.map(({ raw: rawPlay, file: playFile, baseDir, index: p }) => {
    const base = path.basename(playFile);
    if (rawPlay === null || typeof rawPlay !== 'object' || Array.isArray(rawPlay)) {
      problems.push(`${base}: play ${p + 1}: a play is a mapping of keys`);
      return undefined;
    }
    const label = (rawPlay as { name?: unknown }).name ?? (rawPlay as { hosts?: unknown }).hosts;
    const where = `${base}: play ${p + 1}${typeof label === 'string' ? ` ("${label}")` : ''}`;
    const body = rawPlay as Record<string, unknown>;
    const imports = ['include', 'include_playbook'].filter((k) => k in body);
    // A playbook entry that imports another is not a play: its missing hosts are no news.
    if (imports.length) {
      problems.push(...imports.map((k) => `${where}: ${k}: ${REMOVED_FROM_ANSIBLE[k]}`));
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
        task: located(
          {
            ...inScope(t, from[i].scope),
            ...(from[i].blocks ? { blocks: from[i].blocks } : {}),
            ...(from[i].guards ? { guards: from[i].guards } : {}),
          },
          from[i],
          baseDir,
        ),
        at: from[i].raw.at,
      }));
    if (!spec) return undefined;
    return {
      spec,
      baseDir,
      roleDefaults: sections.roleDefaults,
      roleVars: sections.roleVars,
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
    const {
      spec,
      baseDir,
      roleDefaults,
      roleVars,
      tasks: scopedTasks,
      handlers: scopedHandlers,
      flushAfter,
    } = play!;
    const playTags = [spec.tags ?? []]
      .flat()
      .flatMap((t) => String(t).split(','))
      .map((t) => t.trim());
    const tasks = scopedTasks.map((t) =>
      playTags.length ? { ...t.task, tags: [...new Set([...playTags, ...t.task.tags])] } : t.task,
    );
    const handlers = scopedHandlers.map((t) => t.task);
    // Extra vars are above every other variable: a role's or task's own value of one gives way.
    const extra = Object.keys(options.extraVars ?? {});
    if (extra.length)
      for (const t of [...tasks, ...handlers])
        if (t.control?.vars)
          t.control.vars = Object.fromEntries(
            Object.entries(t.control.vars).filter(([k]) => !extra.includes(k)),
          );
    const name = spec.name ?? spec.hosts;
    const filesVars = varsFiles(spec.vars_files, baseDir, play!.where);
    const names = selectHosts(inv, spec.hosts).filter((h) => !limitSet || limitSet.has(h));
    const run = { playbookDir: baseDir, check: options.check, diff: options.diff, playHosts: names };
    const hosts = names.map((h) => ({
      target: targetFor(inv, h),
      vars: {
        ...roleDefaults,
        ...varsOf(inv, h),
        ...spec.vars,
        ...filesVars,
        ...roleVars,
        ...magicVars(inv, h, run),
        ...options.extraVars,
      },
    }));
    // groups and hostvars only travel with the tasks of a play that reads them (they are large).
    const read = [...tasks, ...handlers, spec.vars, filesVars, ...hosts.map((h) => h.vars)];
    const reads = (['ansible_play_hosts', 'ansible_play_batch'] as const).filter((n) =>
      mentionsName(read, n),
    );
    if (mentionsName(read, 'groups')) {
      const groups = groupsOf(inv);
      for (const h of hosts) h.vars.groups = groups;
    }
    const hostvars = mentionsName(read, 'hostvars') ? inventoryHostvars(inv, options.extraVars) : undefined;
    const delegated = delegation(
      [...tasks, ...handlers],
      hosts,
      inv,
      runtimeNames([...tasks, ...handlers]),
      problems,
    );
    if (problems.length) throw new PlaybookError(problems);
    const labelled = [...scopedTasks, ...scopedHandlers].map(({ task: t, at }) => ({
      t,
      at: `${at} ("${t.name}")`,
    }));
    // Pre-flight: every task on every host, as the activity will check it, before anything runs.
    // A task whose arguments depend on the run (a loop item, a registered result, a fact it sets,
    // a condition that may skip it) has only its keys checked here; the rest when it runs.
    const runtime = runtimeNames([...tasks, ...handlers]);
    const gathers = !(
      spec.gather_facts === false ||
      spec.gather_facts === 'no' ||
      spec.gather_facts === 'false'
    );
    // A setup task gives facts mid-play, as gathering does at the start.
    const factsAtRun = gathers || [...tasks, ...handlers].some((t) => t.module === 'setup');
    const scopes = [...tasks, ...handlers].map((t) => ({ ...t.control?.defaults, ...t.control?.vars }));
    for (const host of hosts) {
      const runDependent = runDependence(runtime, Object.assign({}, ...scopes, host.vars), factsAtRun);
      for (const { t, at } of labelled) {
        const deferred =
          Boolean(t.control?.when || t.control?.loop) ||
          runDependent(t.args) ||
          dependsOnVault(t.args, host.vars, t.control);
        const problems = deferred
          ? unknownArguments(t.module, t.args)
          : taskArguments(t.module, t.args, {
              ...t.control?.defaults,
              ...host.vars,
              ...(hostvars ? { hostvars } : {}),
              ...t.control?.vars,
            }).problems;
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
      // Ansible gathers unless the play says no.
      ...(gathers ? { gatherFacts: true } : {}),
      ...(Object.keys(delegated).length ? { delegateTargets: delegated } : {}),
      ...(reads.length ? { reads: [...reads] } : {}),
      ...(spec.strategy === 'free' ? { strategy: 'free' as const } : {}),
      ...(hostvars ? { hostvars } : {}),
    };
  });
  if (plays.every((p) => p.hosts.length === 0))
    throw new PlaybookError(
      `${file}: no host matched any play${limitSet === undefined ? '' : ` within --limit ${[options.limit].flat().join(',')}`}`,
    );
  return sealVaulted({
    cluster: options.cluster,
    source: path.basename(file),
    check: options.check,
    diff: options.diff,
    tags: options.tags,
    plays,
  });
}
