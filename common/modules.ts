import { z } from 'zod';
import { FileModeSchema } from './file-mode';
import { accountPartProblem, CHARSET_NAME, identifierProblem } from './mysql-names';
import { parsePrivSpec } from './mysql-privileges';

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

/** Ansible's other spellings of an option (`daemon-reload`, `pkg`), read as the option itself. */
const renameKeys = (aliases: Record<string, string>) => (v: unknown) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v)) {
    const to = aliases[k];
    // Both spellings given: the alias stays, and the strict schema names it as unknown.
    out[to && !(to in (v as object)) ? to : k] = value;
  }
  return out;
};
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

export const FileArgs = z.preprocess(
  renameKeys({ dest: 'path', name: 'path' }),
  z
    .strictObject({
      path: AbsPath,
      state: z.enum(['file', 'directory', 'absent', 'link', 'touch']).default('file'),
      src: z.string().optional(),
      /** state=link: replace a file that is in the way. */
      force: Bool.default(false),
      ...Attributes,
    })
    .refine((a) => a.state !== 'link' || Boolean(a.src), 'state=link needs src'),
);

/** copy writes `content` or a worker-side `src` file as is; template renders it with host vars first. */
/** A command that checks the new file before it replaces the old one: `%s` is the new file. */
const Validate = z.string().regex(/%s/, 'validate must contain %s (the file to check)');

const FileContentArgs = z
  .strictObject({
    dest: AbsPath,
    content: z.string().optional(),
    /** A file on the worker's machine (a relative path is resolved beside the playbook). */
    src: z.string().optional(),
    backup: Bool.default(false),
    /** `force: false`: an existing file keeps its content. */
    force: Bool.default(true),
    validate: Validate.optional(),
    ...Attributes,
  })
  .refine((a) => (a.content === undefined) !== (a.src === undefined), 'give exactly one of content or src');

export const CopyArgs = FileContentArgs;
export const TemplateArgs = FileContentArgs;

/** What lineinfile and blockinfile share: where to insert, whether to create, and the file's attributes. */
const TextEdit = {
  path: AbsPath,
  validate: Validate.optional(),
  state: z.enum(['present', 'absent']).default('present'),
  insertafter: z.string().optional(),
  insertbefore: z.string().optional(),
  create: Bool.default(false),
  backup: Bool.default(false),
  ...Attributes,
};

export const LineInFileArgs = z.preprocess(
  renameKeys({ dest: 'path', destfile: 'path', name: 'path' }),
  z
    .strictObject({ ...TextEdit, line: z.string().optional(), regexp: z.string().optional() })
    .refine((a) => a.state === 'absent' || a.line !== undefined, 'state=present needs line')
    .refine((a) => !(a.insertafter && a.insertbefore), 'give at most one of insertafter or insertbefore'),
);

export const BlockInFileArgs = z.preprocess(
  renameKeys({ dest: 'path', destfile: 'path', name: 'path' }),
  z
    .strictObject({
      ...TextEdit,
      block: z.string().default(''),
      marker: z.string().default('# {mark} CLUSTERFLOW MANAGED BLOCK'),
    })
    .refine((a) => !(a.insertafter && a.insertbefore), 'give at most one of insertafter or insertbefore'),
);

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

export const MountArgs = z.preprocess(
  renameKeys({ name: 'path' }),
  z.strictObject({
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
  }),
);

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

/** An Ansible list option: a list, or a comma-separated string. */
const ListOf = <O>(item: z.ZodType<O, string>) =>
  z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
    .transform((v) =>
      (Array.isArray(v) ? v.map(String) : String(v).split(',')).map((s) => s.trim()).filter(Boolean),
    )
    .pipe(z.array(item));

const UnitName = z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'not a valid unit name (no glob patterns)');
/** Ansible's systemd (systemd_service) module. `service` keeps its own init-neutral semantics. */
export const SystemdArgs = z.preprocess(
  renameKeys({ 'daemon-reload': 'daemon_reload', unit: 'name', service: 'name' }),
  z
    .strictObject({
      name: UnitName.optional(),
      state: z.enum(['started', 'stopped', 'restarted', 'reloaded', 'tried-restart']).optional(),
      enabled: Bool.optional(),
      masked: Bool.optional(),
      daemon_reload: Bool.default(false),
      scope: z.enum(['system', 'user', 'global']).default('system'),
      no_block: Bool.default(false),
    })
    .refine((a) => a.scope === 'system', {
      message: "only scope=system is supported: a user's own systemd is not reached over this connection",
      path: ['scope'],
    })
    .refine(
      (a) => a.state !== undefined || a.enabled !== undefined || a.masked !== undefined || a.daemon_reload,
      'give state, enabled, masked or daemon_reload',
    )
    .refine(
      (a) =>
        a.name !== undefined || (a.state === undefined && a.enabled === undefined && a.masked === undefined),
      'state, enabled and masked need name',
    ),
);

