import { z } from 'zod';
import { HostRef, HostRefs } from './db';
import type { HostTarget } from './hosts';

// The `loadBalancer:` and `nodes:` sections of the cluster spec, and the shapes the rolling,
// join, remove and drift workflows exchange. Workflow-safe: schemas and plain data only.
// Every object the operator writes is strict: a typo'd key is an error, never a silent default.

const AbsPath = z.string().regex(/^\//, 'must be an absolute path');
const ServiceName = z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'not a valid service name');
const Port = z.number().int().min(1).max(65535);
/** Names that end up in LB commands and config files: kept to characters no quoting can get wrong. */
const LbName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, dot, dash and underscore only');
const ConfigKey = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, dot, dash and underscore only');

export const LB_KINDS = ['haproxy', 'nginx', 'apache', 'lvs'] as const;
export type LbKind = (typeof LB_KINDS)[number];

/** Where each kind keeps its members unless the spec says otherwise. */
export const DEFAULT_LB_CONFIG: Record<LbKind, string | undefined> = {
  haproxy: '/etc/haproxy/haproxy.cfg',
  nginx: undefined,
  apache: undefined,
  lvs: '/etc/ipvsadm.rules',
};

export const LoadBalancerSectionSchema = z
  .strictObject({
    kind: z.enum(LB_KINDS),
    /** Every LB host; with a redundant pair every change applies to both. */
    hosts: HostRefs,
    /**
     * The pool the nodes are members of: HAProxy backend, nginx upstream, Apache balancer name
     * (`balancer://NAME`), or the LVS virtual service `address:port`.
     */
    backend: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a backend/upstream/balancer name or address:port'),
    /** The file that holds the members, kept in step with every runtime change. */
    config: AbsPath.optional(),
    /** node -> member name in the LB (HAProxy server name, Apache route). Default: the node's name. */
    members: z.record(z.string(), LbName).default({}),
    haproxy: z
      .strictObject({
        socket: AbsPath.default('/run/haproxy/admin.sock'),
        /**
         * Further backends every node is a member of, drained and put back with `backend`: one
         * per protocol a product serves (seed 004: FTP, SFTP and FTP's passive data beside HTTP).
         * Without `port`, a member gets the port the client connected to (a passive port range).
         */
        backends: z.array(z.strictObject({ name: LbName, port: Port.optional() })).default([]),
      })
      .default({ socket: '/run/haproxy/admin.sock', backends: [] }),
    apache: z
      .strictObject({
        /** balancer-manager as reached from the LB host itself. */
        managerUrl: z
          .string()
          .regex(/^https?:\/\/[A-Za-z0-9.:[\]-]+\/[A-Za-z0-9/_.-]*$/, 'an http(s) URL')
          .default('http://127.0.0.1/balancer-manager'),
        /** Members speak mod_proxy_http (scheme http) or mod_proxy_ajp (scheme ajp, seed 002). */
        protocol: z.enum(['http', 'ajp']).default('http'),
        /** Worker parameters written on each member clusterflow adds, e.g. `smax=0 ttl=60 retry=5 loadfactor=50`. */
        memberParams: z
          .string()
          .regex(
            /^([a-z]+=[A-Za-z0-9.+-]+)( [a-z]+=[A-Za-z0-9.+-]+)*$/,
            'key=value pairs separated by spaces',
          )
          .refine((p) => !/(^| )(route|status)=/.test(p), "route and status are clusterflow's to set")
          .optional(),
        /**
         * Each member's route is a key of the node's own config, read once the node has started:
         * a key of nodes.config.path (seed 000's `route=<node_id>`, the nodeid the product writes
         * at its first start), or `{ path, key }` of another file (seed 002's AJP_JVM_ROUTE, which
         * the node's installer writes). Without it the route is the member name.
         */
        routeFromConfig: z.union([ConfigKey, z.strictObject({ path: AbsPath, key: ConfigKey })]).optional(),
      })
      .default({ managerUrl: 'http://127.0.0.1/balancer-manager', protocol: 'http' }),
    lvs: z
      .strictObject({
        forwarding: z.enum(['masquerading', 'gatewaying', 'ipip']).default('masquerading'),
        weight: z.number().int().min(1).max(65535).default(1),
      })
      .default({ forwarding: 'masquerading', weight: 1 }),
    /** How often drain progress is polled. */
    pollSeconds: z.number().positive().default(1),
    /**
     * cluster-setup: a playbook (relative to the spec) that installs the LB itself with its
     * frontend and an empty pool; clusterflow then adds the members.
     */
    install: z.string().optional(),
    /** Where users reach the LB; cluster-setup's last check asks it, from each LB host, until every node has answered. */
    frontend: z
      .strictObject({
        port: Port.default(80),
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9/_.~%?=&-]*$/, 'a URL path starting with /')
          .default('/'),
        /** The response header in which the app names the node that answered (e.g. X-Node); without it only a 2xx is checked. */
        servedByHeader: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name')
          .optional(),
      })
      .default({ port: 80, path: '/' }),
  })
  .superRefine((lb, ctx) => {
    if ((lb.kind === 'nginx' || lb.kind === 'apache') && !lb.config)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['config'],
        message: `required for ${lb.kind}: the file holding the ${lb.kind === 'nginx' ? 'upstream' : 'BalancerMember'} lines`,
      });
    if (lb.kind !== 'haproxy' && lb.haproxy.backends.length)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['haproxy', 'backends'],
        message: `only for kind haproxy, not ${lb.kind}`,
      });
    lb.haproxy.backends.forEach((b, i) => {
      if (b.name === lb.backend || lb.haproxy.backends.findIndex((o) => o.name === b.name) < i)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['haproxy', 'backends', i, 'name'],
          message: `${b.name} is listed twice`,
        });
    });
    if (lb.kind === 'lvs' && !/^[0-9.]+:\d+$/.test(lb.backend))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['backend'],
        message: 'for lvs: the virtual service as address:port, e.g. 10.77.0.100:80',
      });
  });

