import { z } from 'zod';
import { ModuleArgs, type ModuleName } from '../common/modules';
import { suggest } from '../common/suggest';
import { WITH_LOOKUP_KEYS } from '../common/lookup-loops';
import { withLookupKeywords } from './lookup-keywords';

// The playbook language as one table per level, as ansible-core declares it: what we run, and
// what Ansible has that we do not run yet. A key of the second kind is refused before anything
// runs, never skipped: a play with `become_user: nobody` must not quietly run as root.

/** Ansible names that map onto our modules. */
export const ALIASES: Record<string, ModuleName> = {
  yum: 'package',
  dnf: 'package',
  systemd_service: 'systemd',
  gather_facts: 'setup',
  properties: 'properties',
};

/**
 * Keywords a play, a role line, a block or an include gives every task inside it (the task's own
 * value wins; `environment` is merged, the inner value over the outer), as ansible-core inherits them.
 */
export const INHERITED_KEYS = [
  'become',
  'become_user',
  'become_method',
  'remote_user',
  'environment',
  'check_mode',
  'diff',
  'ignore_errors',
  'ignore_unreachable',
  'any_errors_fatal',
  'no_log',
  'run_once',
  'delegate_to',
];

/** Play keys we implement. `forks` is ours (ansible-playbook's -f, per play). */
export const PLAY_KEYS = [
  'name',
  'hosts',
  'serial',
  'max_fail_percentage',
  'vars',
  'gather_facts',
  'gather_subset',
  'gather_timeout',
  'forks',
  'tasks',
  'handlers',
  'pre_tasks',
  'post_tasks',
  'roles',
  'vars_files',
  'tags',
  'strategy',
  ...INHERITED_KEYS.filter((k) => k !== 'delegate_to'),
];
/** How a task connects, at play and task level alike: not ours yet. */
const WHO_AND_HOW_KEYS_NOT_YET = ['become_flags', 'become_exe', 'connection', 'port'];
/** Ansible's play keywords (and playbook entries) that we refuse until they are implemented. */
export const PLAY_KEYS_NOT_YET = [
  'include',
  'include_playbook',
  ...WHO_AND_HOW_KEYS_NOT_YET,
  'vars_prompt',
  'serial_strategy',
  'order',
  'throttle',
  'timeout',
  'collections',
  'module_defaults',
  'force_handlers',
  'debugger',
  'fact_path',
];
/** Task keys we implement; a handler also takes `listen`. */
export const TASK_KEYS = [
  'name',
  'notify',
  'tags',
  'when',
  'register',
  'loop',
  'with_items',
  'with_dict',
  ...WITH_LOOKUP_KEYS,
  'loop_control',
  'until',
  'retries',
  'delay',
  'changed_when',
  'failed_when',
  'vars',
  ...INHERITED_KEYS,
];
/** Ansible's task keywords that we refuse until they are implemented. */
export const TASK_KEYS_NOT_YET = [
  'delegate_facts',
  ...WHO_AND_HOW_KEYS_NOT_YET,
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
  'include_tasks',
  'import_tasks',
  'import_playbook',
  'set_stats',
  'add_host',
  'group_by',
  'fetch',
  'git',
  'yum_repository',
  'pip',
  'hostname',
  'synchronize',
];

export const NOT_YET = 'not supported yet';
/** What ansible-core itself removed, with its advice: old roles still carry it, and fail there too. */
export const REMOVED_FROM_ANSIBLE: Record<string, string> = {
  include: 'removed from ansible-core in 2.16; use include_tasks or import_tasks',
  include_playbook: 'removed from ansible-core; use import_playbook',
};
export const moduleKey = (key: string) =>
  key
    .replace(/^ansible\.(builtin|posix)\./, '')
    .replace(/^community\.(general|mysql)\./, '')
    .replace(/^gluster\.gluster\./, '');
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

const UserName = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$|\{\{/, 'a user name');
/** `environment:` a mapping of names to values (templates allowed). */
const Environment = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name: letters, digits and _'),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
  { error: 'a mapping of environment variable names to values' },
);

/** The inherited keywords' schemas: the same at play, block, role line and task. */
function inheritedSchema() {
  return {
    become: Bool.optional(),
    become_user: UserName.optional(),
    become_method: z
      .enum(['sudo', 'su'], { error: 'sudo or su (other become methods are not supported yet)' })
      .optional(),
    remote_user: UserName.optional(),
    environment: Environment.optional(),
    check_mode: Bool.optional(),
    diff: Bool.optional(),
    ignore_errors: Bool.optional(),
    ignore_unreachable: Bool.optional(),
    any_errors_fatal: Bool.optional(),
    // Roles template it (`no_log: "{{ secret_no_log }}"`): evaluated on the worker for each host.
    no_log: z.union([Bool, z.string().regex(/\{\{/, 'true, false or a template')]).optional(),
    run_once: Bool.optional(),
    delegate_to: z.string().min(1).optional(),
  };
}

/** One inherited keyword's value is valid (else it is reported where it is written, once). */
export function validInherited(key: string, value: unknown): boolean {
  const schema = (inheritedSchema() as Record<string, z.ZodType>)[key];
  return !!schema && schema.safeParse(value).success;
}

export const TaskKeywordsSchema = z.strictObject({
  name: z.union([z.string(), z.number().transform(String)]).optional(),
  notify: Names.optional(),
  listen: Names.optional(),
  // Ansible splits a string of tags at commas.
  tags: Names.optional(),
  when: Conditions.optional(),
  register: VarName.optional(),
  loop: LoopList.optional(),
  with_items: LoopList.optional(),
  with_dict: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  ...withLookupKeywords,
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
  ...inheritedSchema(),
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
  // Gathered unless the play says no, as in Ansible.
  gather_facts: z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false'])]).optional(),
  // Accepted: every subset gets the one set of facts clusterflow gathers in one round trip.
  gather_subset: z.union([z.string(), z.array(z.string())]).optional(),
  gather_timeout: z.number().positive().optional(),
  tags: Names.optional(),
  strategy: z
    .enum(['linear', 'free'], { error: 'linear or free (other strategies are not supported yet)' })
    .optional(),
  ...(({ delegate_to: _, ...rest }) => rest)(inheritedSchema()),
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