/** apt's package spec: a name, or name=version (`1.2*` matches a version prefix). */
const AptPackage = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9+._:-]*(=[A-Za-z0-9+.~:_*-]+)?$/,
    'not a valid package (name or name=version)',
  );
/** Ansible's apt module: `package` plus the cache, release, recommends and policy-rc.d options. */
export const AptArgs = z.preprocess(
  renameKeys({
    pkg: 'name',
    package: 'name',
    'update-cache': 'update_cache',
    'default-release': 'default_release',
    'install-recommends': 'install_recommends',
  }),
  z
    .strictObject({
      name: ListOf(AptPackage).optional(),
      /** A package file already on the host, installed with its dependencies. */
      deb: AbsPath.optional(),
      state: z.enum(['present', 'absent', 'latest']).default('present'),
      update_cache: Bool.optional(),
      /** Seconds the package lists stay fresh: an update is skipped while they are younger. */
      cache_valid_time: numeric(z.number().int().min(0)).default(0),
      // Empty, as roles default it (`nginx_default_release: ""`), is no release, as in Ansible.
      default_release: z
        .string()
        .regex(/^$|^[A-Za-z0-9][A-Za-z0-9._/+~-]*$/, 'not a release name')
        .transform((r) => r || undefined)
        .optional(),
      install_recommends: Bool.optional(),
      /** The exit code /usr/sbin/policy-rc.d gives while apt runs (101: services are not started). */
      policy_rc_d: numeric(z.number().int().min(0).max(255)).optional(),
      // We always run apt-get; accepted so roles that ask for it load.
      force_apt_get: Bool.default(false),
    })
    .refine((a) => !(a.name?.length && a.deb), 'give name or deb, not both')
    .refine((a) => Boolean(a.name?.length || a.deb || a.update_cache), 'give name, deb or update_cache')
    .refine((a) => !a.deb || a.state === 'present', 'deb only supports state=present')
    .refine(
      (a) => a.state !== 'latest' || !a.name?.some((n) => n.includes('=')),
      'a version pin (name=version) takes state present or absent',
    ),
);

export const UnarchiveArgs = z
  .strictObject({
    /** The archive on the worker (found beside the playbook or in a role's files/), or on the host with remote_src. */
    src: z.string().min(1),
    dest: AbsPath,
    remote_src: Bool.default(false),
    creates: AbsPath.optional(),
    list_files: Bool.default(false),
    /** Options for tar or unzip, as a list (`['--strip-components=1']`). */
    extra_opts: ListOf(z.string()).default([]),
    ...Attributes,
  })
  .refine((a) => !a.src.includes('://'), {
    message: 'a URL src is not supported yet: fetch it with get_url first, then remote_src: true',
    path: ['src'],
  })
  .refine((a) => !a.remote_src || a.src.startsWith('/'), {
    message: 'with remote_src, src is an absolute path on the host',
    path: ['src'],
  });

const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL');
const HeaderValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .pipe(z.string().regex(/^[^\r\n]*$/, 'a header value is one line'));
const HttpHeaders = z.record(
  z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a header name'),
  HeaderValue,
);
/** What get_url and uri share: how the host makes the request. */
const HttpRequest = {
  headers: HttpHeaders.default({}),
  validate_certs: Bool.default(true),
  url_username: z.string().optional(),
  url_password: z.string().optional(),
  force_basic_auth: Bool.default(false),
};

/** get_url: a download made by the host itself (curl or wget there). */
export const GetUrlArgs = z.preprocess(
  renameKeys({ username: 'url_username', password: 'url_password' }),
  z.strictObject({
    url: HttpUrl,
    /** A file, or a directory the file is named into (from Content-Disposition or the URL). */
    dest: AbsPath,
    /** `sha256:<hex>`, or `sha256:<URL of a checksum file>`. */
    checksum: z
      .string()
      .regex(/^(md5|sha1|sha224|sha256|sha384|sha512):\S+$/, 'algorithm:checksum, e.g. sha256:0a1b…')
      .optional(),
    force: Bool.default(false),
    timeout: numeric(z.number().positive()).default(10),
    ...HttpRequest,
    ...Attributes,
  }),
);