export const HealthCheckSchema = z
  .strictObject({
    /** GET on the node's address; healthy when the status matches (and the body contains `contains`). */
    http: z
      .strictObject({
        path: z
          .string()
          .regex(/^\/[^\s]*$/, 'a path like /check.txt')
          .default('/check.txt'),
        port: Port.optional(),
        status: z.number().int().default(200),
        contains: z.string().optional(),
      })
      .optional(),
    tcp: z.strictObject({ port: Port.optional() }).optional(),
    /** Run on the node; healthy when it exits 0. */
    command: z.string().min(1).optional(),
    /** Consecutive successes needed. */
    successes: z.number().int().min(1).default(3),
    intervalSeconds: z.number().positive().default(1),
    timeoutSeconds: z.number().positive().default(120),
  })
  .refine((h) => h.http || h.tcp || h.command, { message: 'give at least one of http, tcp, command' });

const TimeOfDay = z
  .string({
    // YAML 1.1 reads an unquoted 03:00 as the base-60 number 180, as Ansible's PyYAML does.
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'HH:MM in quotes, e.g. "03:00" (unquoted it is a number in YAML 1.1)'
        : undefined,
  })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const WindowSchema = z
  .strictObject({
    timezone: z.string().refine(validTimezone, 'not an IANA time zone like Europe/Berlin'),
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
    start: TimeOfDay,
    /** May be before start: the window runs over midnight. */
    end: TimeOfDay,
  })
  .refine((w) => w.start !== w.end, { message: 'start and end are the same time', path: ['end'] });

export type MaintenanceWindow = z.infer<typeof WindowSchema>;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const SerialSchema = z.union([
  z.number().int().min(1),
  z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage like "25%"'),
  z
    .array(
      z.union([
        z.number().int().min(1),
        z.string().regex(/^\d+(\.\d+)?%$/, 'a number or a percentage like "25%"'),
      ]),
    )
    .min(1),
]);

export const MaintenanceSchema = z.strictObject({
  /** The action: a playbook run on each node while it is out of the LB, relative to the spec. */
  play: z.string().optional(),
  serial: SerialSchema.default(1),
  /** The run stops when more than this share of the nodes so far failed. Default 0: the first failure stops it. */
  maxFailPercentage: z.number().min(0).max(100).default(0),
  drainTimeoutSeconds: z.number().positive().default(300),
  /** Sessions still open at the timeout: stop the run, go on anyway, or put the node back untouched. */
  onDrainTimeout: z.enum(['abort', 'force', 'skip']).default('abort'),
  /** A node whose action or health gate failed: back into the LB, or left out (drained) for a human. */
  onFailure: z.enum(['enable', 'leave-drained']).default('enable'),
  /** Wait for an `approve` signal before the first batch, or before every batch. */
  approve: z.enum(['none', 'first', 'each']).default('none'),
  approvalTimeoutSeconds: z.number().positive().default(3600),
  onApprovalTimeout: z.enum(['abort', 'continue']).default('abort'),
  window: WindowSchema.optional(),
});

