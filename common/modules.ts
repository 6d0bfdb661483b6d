import { z } from 'zod';
import { FileModeSchema } from './file-mode';
import { accountPartProblem, CHARSET_NAME, identifierProblem } from './mysql-names';
import { parsePrivSpec, upperCaseColumns } from './mysql-privileges';
import { TLS_REQUIREMENTS, tlsRequirement } from './mysql-tls';
import { keyserverLookupUrl, labUrlProblem } from './lab-urls';

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

/**
 * SELinux contexts, as Ansible's file options take them. A host without SELinux ignores them, as
 * Ansible does; on a host with SELinux the module refuses them (activities/modules/selinux.ts).
 */
export const SELINUX_KEYS = ['seuser', 'serole', 'setype', 'selevel'] as const;
const SELinux = Object.fromEntries(SELINUX_KEYS.map((k) => [k, z.string().optional()])) as Record<
  (typeof SELINUX_KEYS)[number],
  z.ZodOptional<z.ZodString>
>;

const Attributes = {
  owner: Owner.optional(),
  group: Owner.optional(),
  mode: FileModeSchema.optional(),
  ...SELinux,
  /** Ansible's fallback to a non-atomic write; every write here is atomic, so it never applies. */
  unsafe_writes: Bool.optional(),
};

/**
 * A file's access or modification time, as the file module takes it: `now`, `preserve`, or a
 * time in `touch -t` form ([[CC]YY]MMDDhhmm[.ss], the default `%Y%m%d%H%M.%S`).
 */
const FileTime = z.union([
  z.enum(['now', 'preserve']),
  z.string().regex(/^(\d{2}){0,2}\d{8}(\.\d{2})?$/, 'now, preserve, or a time as %Y%m%d%H%M.%S'),
]);
const DEFAULT_TIME_FORMAT = '%Y%m%d%H%M.%S';
const TimeFormat = z.literal(DEFAULT_TIME_FORMAT, {
  message: `only the default format ${DEFAULT_TIME_FORMAT} is supported yet`,
});

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

/** raw: the command line over SSH as it is, or through `executable` (Ansible's way in without python). */
export const RawArgs = z.strictObject({ cmd: z.string().min(1), executable: AbsPath.optional() });

/** script: a worker-side script (found as copy's src) copied to the host and run there. */
export const ScriptArgs = z.strictObject({
  src: z.string().min(1),
  /** The script's arguments, as shell words. */
  args: z.string().default(''),
  executable: z.string().min(1).optional(),
  /** Vault-encrypted scripts are not supported; the default (decrypt when vaulted) is accepted. */
  decrypt: z.literal(true, { message: 'decrypt: false is not supported yet' }).default(true),
  ...Guards,
});