const StatusCodes = ListOf(
  z
    .string()
    .regex(/^[1-5]\d\d$/, 'an HTTP status code')
    .transform(Number),
);
/** uri: an HTTP request made by the host itself. */
export const UriArgs = z.preprocess(
  renameKeys({ user: 'url_username', password: 'url_password' }),
  z.strictObject({
    url: HttpUrl,
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.string().regex(/^[A-Z]+$/, 'a single word, like GET or POST'))
      .default('GET'),
    body: z.unknown().optional(),
    body_format: z.enum(['raw', 'json', 'form-urlencoded']).default('raw'),
    status_code: StatusCodes.default([200]),
    return_content: Bool.default(false),
    timeout: numeric(z.number().positive()).default(30),
    follow_redirects: z.enum(['all', 'safe', 'none', 'yes', 'no']).default('safe'),
    /** Where the response body is written (a directory: named from the response or URL). */
    dest: AbsPath.optional(),
    creates: AbsPath.optional(),
    removes: AbsPath.optional(),
    ...HttpRequest,
    ...Attributes,
  }),
);

export const WaitForConnectionArgs = z.strictObject({
  timeout: numeric(z.number().positive()).default(600),
  delay: numeric(z.number().min(0)).default(0),
  sleep: numeric(z.number().positive()).default(1),
  connect_timeout: numeric(z.number().positive()).default(5),
});

/** Ansible clamps a negative delay to 0. */
const Delay = numeric(z.number().int())
  .transform((v) => Math.max(0, v))
  .default(0);
export const RebootArgs = z.strictObject({
  reboot_timeout: numeric(z.number().int().positive()).default(600),
  /** Seconds before the reboot; shutdown(8) takes whole minutes, so under 60 is now, as in Ansible. */
  pre_reboot_delay: Delay,
  post_reboot_delay: Delay,
  connect_timeout: numeric(z.number().positive()).optional(),
  test_command: z.string().min(1).default('whoami'),
  msg: z.string().default('Reboot initiated by Ansible'),
  boot_time_command: z.string().min(1).default('cat /proc/sys/kernel/random/boot_id'),
  /** Replaces `shutdown -r <minutes> <msg>` (and so pre_reboot_delay and msg). */
  reboot_command: z.string().min(1).optional(),
});

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

export const StatArgs = z.preprocess(
  renameKeys({ dest: 'path', name: 'path' }),
  z.strictObject({
    path: AbsPath,
    follow: Bool.default(false),
    get_checksum: Bool.default(true),
    checksum_algorithm: z.enum(['sha1', 'sha256', 'md5']).default('sha1'),
    // Accepted so roles load; the mime type and file attributes are not reported (README).
    get_mime: Bool.optional(),
    get_attributes: Bool.optional(),
  }),
);
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

/** meta: what ends early (flush_handlers is read when the playbook loads). */
export const MetaArgs = z.strictObject({
  action: z.enum(['noop', 'end_host', 'end_play', 'end_batch'], {
    error: 'noop, end_host, end_play, end_batch or flush_handlers (other meta actions are not supported yet)',
  }),
});
/** ping: the host answers over SSH (Ansible's needs python; this needs a shell). */
export const PingArgs = z.strictObject({ data: z.string().default('pong') });

export const ReplaceArgs = z.preprocess(
  renameKeys({ dest: 'path', destfile: 'path', name: 'path' }),
  z.strictObject({
    path: AbsPath,
    /** A Python regular expression, MULTILINE (activities/modules/python-regex.ts says how it is read). */
    regexp: z.string(),
    replace: Scalar.default(''),
    after: z.string().optional(),
    before: z.string().optional(),
    backup: Bool.default(false),
    ...Attributes,
  }),
);

export const GetentArgs = z.strictObject({
  database: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'not a valid database name'),
  key: Scalar.optional(),
  split: z.string().min(1, 'Invalid split value. The value must be a non-empty string').optional(),
  fail_key: Bool.default(true),
  service: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'not a valid NSS service name')
    .optional(),
});

export const SlurpArgs = z.preprocess(renameKeys({ path: 'src' }), z.strictObject({ src: AbsPath }));

