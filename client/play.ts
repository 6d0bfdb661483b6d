import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import type { PlayInput, PlaySpec } from '../common/play';
import { parseStrict } from '../common/parse-strict';
import { taskArguments } from '../common/task-arguments';
import { selectHosts, targetFor, varsOf, type Inventory } from './inventory';
import { checkTask, playTasks, type RawTask } from './play-tasks';
import { NOT_YET, PLAY_KEYS, PLAY_KEYS_NOT_YET, PlaySchema, unknownKey } from './playbook-keywords';

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
    // Pre-flight: every task on every host, as the activity will check it, before anything runs.
    for (const host of hosts) {
      for (const { t, at } of labelled) {
        const checked = taskArguments(t.module, t.args, host.vars);
        if (checked.problems)
          throw new PlaybookError(checked.problems.map((m) => `${at} on ${host.target.name}: ${m}`));
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
