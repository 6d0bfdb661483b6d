import { z } from 'zod';
import { FileModeSchema } from './file-mode';

// What Ansible's argument spec converts for a module: a value templated from an INI inventory or
// a quoted YAML scalar arrives as text ("8080", "yes"), and an int or bool option still takes it.
const BOOL_TRUE = /^(y|yes|on|1|true|t)$/i;
const BOOL_FALSE = /^(n|no|off|0|false|f)$/i;
const Bool = z.union([z.boolean(), z.number(), z.string()]).transform((v, ctx): boolean => {
  if (typeof v === 'boolean') return v;
  const text = String(v).trim();
  if (BOOL_TRUE.test(text)) return true;
  if (BOOL_FALSE.test(text)) return false;
  ctx.addIssue({
    code: 'custom',
    message: `expected a boolean (true/false, yes/no), got ${JSON.stringify(v)}`,
  });
  return z.NEVER;
});

function numeric(inner: z.ZodNumber) {
  return z
    .union([z.number(), z.string()])
    .transform((v, ctx): number => {
      if (typeof v === 'number') return v;
      if (/^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(v)) return Number(v);
      ctx.addIssue({ code: 'custom', message: `expected a number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    })
    .pipe(inner);
}

const Owner = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/, 'not a valid user or group name');
const AbsPath = z.string().regex(/^\//, 'must be an absolute path');

const Attributes = { owner: Owner.optional(), group: Owner.optional(), mode: FileModeSchema.optional() };

const Guards = {
  creates: AbsPath.optional(),
  removes: AbsPath.optional(),
  chdir: AbsPath.optional(),
};

export const CommandArgs = z
  .strictObject({
    cmd: z.string().min(1).optional(),
    argv: z.array(z.string()).min(1).optional(),
    stdin: z.string().optional(),
    ...Guards,
  })
  .refine((a) => Boolean(a.cmd) !== Boolean(a.argv), 'give exactly one of cmd or argv');

export const ShellArgs = z.strictObject({ cmd: z.string().min(1), stdin: z.string().optional(), ...Guards });

export const FileArgs = z
  .strictObject({
    path: AbsPath,
    state: z.enum(['file', 'directory', 'absent', 'link', 'touch']).default('file'),
    src: z.string().optional(),
    ...Attributes,
  })
  .refine((a) => a.state !== 'link' || Boolean(a.src), 'state=link needs src');

/** copy writes `content` or a worker-side `src` file as is; template renders it with host vars first. */
const FileContentArgs = z
  .strictObject({
    dest: AbsPath,
    content: z.string().optional(),
    /** A file on the worker's machine (a relative path is resolved beside the playbook). */
    src: z.string().optional(),
    backup: Bool.default(false),
    ...Attributes,
  })
  .refine((a) => (a.content === undefined) !== (a.src === undefined), 'give exactly one of content or src');

export const CopyArgs = FileContentArgs;
export const TemplateArgs = FileContentArgs;

/** What lineinfile and blockinfile share: where to insert, whether to create, and the file's attributes. */
const TextEdit = {
  path: AbsPath,
  state: z.enum(['present', 'absent']).default('present'),
  insertafter: z.string().optional(),
  insertbefore: z.string().optional(),
  create: Bool.default(false),
  backup: Bool.default(false),
  ...Attributes,
};

export const LineInFileArgs = z
  .strictObject({ ...TextEdit, line: z.string().optional(), regexp: z.string().optional() })
  .refine((a) => a.state === 'absent' || a.line !== undefined, 'state=present needs line')
  .refine((a) => !(a.insertafter && a.insertbefore), 'give at most one of insertafter or insertbefore');

export const BlockInFileArgs = z
  .strictObject({
    ...TextEdit,
    block: z.string().default(''),
    marker: z.string().default('# {mark} CLUSTERFLOW MANAGED BLOCK'),
  })
  .refine((a) => !(a.insertafter && a.insertbefore), 'give at most one of insertafter or insertbefore');

const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const PropertiesArgs = z.strictObject({
  path: AbsPath,
  set: z.record(z.string(), Scalar).default({}),
  remove: z.array(z.string()).default([]),
  separator: z.string().default('='),
  create: Bool.default(true),
  backup: Bool.default(false),
  ...Attributes,
});

export const IniArgs = z.strictObject({
  path: AbsPath,
  /** section -> option -> value; a null value removes the option. */
  settings: z.record(z.string(), z.record(z.string(), z.union([Scalar, z.null()]))),
  create: Bool.default(true),
  backup: Bool.default(false),
  ...Attributes,
});

export const ServiceArgs = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'not a valid service name'),
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
    enabled: Bool.optional(),
  })
  .refine((a) => a.state !== undefined || a.enabled !== undefined, 'give state, enabled, or both');

const PackageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/, 'not a valid package name');
export const PackageArgs = z
  .strictObject({
    name: z
      .union([PackageName, z.array(PackageName)])
      .transform((n) => (Array.isArray(n) ? n : [n]))
      .optional(),
    /** A package file already on the host, installed with its dependencies. */
    deb: AbsPath.optional(),
    state: z.enum(['present', 'absent', 'latest']).default('present'),
    update_cache: Bool.default(false),
  })
  .refine((a) => Boolean(a.name) !== Boolean(a.deb), 'give exactly one of name or deb');

export const UserArgs = z.strictObject({
  name: Owner,
  uid: numeric(z.number().int().min(0)).optional(),
  group: Owner.optional(),
  groups: z.array(Owner).optional(),
  home: AbsPath.optional(),
  shell: AbsPath.optional(),
  system: Bool.default(false),
  create_home: Bool.default(true),
  state: z.enum(['present', 'absent']).default('present'),
});

export const GroupArgs = z.strictObject({
  name: Owner,
  gid: numeric(z.number().int().min(0)).optional(),
  system: Bool.default(false),
  state: z.enum(['present', 'absent']).default('present'),
});

export const MountArgs = z.strictObject({
  path: AbsPath,
  src: z.string().min(1).optional(),
  fstype: z
    .string()
    .regex(/^[a-z0-9.]+$/)
    .optional(),
  opts: z
    .string()
    .regex(/^[^\s]+$/, 'mount options have no spaces')
    .default('defaults'),
  dump: numeric(z.number().int()).default(0),
  passno: numeric(z.number().int()).default(0),
  state: z.enum(['mounted', 'present', 'unmounted', 'absent']).default('mounted'),
});

export const WaitForArgs = z
  .strictObject({
    host: z
      .string()
      .regex(/^[A-Za-z0-9.:-]+$/)
      .default('127.0.0.1'),
    port: numeric(z.number().int().min(1).max(65535)).optional(),
    path: AbsPath.optional(),
    search_regex: z.string().optional(),
    state: z.enum(['started', 'stopped', 'present', 'absent', 'drained']).default('started'),
    timeout: numeric(z.number().positive()).default(300),
    delay: numeric(z.number().min(0)).default(0),
    sleep: numeric(z.number().positive()).default(1),
  })
  .refine((a) => Boolean(a.port) !== Boolean(a.path), 'give exactly one of port or path');

// The modules that are language rather than a change on a host: they run on the worker.
export const DebugArgs = z
  .strictObject({
    msg: z.unknown().optional(),
    var: z.string().optional(),
    verbosity: numeric(z.number().int().min(0)).default(0),
  })
  .refine((a) => a.msg === undefined || a.var === undefined, 'give msg or var, not both');
const Conditions = z.union([z.string(), z.boolean(), z.array(z.union([z.string(), z.boolean()]))]);
export const AssertArgs = z.strictObject({
  that: Conditions,
  fail_msg: z.unknown().optional(),
  msg: z.unknown().optional(),
  success_msg: z.unknown().optional(),
  quiet: Bool.default(false),
});
export const FailArgs = z.strictObject({ msg: z.unknown().default('Failed as requested from task') });
/** set_fact: every key a variable (Ansible's `cacheable` is accepted; facts are not cached across plays). */
export const SetFactArgs = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits, _'), z.unknown())
  .refine((a) => Object.keys(a).some((k) => k !== 'cacheable'), 'set_fact sets at least one variable');

export const StatArgs = z.strictObject({
  path: AbsPath,
  follow: Bool.default(false),
  get_checksum: Bool.default(true),
  checksum_algorithm: z.enum(['sha1', 'sha256', 'md5']).default('sha1'),
  // Accepted so roles load; the mime type and file attributes are not reported (README).
  get_mime: Bool.optional(),
  get_attributes: Bool.optional(),
});
/** pause: a durable wait of the play (a Temporal timer), never a prompt. */
export const PauseArgs = z
  .strictObject({
    seconds: numeric(z.number().min(0)).optional(),
    minutes: numeric(z.number().min(0)).optional(),
  })
  .refine(
    (a) => a.seconds !== undefined || a.minutes !== undefined,
    'give seconds or minutes (a prompt cannot be answered here)',
  );

/** Every module, by the name a task uses. */
export const ModuleArgs = {
  command: CommandArgs,
  shell: ShellArgs,
  file: FileArgs,
  copy: CopyArgs,
  template: TemplateArgs,
  lineinfile: LineInFileArgs,
  blockinfile: BlockInFileArgs,
  properties: PropertiesArgs,
  ini: IniArgs,
  service: ServiceArgs,
  package: PackageArgs,
  user: UserArgs,
  group: GroupArgs,
  mount: MountArgs,
  wait_for: WaitForArgs,
  debug: DebugArgs,
  assert: AssertArgs,
  fail: FailArgs,
  set_fact: SetFactArgs,
  stat: StatArgs,
  pause: PauseArgs,
} as const;

/** Modules that need no host: they run on the worker, on the task's variables. */
export const WORKER_MODULES: readonly ModuleName[] = ['debug', 'assert', 'fail', 'set_fact'];

export type ModuleName = keyof typeof ModuleArgs;
export const MODULE_NAMES = Object.keys(ModuleArgs) as ModuleName[];

export interface FileDiff {
  path?: string;
  before: string;
  after: string;
}

/** Ansible's module contract, as plain data. */
export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg: string;
  diff?: FileDiff;
  rc?: number;
  stdout?: string;
  stderr?: string;
  /** set_fact: variables for the host's later tasks. */
  ansibleFacts?: Record<string, unknown>;
  /** A loop's results, one per item. */
  results?: ModuleResult[];
  /** The loop item (or its label) a result belongs to. */
  item?: unknown;
  /** What a module adds to the value `register` stores (debug's var, assert's evaluated).  */
  data?: Record<string, unknown>;
}