export const FindArgs = z.preprocess(
  renameKeys({ path: 'paths', name: 'paths', pattern: 'patterns', exclude: 'excludes' }),
  z.strictObject({
    paths: ListOf(AbsPath).refine((p) => p.length > 0, 'give at least one path'),
    /** Shell globs on the base name, or Python regexes with use_regex; any one selects. */
    patterns: ListOf(z.string()).default([]),
    excludes: ListOf(z.string()).optional(),
    /** A Python regex matched at the start of a line of a regular file (anywhere with read_whole_file). */
    contains: z.string().optional(),
    read_whole_file: Bool.default(false),
    file_type: z.enum(['any', 'directory', 'file', 'link']).default('file'),
    age: Scalar.pipe(z.string().regex(/^-?\d+[smhdw]?$/i, 'failed to process age')).optional(),
    age_stamp: z.enum(['atime', 'ctime', 'mtime']).default('mtime'),
    size: Scalar.pipe(z.string().regex(/^-?\d+[bkmgt]?$/i, 'failed to process size')).optional(),
    recurse: Bool.default(false),
    hidden: Bool.default(false),
    use_regex: Bool.default(false),
    depth: numeric(z.number().int().min(0)).optional(),
    limit: numeric(z.number().int().min(1, 'at least 1 (leave it out for unlimited)')).optional(),
  }),
);

export const TempfileArgs = z.strictObject({
  state: z.enum(['file', 'directory']).default('file'),
  /** Where to create it; the host's TMPDIR (or /tmp) when left out. */
  path: AbsPath.optional(),
  prefix: z
    .string()
    .regex(/^[^/]*$/, 'no / in a prefix')
    .default('ansible.'),
  suffix: z
    .string()
    .regex(/^[^/]*$/, 'no / in a suffix')
    .default(''),
});

export const SysctlArgs = z.preprocess(
  renameKeys({ key: 'name', val: 'value' }),
  z
    .strictObject({
      name: z
        .string()
        .trim()
        .regex(/^[^\s=]+$/, 'a sysctl key: no spaces, no ='),
      value: Scalar.optional(),
      state: z.enum(['present', 'absent']).default('present'),
      reload: Bool.default(true),
      sysctl_set: Bool.default(false),
      ignoreerrors: Bool.default(false),
      sysctl_file: AbsPath.default('/etc/sysctl.conf'),
    })
    .refine((a) => a.state === 'absent' || (a.value ?? '').trim() !== '', 'state=present needs a value'),
);

const CronField = Scalar.pipe(z.string().regex(/^\S+$/, 'one cron field, no spaces')).default('*');
export const CronArgs = z.preprocess(
  renameKeys({ value: 'job', dom: 'day', dow: 'weekday' }),
  z
    .strictObject({
      /** The `#Ansible: <name>` marker above the job (or the variable's name with env). */
      name: z.string(),
      user: Owner.optional(),
      job: z.string().optional(),
      /** A file in /etc/cron.d (or an absolute path) instead of the user's crontab. */
      cron_file: z.string().min(1).optional(),
      state: z.enum(['present', 'absent']).default('present'),
      backup: Bool.default(false),
      minute: CronField,
      hour: CronField,
      day: CronField,
      month: CronField,
      weekday: CronField,
      special_time: z
        .enum(['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'])
        .optional(),
      disabled: Bool.default(false),
      env: Bool.default(false),
      insertafter: z.string().optional(),
      insertbefore: z.string().optional(),
    })
    .refine(
      (a) => !a.special_time || [a.minute, a.hour, a.day, a.month, a.weekday].every((f) => f === '*'),
      'You must specify time and date fields or special time.',
    )
    .refine((a) => !(a.insertafter && a.insertbefore), 'give at most one of insertafter or insertbefore')
    .refine((a) => a.cron_file !== '/etc/crontab', 'Will not manage /etc/crontab via cron_file')
    .refine(
      (a) => a.state === 'absent' || !a.cron_file || a.user !== undefined,
      'To use cron_file=... parameter you must specify user=... as well',
    )
    .refine(
      (a) => a.state === 'absent' || a.job !== undefined,
      "You must specify 'job' to install a new cron job or variable",
    )
    .refine(
      (a) => a.state === 'absent' || a.env || !(a.insertafter || a.insertbefore),
      'Insertafter and insertbefore parameters are valid only with env=yes',
    )
    .refine((a) => !a.env || !a.name.includes(' '), 'Invalid name for environment variable'),
);

