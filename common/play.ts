import type { HostTarget } from './hosts';
import type { ModuleName, ModuleResult } from './modules';
import type { ResultEnvelope } from './progress';
import type { BlockPlace } from './blocks';
import type { TaskControl } from './task-control';

/** How many hosts per batch: a number, a percentage, or a ramp whose last step repeats (`[1, "25%", "50%"]`). */
export type Serial = number | string | (number | string)[];

export interface PlayTask {
  name: string;
  module: ModuleName;
  args: Record<string, unknown>;
  /** Names of the handlers it notifies when it changes something; `listen` topics already resolved to them. */
  notify: string[];
  become?: boolean;
  tags: string[];
  ignoreErrors: boolean;
  /** when, register, loop, until, changed_when, failed_when, vars: absent when the task has none. */
  control?: TaskControl;
  /** The role it comes from, for output and `--list-tasks`. */
  role?: string;
  /** Where it is written (`site.yml: play 1 ("web") task 2`), shown at -vv. */
  path?: string;
  /** The blocks it sits in, outermost first, and in which part of each (block, rescue, always). */
  blocks?: BlockPlace[];
  /** become_user / become_method: whom `become` becomes, and how. */
  becomeUser?: string;
  becomeMethod?: 'sudo' | 'su';
  /** remote_user: who logs in over SSH for this task. */
  remoteUser?: string;
  /** environment: variables every command of the task sees (values are templates). */
  environment?: Record<string, string>;
  /** check_mode / diff on the task: over the run's --check / --diff. */
  check?: boolean;
  diff?: boolean;
  /** An unreachable host stays in the play. */
  ignoreUnreachable?: boolean;
  /** A failed host ends the play for every host. */
  anyErrorsFatal?: boolean;
  /** Runs on the first host of the batch; what it registers and sets applies to every host. */
  runOnce?: boolean;
  /** delegate_to as written (a template); the client resolves it per host into `delegates`. */
  delegateTo?: string;
  /** Per host of the play, the inventory host (or `localhost`) the task runs on instead. */
  delegates?: Record<string, string>;
  /** Conditions that pick it among the files of a templated include: a skip by one is not reported. */
  guards?: string[];
}

export interface PlayHost {
  target: HostTarget;
  vars: Record<string, unknown>;
}

export interface PlaySpec {
  name: string;
  hosts: PlayHost[];
  serial?: Serial;
  /** Stop the play when more than this percentage of a batch failed. Without it, only a fully failed batch stops it. */
  maxFailPercentage?: number;
  forks: number;
  tasks: PlayTask[];
  handlers: PlayTask[];
  /** Indexes into `tasks` after which the notified handlers run (end of pre_tasks, of tasks, flush_handlers). */
  flushAfter?: number[];
  /** `gather_facts: true`: each host's facts as ansible_* variables before the first task. */
  gatherFacts?: boolean;
  /** Where delegated tasks run: the hosts named by any task's delegate_to, `localhost` the worker. */
  delegateTargets?: Record<string, HostTarget>;
  /** `strategy: free`: each host runs its tasks as fast as it can, not waiting for the others. */
  strategy?: 'linear' | 'free';
  /** Every inventory host's variables, for tasks that read `hostvars` (only when one does). */
  hostvars?: Record<string, Record<string, unknown>>;
  /** The run-time magic variables the play reads, so only those travel with each task. */
  reads?: ('ansible_play_hosts' | 'ansible_play_batch')[];
}

export interface PlayInput {
  cluster: string;
  source: string;
  check: boolean;
  diff: boolean;
  tags: string[];
  plays: PlaySpec[];
}

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export interface HostTaskResult {
  host: string;
  status: TaskStatus;
  result?: ModuleResult;
  /** Why a host failed or was unreachable when there is no module result. */
  reason?: string;
  /** A failure that ignore_errors let pass (its status is ok). */
  ignored?: boolean;
}

export interface TaskReport {
  play: string;
  task: string;
  handler: boolean;
  hosts: HostTaskResult[];
  /** Where the task is written, and its module: what -vv and -vvv show. */
  path?: string;
  module?: string;
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  /** Failures a block's rescue recovered (only when there were some). */
  rescued?: number;
  /** Failures `ignore_errors` let pass (counted ok too, as in ansible-core; only when there were some). */
  ignored?: number;
}

export interface BatchResult {
  tasks: TaskReport[];
  recap: Record<string, HostRecap>;
  /** any_errors_fatal: why the whole play stopped. */
  fatal?: string;
  /** meta: end_play ran: the play's later batches do not run. */
  endPlay?: boolean;
}

export interface PlayResult extends ResultEnvelope {
  tasks: TaskReport[];
  recap: Record<string, HostRecap>;
  /** Set when a failure budget stopped a play before all its batches ran. */
  aborted?: string;
}

export const emptyRecap = (): HostRecap => ({ ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 });

function batchSize(step: number | string, total: number): number {
  if (typeof step === 'number') return Math.max(1, Math.floor(step));
  const m = /^(\d+(?:\.\d+)?)%$/.exec(step.trim());
  if (!m) throw new Error(`serial step "${step}" is neither a number nor a percentage`);
  return Math.max(1, Math.floor((Number(m[1]) / 100) * total));
}

/** Ansible's batching: splits hosts into consecutive batches by `serial`. */
export function serialBatches<T>(hosts: readonly T[], serial?: Serial): T[][] {
  if (serial === undefined || hosts.length === 0) return hosts.length ? [hosts.slice()] : [];
  const steps = Array.isArray(serial) ? serial : [serial];
  if (steps.length === 0) return [hosts.slice()];
  const batches: T[][] = [];
  let at = 0;
  for (let i = 0; at < hosts.length; i++) {
    const size = batchSize(steps[Math.min(i, steps.length - 1)], hosts.length);
    batches.push(hosts.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** A task runs when no tags were asked for, when its tags meet the asked ones, or when tagged `always`. */
export function taskSelected(task: Pick<PlayTask, 'tags'>, tags: readonly string[]): boolean {
  // Ansible's special tags: `always` runs unless skipped by name, `never` only when asked for.
  if (task.tags.includes('always')) return true;
  const never = task.tags.includes('never');
  if (tags.length === 0 || tags.includes('all')) return !never;
  if (tags.includes('tagged') && task.tags.length && !never) return true;
  if (tags.includes('untagged') && task.tags.length === 0) return true;
  return task.tags.some((t) => t !== 'never' && tags.includes(t)) || (never && tags.includes('never'));
}

/** True when the failures of one batch exceed the play's failure budget. */
export function overFailureBudget(failed: number, batchTotal: number, maxFailPercentage?: number): boolean {
  if (batchTotal === 0) return false;
  if (maxFailPercentage === undefined) return failed === batchTotal;
  return (failed / batchTotal) * 100 > maxFailPercentage;
}

export function statusOf(result: ModuleResult): TaskStatus {
  if (result.failed) return 'failed';
  if (result.skipped) return 'skipped';
  return result.changed ? 'changed' : 'ok';
}

export function addToRecap(
  recap: Record<string, HostRecap>,
  host: string,
  status: TaskStatus,
  ignored = false,
): void {
  const r = (recap[host] ??= emptyRecap());
  if (ignored) r.ignored = (r.ignored ?? 0) + 1;
  if (status === 'changed') {
    r.changed++;
    r.ok++;
  } else {
    r[status]++;
  }
}