export const FileArgs = z.preprocess(
  renameKeys({ dest: 'path', name: 'path' }),
  z
    .strictObject({
      path: AbsPath,
      state: z.enum(['file', 'directory', 'absent', 'link', 'touch']).default('file'),
      src: z.string().optional(),
      /** state=link: replace a file that is in the way. */
      force: Bool.default(false),
      /** Unset: `now` for state=touch, `preserve` for every other state (Ansible's defaults). */
      modification_time: FileTime.optional(),
      modification_time_format: TimeFormat.optional(),
      access_time: FileTime.optional(),
      access_time_format: TimeFormat.optional(),
      ...Attributes,
    })
    .refine((a) => a.state !== 'link' || Boolean(a.src), 'state=link needs src')
    .refine(
      (a) =>
        a.state === 'touch' ||
        a.state === 'file' ||
        a.state === 'directory' ||
        ((a.modification_time ?? 'preserve') === 'preserve' && (a.access_time ?? 'preserve') === 'preserve'),
      'modification_time and access_time apply to state=file, directory or touch',
    ),
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
    /** A link at dest: write the file it points to (true), or replace the link by the file (false). */
    follow: Bool.default(false),
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

/** ansible.posix.authorized_key: public keys in a user's authorized_keys file. */
export const AuthorizedKeyArgs = z.strictObject({
  user: Owner,
  /** One key per line, or `file:///path` of a file on the host that holds them. */
  key: z
    .string()
    .refine(
      (k) => !/^http/i.test(k),
      "a URL key is not supported: the hosts reach only lab addresses; give the key itself (e.g. \"{{ lookup('file', 'id_ed25519.pub') }}\")",
    ),
  path: AbsPath.nullish(),
  manage_dir: Bool.default(true),
  state: z.enum(['present', 'absent']).default('present'),
  /** Options put before every key given (`from="10.0.0.0/8",no-pty`). */
  key_options: z.string().nullish(),
  /** Remove every other line of the file. */
  exclusive: Bool.default(false),
  // Keys come as text or from the host's own files: no download, so no certificate to check.
  validate_certs: Bool.default(true),
  comment: z.string().nullish(),
  follow: Bool.default(false),
});

/** ansible.builtin.apt_repository: a one-line source in sources.list(.d). */
export const AptRepositoryArgs = z.preprocess(
  renameKeys({ 'update-cache': 'update_cache' }),
  z.strictObject({
    repo: z
      .string()
      .refine((r) => r.trim() !== '', "Please set argument 'repo' to a non-empty value")
      .refine(
        (r) => !r.trim().startsWith('ppa:'),
        'a ppa: repository is not supported: PPAs are Ubuntu archives on Launchpad, which the hosts have no route to here; give a deb line',
      ),
    state: z.enum(['present', 'absent']).default('present'),
    /** The mode of a file a source is added to; the host's default (0644) when left out. */
    mode: FileModeSchema.optional(),
    update_cache: Bool.default(true),
    update_cache_retries: numeric(z.number().int().min(0)).default(5),
    update_cache_retry_max_delay: numeric(z.number().int().min(0)).default(12),
    /** `.list` is added; a name without / goes in the sources.list.d directory. */
    filename: z.string().min(1).nullish(),
    // Ansible's options for PPAs (refused above) and for python-apt, which we do not need.
    validate_certs: Bool.default(true),
    codename: z.string().nullish(),
    install_python_apt: Bool.default(true),
  }),
);

/** An apt key's id: 8 or 16 hex digits, or more (a fingerprint), an optional 0x before them. */
const AptKeyId = Scalar.pipe(
  z
    .string()
    .trim()
    .regex(
      /^(0x)?([0-9a-f]{8}|[0-9a-f]{16,})$/i,
      'Invalid key_id: 8, 16 or more hexadecimal characters (an optional 0x before them)',
    ),
);
/** ansible.builtin.apt_key: an OpenPGP key apt trusts, by its id. */
export const AptKeyArgs = z
  .strictObject({
    id: AptKeyId.optional(),
    /** The key, armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----"). */
    data: z.string().min(1).optional(),
    /** A key file on the host (armored or binary). */
    file: AbsPath.optional(),
    /** The one keyring file to list, add to and remove from. */
    keyring: AbsPath.optional(),
    url: HttpUrl.optional(),
    keyserver: z.string().regex(/^\S+$/, 'a host name or URL').optional(),
    state: z.enum(['present', 'absent']).default('present'),
    validate_certs: Bool.default(true),
  })
  .refine(
    (a) => [a.data, a.file, a.keyserver, a.url].filter((v) => v !== undefined).length <= 1,
    'parameters are mutually exclusive: data|file|keyserver|url',
  )
  .refine((a) => !a.keyserver || a.id !== undefined, 'Missing key_id, required with keyserver.')
  .refine(
    (a) => a.id !== undefined || a.data !== undefined || a.file !== undefined || a.url !== undefined,
    'give id, or the key in data, file or url',
  )
  .superRefine((a, ctx) => {
    const problem = a.url
      ? labUrlProblem(a.url, 'url')
      : a.keyserver
        ? labUrlProblem(keyserverLookupUrl(a.keyserver, a.id ?? ''), 'keyserver', a.keyserver)
        : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [a.url ? 'url' : 'keyserver'] });
  });

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
    /** SSL, X509, CIPHER, ISSUER, SUBJECT (any case); empty or none is REQUIRE NONE. */
    tls_requires: z.record(z.string(), Scalar.nullable()).nullable().optional(),
    /** false (community.mysql 3.x): column names in column privileges are upper-cased. */
    column_case_sensitive: Bool.default(false),
    ...MysqlAdmin,
  })
  .refine((a) => !(a.append_privs && a.subtract_privs), 'give at most one of append_privs or subtract_privs')
  .superRefine((a, ctx) => {
    for (const [k, v] of Object.entries(a.tls_requires ?? {})) {
      const key = k.toUpperCase();
      const message = !(TLS_REQUIREMENTS as readonly string[]).includes(key)
        ? `"${k}" is not one of ${TLS_REQUIREMENTS.join(', ')}`
        : ['CIPHER', 'ISSUER', 'SUBJECT'].includes(key) && !v
          ? `${key} needs a value`
          : undefined;
      if (message) ctx.addIssue({ code: 'custom', message, path: ['tls_requires', k] });
    }
  })
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
    const tls = { tls_requires: tlsRequirement(a.tls_requires) };
    if (a.priv === undefined) return { ...a, ...tls, priv: undefined };
    try {
      const priv = parsePrivSpec(a.priv, !a.subtract_privs);
      return { ...a, ...tls, priv: a.column_case_sensitive ? priv : upperCaseColumns(priv) };
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

/**
 * mysql_replication's modes by every name they have had: the master/slave spellings are
 * community.mysql's before 2.0, which roles written for it still use.
 */
export const REPLICATION_MODES = {
  getprimary: 'getprimary',
  getmaster: 'getprimary',
  getreplica: 'getreplica',
  getslave: 'getreplica',
  changeprimary: 'changeprimary',
  changemaster: 'changeprimary',
  startreplica: 'startreplica',
  startslave: 'startreplica',
  stopreplica: 'stopreplica',
  stopslave: 'stopreplica',
  resetprimary: 'resetprimary',
  resetmaster: 'resetprimary',
  resetreplica: 'resetreplica',
  resetslave: 'resetreplica',
  resetreplicaall: 'resetreplicaall',
  resetslaveall: 'resetreplicaall',
} as const;
/** CHANGE MASTER TO takes literals only: numbers are checked here, so only digits reach the SQL. */
const SqlCount = numeric(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));
/** The primary_* options, each with community.mysql's master_* alias. */
const PRIMARY_OPTIONS = [
  'host',
  'user',
  'password',
  'port',
  'connect_retry',
  'log_file',
  'log_pos',
  'ssl',
  'ssl_ca',
  'ssl_capath',
  'ssl_cert',
  'ssl_key',
  'ssl_cipher',
  'ssl_verify_server_cert',
  'auto_position',
  'use_gtid',
  'delay',
];
export const MysqlReplicationArgs = z.preprocess(
  renameKeys(Object.fromEntries(PRIMARY_OPTIONS.map((o) => [`master_${o}`, `primary_${o}`]))),
  z
    .strictObject({
      mode: z
        .enum(Object.keys(REPLICATION_MODES) as [keyof typeof REPLICATION_MODES])
        .default('getreplica')
        .transform((m) => REPLICATION_MODES[m]),
      primary_host: Scalar.optional(),
      primary_user: Scalar.optional(),
      primary_password: Scalar.optional(),
      primary_port: numeric(z.number().int().min(0).max(65535)).optional(),
      primary_connect_retry: SqlCount.optional(),
      primary_log_file: Scalar.optional(),
      primary_log_pos: SqlCount.optional(),
      relay_log_file: Scalar.optional(),
      relay_log_pos: SqlCount.optional(),
      primary_ssl: Bool.optional(),
      primary_ssl_ca: Scalar.optional(),
      primary_ssl_capath: Scalar.optional(),
      primary_ssl_cert: Scalar.optional(),
      primary_ssl_key: Scalar.optional(),
      primary_ssl_cipher: Scalar.optional(),
      primary_ssl_verify_server_cert: Bool.optional(),
      primary_auto_position: Bool.default(false),
      /** MariaDB's MASTER_USE_GTID; slave_pos is replica_pos's name before MariaDB 10.5.1. */
      primary_use_gtid: z.enum(['current_pos', 'replica_pos', 'slave_pos', 'disabled']).optional(),
      primary_delay: SqlCount.optional(),
      /** MariaDB's multi-source connection. */
      connection_name: Scalar.optional(),
      /** MySQL's replication channel. */
      channel: Scalar.optional(),
      fail_on_error: Bool.default(false),
      ...MysqlLogin,
    })
    .refine((a) => a.connection_name === undefined || a.channel === undefined, {
      message: 'give at most one of connection_name or channel',
      path: ['channel'],
    }),
);

