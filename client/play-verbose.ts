import type { HostTarget } from '../common/hosts';
import { WORKER_MODULES, type ModuleName, type ModuleResult } from '../common/modules';
import { statusOf, type HostTaskResult, type PlayInput, type TaskReport } from '../common/play';
import { HIDDEN, registeredValue } from '../common/task-control';

// What ansible-playbook adds with -v, -vv and -vvv: each host's result dict after its status
// (`changed: [node1] => {"changed": true, ...}`, indented at -vvv), the task's path, and how the
// host is reached. `debug` shows its message at every verbosity, as Ansible's does.

export interface Verbosity {
  /** How many -v were given. */
  level: number;
  /** Each inventory host's connection, for -vvv. */
  targets?: ReadonlyMap<string, HostTarget>;
}

/** JSON laid out as Python's json.dumps(sort_keys=True) does, as ansible-playbook prints results. */
export function pythonJson(value: unknown, indent?: number, depth = 0): string {
  const pad = (d: number) => (indent ? `\n${' '.repeat(indent * d)}` : '');
  const join = (parts: string[], open: string, close: string) =>
    parts.length === 0
      ? `${open}${close}`
      : `${open}${pad(depth + 1)}${parts.join(indent ? `,${pad(depth + 1)}` : ', ')}${pad(depth)}${close}`;
  if (Array.isArray(value))
    return join(
      value.map((v) => pythonJson(v, indent, depth + 1)),
      '[',
      ']',
    );
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return join(
      entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v, indent, depth + 1)}`),
      '{',
      '}',
    );
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** The dict Ansible shows for one result: what `register` would store, less what the status line says. */
export function resultDict(result: ModuleResult, module?: string): object {
  if (result.msg === HIDDEN) return { censored: HIDDEN, changed: result.changed };
  if (module === 'debug' && result.data) return result.data;
  const shown = registeredValue(result);
  // The status word says failed and skipped already; a loop's items have lines of their own.
  for (const k of ['results', 'skipped', ...(shown.failed ? [] : ['failed'])]) delete shown[k];
  if (result.skipped && shown.msg === shown.skip_reason) delete shown.msg;
  return shown;
}

const label = (item: unknown) => (typeof item === 'string' ? item : pythonJson(item ?? null));

/** Each host's connection, from the plays it is in. */
export const targetsOf = (input: PlayInput): Map<string, HostTarget> =>
  new Map(input.plays.flatMap((p) => p.hosts.map((h) => [h.target.name, h.target] as const)));

/** How a host is reached, as -vvv shows it; nothing for a module that runs on the worker. */
export function connectionLine(target: HostTarget | undefined, module?: string): string | undefined {
  if (!target || (module && WORKER_MODULES.includes(module as ModuleName))) return undefined;
  if (target.connection === 'local') return `<${target.name}> LOCAL: commands run on the worker`;
  const jump = target.jump ? ` via ${target.jump.user}@${target.jump.address}:${target.jump.port}` : '';
  const become = target.become ? `, become ${target.become.user}` : '';
  return `<${target.address}> SSH: ${target.user}@${target.address}:${target.port}${jump}${become}`;
}

/** Whether a host's lines carry the result dict: with -v, and for debug always. */
export const showsResult = (t: TaskReport, v: Verbosity) => v.level >= 1 || t.module === 'debug';

/** One host's lines for a task: per loop item when it looped, else one, each `=> {result}`. */
export function verboseHostLines(t: TaskReport, h: HostTaskResult, v: Verbosity): string[] {
  // Ansible indents at -vvv, and always for debug.
  const indent = v.level >= 3 || t.module === 'debug' ? 4 : undefined;
  const items = h.result?.results;
  if (items?.length)
    return items.map(
      (r) =>
        `${statusOf(r)}: [${h.host}] => (item=${r.msg === HIDDEN ? 'None' : label(r.item)}) => ${pythonJson(resultDict(r, t.module), indent)}`,
    );
  const dict = h.result
    ? resultDict(h.result, t.module)
    : { changed: false, msg: h.reason ?? '', ...(h.status === 'unreachable' ? { unreachable: true } : {}) };
  return [`${h.status}: [${h.host}] => ${pythonJson(dict, indent)}`];
}
