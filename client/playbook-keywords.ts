import { z } from 'zod';
import { ModuleArgs, type ModuleName } from '../common/modules';
import { suggest } from '../common/suggest';

// The playbook language as one table per level, as ansible-core declares it: what we run, and
// what Ansible has that we do not run yet. A key of the second kind is refused before anything
// runs, never skipped: a play with `become_user: nobody` must not quietly run as root.

/** Ansible names that map onto our modules. */
export const ALIASES: Record<string, ModuleName> = {
  apt: 'package',
  yum: 'package',
  dnf: 'package',
  systemd: 'service',
  properties: 'properties',
};

/** Play keys we implement. `forks` is ours (ansible-playbook's -f, per play). */
export const PLAY_KEYS = [
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
  'pre_tasks',
  'post_tasks',
  'roles',
  'vars_files',
];
/** Who runs a task and how it connects, at play and task level alike: not ours yet. */
const WHO_AND_HOW_KEYS_NOT_YET = [
  'become_user',
  'become_method',
  'become_flags',
  'become_exe',
  'remote_user',
  'connection',
  'port',
];
/** Ansible's play keywords (and playbook entries) that we refuse until they are implemented. */
export const PLAY_KEYS_NOT_YET = [
  'import_playbook',
  'include',
  'include_playbook',
  ...WHO_AND_HOW_KEYS_NOT_YET,
  'environment',
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
export const TASK_KEYS = [
  'name',
  'notify',
  'become',
  'tags',
  'ignore_errors',
  'when',
  'register',
  'loop',
  'with_items',
  'with_dict',
  'loop_control',
  'until',
  'retries',
  'delay',
  'changed_when',
  'failed_when',
  'vars',
  'no_log',
];
/** Ansible's task keywords that we refuse until they are implemented. */
export const TASK_KEYS_NOT_YET = [
  'delegate_to',
  'delegate_facts',
  'local_action',
  'run_once',
  'environment',
  ...WHO_AND_HOW_KEYS_NOT_YET,
  'check_mode',
  'diff',
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
export const ACTIONS_NOT_YET = [
  'include',
  'include_tasks',
  'import_tasks',
  'include_role',
  'import_role',
  'import_playbook',
  'set_stats',
  'meta',
  'add_host',
  'group_by',
  'setup',
  'gather_facts',
  'ping',
  'raw',
  'script',
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

export const NOT_YET = 'not supported yet';
export const moduleKey = (key: string) =>
  key.replace(/^ansible\.(builtin|posix)\./, '').replace(/^community\.general\./, '');
export const moduleOf = (key: string): ModuleName | undefined => {
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
/** A condition or a list of them (AND): bare Jinja expressions, or booleans. */
const Conditions = z
  .union([z.string(), z.boolean(), z.array(z.union([z.string(), z.boolean()]))])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const VarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits and _');
const Count = z.union([z.number().int().min(0), z.string().regex(/^\d+$/).transform(Number)]);
const Seconds = z.union([
  z.number().min(0),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);
// A list, or an expression that gives one ("{{ users }}", or a bare name as older plays write it).
const LoopList = z.union([z.array(z.unknown()), z.string()]);

export const TaskKeywordsSchema = z.strictObject({
  name: z.union([z.string(), z.number().transform(String)]).optional(),
  notify: Names.optional(),
  listen: Names.optional(),
  become: Bool.optional(),
  // Ansible splits a string of tags at commas.
  tags: Names.optional(),
  ignore_errors: Bool.optional(),
  when: Conditions.optional(),
  register: VarName.optional(),
  loop: LoopList.optional(),
  with_items: LoopList.optional(),
  with_dict: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  loop_control: z
    .strictObject({
      loop_var: VarName.optional(),
      index_var: VarName.optional(),
      label: z.string().optional(),
    })
    .optional(),
  until: Conditions.optional(),
  retries: Count.optional(),
  delay: Seconds.optional(),
  changed_when: Conditions.optional(),
  failed_when: Conditions.optional(),
  vars: z.record(VarName, z.unknown()).optional(),
  no_log: Bool.optional(),
});

const SerialSchema = z.union([
  z.number().int().positive(),
  z.string(),
  z.array(z.union([z.number().int().positive(), z.string()])).min(1),
]);
export const PlaySchema = z.strictObject({
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
  // Ansible gathers by default; here a play asks for it (README: a difference on purpose, for now).
  gather_facts: z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false'])]).optional(),
  forks: z.number().int().positive().optional(),
  tasks: z.array(z.unknown()).nullable().default([]),
  handlers: z.array(z.unknown()).nullable().default([]),
  pre_tasks: z.array(z.unknown()).nullable().default([]),
  post_tasks: z.array(z.unknown()).nullable().default([]),
  roles: z.array(z.unknown()).nullable().default([]),
  vars_files: z.union([z.string(), z.array(z.string())]).optional(),
});

/** An unknown key: the known one it most likely meant, else what is known (`what`). */
export function unknownKey(key: string, known: readonly string[], what: string): string {
  const meant = suggest(key, known);
  return `${key}: unknown key${meant ? `; did you mean ${meant}?` : ` (${what})`}`;
}