// The GlusterFS modules of gluster.gluster (community.general's before 3.0): the gluster CLI on
// the host, as the collection drives it.
const GlusterHost = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'a host name or address');
const GlusterCount = numeric(z.number().int().min(1)).optional();
/** A volume option's value: a YAML boolean (an unquoted `off`) is gluster's on or off. */
const GlusterOptionValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => (typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)));

export const GlusterVolumeArgs = z.preprocess(
  renameKeys({ volume: 'name', brick: 'bricks' }),
  z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9_-]+$/, "a volume name: letters, digits, '-' and '_'"),
      state: z.enum(['present', 'absent', 'started', 'stopped']),
      /** The hosts probed into the pool, and the bricks' hosts: each brick path on each, in order. */
      cluster: ListOf(GlusterHost).default([]),
      /** This host's name as the cluster lists it. */
      host: GlusterHost.optional(),
      replicas: GlusterCount,
      arbiters: GlusterCount,
      disperses: GlusterCount,
      redundancies: GlusterCount,
      stripes: z
        .unknown()
        .refine((v) => v === undefined || v === null, {
          message: 'striped volumes were removed in GlusterFS 6: use replicas or disperses',
        })
        .optional(),
      transport: z.enum(['tcp', 'rdma', 'tcp,rdma']).default('tcp'),
      bricks: ListOf(AbsPath).default([]),
      start_on_create: Bool.default(true),
      rebalance: Bool.default(false),
      /** The directory in the volume that `quota` limits. */
      directory: AbsPath.optional(),
      options: z
        .record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a volume option name'), GlusterOptionValue)
        .default({}),
      quota: z
        .string()
        .regex(/^\d+(\.\d+)?([KMGTP]B)?$/i, 'a size such as 20.0MB')
        .optional(),
      force: Bool.default(false),
    })
    .refine((a) => !a.quota || a.directory, {
      message: 'quota needs directory (the path in the volume it limits)',
      path: ['directory'],
    }),
);