export const NodeConfigSchema = z.strictObject({
  /** The product's server config, a Java-style properties file. */
  path: AbsPath,
  /** Keys that differ per node and are never synced (seed 000's list). */
  nodeSpecific: z.array(ConfigKey).default([]),
  /**
   * Keys a joining node copies from the reference like any other, yet may change on its own
   * afterwards, so drift checks ignore them (seed 000's second never-synced list: database.url,
   * license.key, upload limits, ...).
   */
  mayDiffer: z.array(ConfigKey).default([]),
  /** A joining node's own values for node-specific keys; `{{ inventory_hostname }}` and `{{ address }}` are replaced. */
  set: z.record(ConfigKey, z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Keys removed from a joining node's copy (the product regenerates them, e.g. nodeid). */
  delete: z.array(ConfigKey).default([]),
  /** Keys every clustered node must have. */
  cluster: z.record(ConfigKey, z.union([z.string(), z.number(), z.boolean()])).default({}),
  /**
   * After config-drift --fix (and the scheduled sync) rewrote a node's file, `systemctl reload`
   * its service: for a product that rereads its config live (seed 004's sync, vsftpd on SIGHUP).
   * Without it the fix waits for the next restart (rolling-maintenance), as the result says.
   */
  reload: z.boolean().default(false),
});

export const NodesSectionSchema = z.strictObject({
  hosts: HostRefs,
  /** The node a joining node's config is derived from and drift is measured against. Default: the first. */
  reference: HostRef.optional(),
  port: Port.default(8080),
  service: ServiceName,
  user: z
    .strictObject({
      name: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user name'),
      uid: z.number().int().min(1),
      group: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix group name')
        .optional(),
      gid: z.number().int().min(1),
    })
    .optional(),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.:-]*$/, 'a package name')).default([]),
  /** A playbook that installs the application on a joining node, relative to the spec. */
  install: z.string().optional(),
  /**
   * cluster-setup: the playbook that installs and configures the first node (the reference) of a
   * new cluster; further nodes get `install` and their config derived from it. Default: `install`.
   */
  firstInstall: z.string().optional(),
  /** cluster-setup: how many further nodes join at once. */
  joinConcurrency: z.number().int().min(1).max(50).default(4),
  config: NodeConfigSchema.optional(),
  health: HealthCheckSchema.default(HealthCheckSchema.parse({ http: {} })),
  /** Run on the node, prints how many user sessions it still holds; added to what the LB counts. */
  sessions: z.strictObject({ command: z.string().min(1) }).optional(),
  maintenance: MaintenanceSchema.default(MaintenanceSchema.parse({})),
});

export type LoadBalancerSection = z.infer<typeof LoadBalancerSectionSchema>;
export type NodesSection = z.infer<typeof NodesSectionSchema>;
export type HealthCheck = z.infer<typeof HealthCheckSchema>;
export type Maintenance = z.infer<typeof MaintenanceSchema>;
export type NodeConfig = z.infer<typeof NodeConfigSchema>;

/** A node as the LB sees it. */
export interface LbMember {
  /** Inventory name of the node. */
  node: string;
  /** Name inside the LB: HAProxy server, Apache route. */
  name: string;
  address: string;
  port: number;
}

/** The load balancer of a cluster, every host reference resolved. */
export interface LoadBalancerInput extends Omit<LoadBalancerSection, 'hosts' | 'members'> {
  hosts: HostTarget[];
}

export interface NodeInfo {
  name: string;
  target: HostTarget;
  member: LbMember;
}

/** Everything node workflows need: the nodes, their LB, and the operator's settings. */
export interface NodesInput {
  cluster: string;
  nodes: NodeInfo[];
  reference: string;
  settings: Omit<NodesSection, 'hosts' | 'reference'>;
  loadBalancer?: LoadBalancerInput;
  /** Database primary (address:port) a joining node must reach, when the spec has a database. */
  database?: { address: string; port: number };
}

/** How a node stands in one LB. `drain`: no new sessions; `disabled`: no traffic at all. */
export type AdminState = 'ready' | 'drain' | 'disabled';

export interface MemberStatus {
  name: string;
  address?: string;
  port?: number;
  admin: AdminState;
  /** The LB's own health view, where it has one. */
  up?: boolean;
  /** Sessions/connections the LB still has on this member; undefined where the LB cannot tell (nginx). */
  sessions?: number;
}

/** One LB host's view of one member. */
export interface LbMemberView {
  lb: string;
  present: boolean;
  status?: MemberStatus;
}