// The MySQL modules (community.mysql): how they log in, as Ansible's mysql doc fragment has it. The
// session starts on the host (through its SSH connection), so login_host and login_unix_socket
// mean what they mean to a module running there; ~/.my.cnf is the become user's.
const MysqlLogin = {
  login_user: Scalar.optional(),
  login_password: Scalar.optional(),
  login_host: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'a host name or address')
    .default('localhost'),
  login_port: numeric(z.number().int().min(0).max(65535)).default(3306),
  login_unix_socket: AbsPath.optional(),
  config_file: z
    .string()
    .regex(/^(\/|~\/|$)/, "an absolute path, ~/path, or '' for none")
    .default('~/.my.cnf'),
  connect_timeout: numeric(z.number().positive()).default(30),
};
const MysqlAdmin = {
  ...MysqlLogin,
  check_implicit_admin: Bool.default(false),
  sql_log_bin: Bool.default(true),
};
/** Ansible's list type: a list, or one string split at commas. */
const NameList = z
  .union([z.string(), z.array(Scalar)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const CharsetName = z.string().regex(CHARSET_NAME, 'letters, digits and _ only').default('');

export const MysqlDbArgs = z
  .strictObject({
    name: NameList.optional(),
    /** Ansible's alias of name. */
    db: NameList.optional(),
    state: z.enum(['present', 'absent', 'dump', 'import']).default('present'),
    encoding: CharsetName,
    collation: CharsetName,
    target: z.string().optional(),
    ...MysqlAdmin,
  })
  .refine((a) => (a.name === undefined) !== (a.db === undefined), 'give name (or its alias db), once')
  .refine((a) => a.state === 'present' || a.state === 'absent', {
    message: 'state=dump and state=import are not supported yet',
    path: ['state'],
  })
  .transform((a, ctx) => {
    const { db, ...rest } = a;
    const names = a.name ?? db ?? [];
    for (const n of names) {
      const problem =
        n === 'all' ? "name 'all' is only for state=dump or import" : identifierProblem(n, 'database');
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['name'] });
    }
    return { ...rest, name: names };
  });

export const MysqlUserArgs = z
  .strictObject({
    name: Scalar,
    password: Scalar.optional(),
    /** password is already a mysql_native_password hash (*0123…). */
    encrypted: Bool.default(false),
    host: Scalar.default('localhost').transform((h) => h.toLowerCase()),
    host_all: Bool.default(false),
    priv: z.union([z.string(), z.record(z.string(), Scalar)]).optional(),
    append_privs: Bool.default(false),
    subtract_privs: Bool.default(false),
    state: z.enum(['present', 'absent']).default('present'),
    update_password: z.enum(['always', 'on_create', 'on_new_username']).default('always'),
    ...MysqlAdmin,
  })
  .refine((a) => !(a.append_privs && a.subtract_privs), 'give at most one of append_privs or subtract_privs')
  .refine((a) => a.update_password !== 'on_new_username', {
    message: 'update_password=on_new_username is not supported yet',
    path: ['update_password'],
  })
  .refine((a) => !a.encrypted || !a.password || /^\*[0-9A-Fa-f]{40}$/.test(a.password), {
    message: 'encrypted: password must be a mysql_native_password hash (* and 40 hex digits)',
    path: ['password'],
  })
  .transform((a, ctx) => {
    const problem =
      accountPartProblem(a.name, 'user') ?? (a.host_all ? undefined : accountPartProblem(a.host, 'host'));
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: problem,
        path: [problem.startsWith('host') ? 'host' : 'name'],
      });
    if (a.priv === undefined) return { ...a, priv: undefined };
    try {
      return { ...a, priv: parsePrivSpec(a.priv, !a.subtract_privs) };
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, path: ['priv'] });
      return z.NEVER;
    }
  });

export const MysqlQueryArgs = z
  .strictObject({
    query: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .transform((q) => (Array.isArray(q) ? q : [q])),
    positional_args: z.array(z.unknown()).optional(),
    named_args: z.record(z.string(), z.unknown()).optional(),
    login_db: z.string().optional(),
    single_transaction: Bool.default(false),
    ...MysqlLogin,
  })
  .refine((a) => !(a.positional_args && a.named_args), 'give at most one of positional_args or named_args');

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
  apt: AptArgs,
  systemd: SystemdArgs,
  unarchive: UnarchiveArgs,
  get_url: GetUrlArgs,
  uri: UriArgs,
  wait_for_connection: WaitForConnectionArgs,
  reboot: RebootArgs,
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
  meta: MetaArgs,
  ping: PingArgs,
  replace: ReplaceArgs,
  getent: GetentArgs,
  slurp: SlurpArgs,
  find: FindArgs,
  tempfile: TempfileArgs,
  sysctl: SysctlArgs,
  cron: CronArgs,
  mysql_db: MysqlDbArgs,
  mysql_user: MysqlUserArgs,
  mysql_query: MysqlQueryArgs,
} as const;

/** Modules that need no host: they run on the worker, on the task's variables. */
export const WORKER_MODULES: readonly ModuleName[] = ['debug', 'assert', 'fail', 'set_fact', 'meta'];

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