export const GlusterPeerArgs = z.strictObject({
  nodes: ListOf(GlusterHost).refine((n) => n.length > 0, 'nodes list cannot be empty'),
  state: z.enum(['present', 'absent']).default('present'),
  /** Detach even when a node is down; a probe takes none. */
  force: Bool.default(false),
});

/** Every module, by the name a task uses. */
/**
 * setup (and gather_facts): the play's fact gathering as a task. Every subset gets the same facts
 * (clusterflow gathers one set in one round trip); `filter` keeps the ansible_* names it matches.
 */
export const SetupArgs = z.strictObject({
  gather_subset: z.union([z.string(), z.array(z.string())]).optional(),
  gather_timeout: numeric(z.number().positive()).optional(),
  filter: z.union([z.string(), z.array(z.string())]).optional(),
  fact_path: z
    .literal('/etc/ansible/facts.d', { message: 'local facts (fact_path) are not supported yet' })
    .optional(),
});

export const ModuleArgs = {
  command: CommandArgs,
  shell: ShellArgs,
  raw: RawArgs,
  script: ScriptArgs,
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
  apt_repository: AptRepositoryArgs,
  apt_key: AptKeyArgs,
  authorized_key: AuthorizedKeyArgs,
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
  setup: SetupArgs,
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
  mysql_replication: MysqlReplicationArgs,
  gluster_volume: GlusterVolumeArgs,
  gluster_peer: GlusterPeerArgs,
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
