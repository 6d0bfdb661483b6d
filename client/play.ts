import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { renderArgs } from '../activities/modules/render';
import { MODULE_NAMES, ModuleArgs, type ModuleName } from '../common/modules';
import type { PlayInput, PlaySpec, PlayTask } from '../common/play';
import { selectHosts, targetFor, varsOf, type Inventory } from './inventory';

export class PlaybookError extends Error {}

/** Ansible names that map onto our modules. */
const ALIASES: Record<string, ModuleName> = {
  apt: 'package',
  yum: 'package',
  dnf: 'package',
  systemd: 'service',
  properties: 'properties',
};
const TASK_KEYS = new Set(['name', 'notify', 'become', 'tags', 'ignore_errors', 'listen']);

const SerialSchema = z.union([
  z.number().int().positive(),
  z.string(),
  z.array(z.union([z.number().int().positive(), z.string()])).min(1),
]);
const PlaySchema = z.object({
  name: z.string().optional(),
  hosts: z.string().min(1),
  serial: SerialSchema.optional(),
  max_fail_percentage: z.number().min(0).max(100).optional(),
  vars: z.record(z.string(), z.unknown()).default({}),
  become: z.boolean().optional(),
  gather_facts: z.boolean().optional(),
  forks: z.number().int().positive().optional(),
  tasks: z.array(z.record(z.string(), z.unknown())).default([]),
  handlers: z.array(z.record(z.string(), z.unknown())).default([]),
});

const asList = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

function parseTask(
  raw: Record<string, unknown>,
  where: string,
  baseDir: string,
  playBecome?: boolean,
): PlayTask {
  const moduleKeys = Object.keys(raw).filter((k) => !TASK_KEYS.has(k));
  if (moduleKeys.length !== 1) {
    throw new PlaybookError(
      `${where}: a task names exactly one module (found ${moduleKeys.join(', ') || 'none'}); modules: ${MODULE_NAMES.join(', ')}`,
    );
  }
  const key = moduleKeys[0].replace(/^ansible\.(builtin|posix)\./, '').replace(/^community\.general\./, '');
  const module = (ALIASES[key] ?? key) as ModuleName;
  if (!ModuleArgs[module])
    throw new PlaybookError(
      `${where}: unknown module "${moduleKeys[0]}"; modules: ${MODULE_NAMES.join(', ')}`,
    );
  let args = raw[moduleKeys[0]];
  if (typeof args === 'string' && (module === 'command' || module === 'shell')) args = { cmd: args };
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    throw new PlaybookError(`${where}: ${module} arguments must be a mapping`);
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
  return {
    name: typeof raw.name === 'string' ? raw.name : `${module}`,
    module,
    args: args as Record<string, unknown>,
    // Handlers answer to their name and to `listen` topics.
    notify: [...asList(raw.notify), ...asList(raw.listen)],
    become: typeof raw.become === 'boolean' ? raw.become : playBecome,
    tags: asList(raw.tags),
    ignoreErrors: raw.ignore_errors === true,
  };
}

/**
 * Reads a playbook, resolves its hosts against the inventory, and validates every task's arguments
 * for every host (rendered with that host's vars) before anything runs.
 */
export function loadPlaybook(
  file: string,
  inv: Inventory,
  options: { limit?: string; check: boolean; diff: boolean; tags: string[]; forks: number; cluster: string },
): PlayInput {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PlaybookError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(doc)) throw new PlaybookError(`${file}: a playbook is a list of plays`);
  const limitSet = options.limit ? new Set(selectHosts(inv, options.limit)) : undefined;
  const plays: PlaySpec[] = doc.map((rawPlay, p) => {
    const parsed = PlaySchema.safeParse(rawPlay);
    const where = `${path.basename(file)}: play ${p + 1}`;
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new PlaybookError(`${where}: ${i.path.join('.') || 'play'}: ${i.message}`);
    }
    const spec = parsed.data;
    const name = spec.name ?? spec.hosts;
    const tasks = spec.tasks.map((t, i) =>
      parseTask(t, `${where} ("${name}") task ${i + 1}`, path.dirname(path.resolve(file)), spec.become),
    );
    const handlers = spec.handlers.map((t, i) =>
      parseTask(t, `${where} ("${name}") handler ${i + 1}`, path.dirname(path.resolve(file)), spec.become),
    );
    for (const t of tasks) {
      for (const n of t.notify) {
        if (!handlers.some((h) => h.name === n || h.notify.includes(n)))
          throw new PlaybookError(`${where}: task "${t.name}" notifies "${n}", which no handler answers`);
      }
    }
    const names = selectHosts(inv, spec.hosts).filter((h) => !limitSet || limitSet.has(h));
    const hosts = names.map((h) => ({
      target: targetFor(inv, h),
      vars: { ...varsOf(inv, h), ...spec.vars },
    }));
    for (const host of hosts) {
      for (const [i, t] of [...tasks, ...handlers].entries()) {
        let rendered: unknown;
        try {
          rendered = renderArgs(t.args, host.vars);
        } catch (err) {
          throw new PlaybookError(
            `${where} task ${i + 1} ("${t.name}") on ${host.target.name}: ${(err as Error).message.split('\n').pop()?.trim()}`,
          );
        }
        const check = ModuleArgs[t.module].safeParse(rendered);
        if (!check.success) {
          const issue = check.error.issues[0];
          throw new PlaybookError(
            `${where} task ${i + 1} ("${t.name}") on ${host.target.name}: ${t.module}.${issue.path.join('.') || 'args'}: ${issue.message}`,
          );
        }
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
      `${file}: no host matched any play${options.limit ? ` within --limit ${options.limit}` : ''}`,
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
