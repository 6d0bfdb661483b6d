import { z } from 'zod';
import { HostTargetSchema, type HostTarget } from './hosts';
import { SecretRefSchema } from './secrets';

// The database section of the cluster spec and the shapes the replication workflows exchange.
// Workflow-safe: schemas and plain data only. Every object the operator writes is strict: a typo'd
// key is an error, not a default quietly used in its place.

/** An inventory host name or group name, as the spec refers to hosts. */
export const HostRef = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be an inventory host or group name');
export const HostRefs = z.union([HostRef.transform((h) => [h]), z.array(HostRef)]);

/** MySQL account and schema names we create: kept to characters no quoting can get wrong. */
const SqlName = z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'letters, digits and underscores only (at most 32)');
/** The host part of an account: an inventory name/group, an IP address or a MySQL pattern like 10.77.0.%. */
const GrantSource = z.string().regex(/^[A-Za-z0-9_.:%-]+$/, 'must be a host, group, address or pattern');
const ServiceName = z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'not a valid service name');
const AbsPath = z.string().regex(/^\//, 'must be an absolute path');
const Seconds = z.number().positive();

export const ApplicationGrantSchema = z.strictObject({
  user: SqlName,
  password: SecretRefSchema,
  /**
   * The application's schema, created on the primary if missing; `'*'`: every database, created
   * by the application itself (seed 002's `GRANT ALL PRIVILEGES ON *.*` for Open-Xchange).
   */
  database: z.union([SqlName, z.literal('*')]),
  privileges: z
    .string()
    .regex(/^[A-Z ,]+$/, 'privileges are upper-case words like "ALL PRIVILEGES" or "SELECT, INSERT"')
    .default('ALL PRIVILEGES'),
  /** App nodes that connect: inventory hosts or groups, addresses, or patterns. */
  from: z.union([GrantSource.transform((h) => [h]), z.array(GrantSource).min(1)]),
});

/** Where app nodes keep the database host, rewritten after a switchover or failover. */
export const AppConfigHookSchema = z.strictObject({
  hosts: HostRefs,
  path: AbsPath,
  format: z.enum(['properties', 'ini', 'json']).default('properties'),
  section: z.string().optional(),
  /** The setting's name; for json a dotted path into the file's object (`db.host`). */
  key: z.string().min(1),
  /**
   * `{{ primary }}` (inventory name), `{{ primary_address }}` and `{{ failover_hosts }}` (the
   * primary's address:port, then every other member's, comma-separated: a JDBC multi-host URL's
   * host list) are replaced.
   */
  value: z.string().default('{{ primary_address }}'),
  restart: ServiceName.optional(),
});

export const DatabaseSectionSchema = z.strictObject({
  engine: z.enum(['auto', 'mariadb', 'mysql']).default('auto'),
  primary: HostRef,
  replicas: HostRefs.default([]),
  port: z.number().int().min(1).max(65535).default(3306),
  /** Our own account, created over SSH through the local socket and used over an SSH tunnel. */
  admin: z.strictObject({ user: SqlName.default('clusterflow'), password: SecretRefSchema }),
  replication: z.strictObject({
    user: SqlName.default('replication'),
    password: SecretRefSchema,
    /** false: file/position replication exactly as the seed (SHOW MASTER STATUS, MASTER_LOG_POS). */
    gtid: z.boolean().default(true),
    semiSync: z.boolean().default(false),
    /** How fast a replica notices a dead primary: heartbeat period and the timeout it feeds. */
    heartbeatSeconds: Seconds.default(1),
    netTimeoutSeconds: z.number().int().min(2).default(3),
    connectRetrySeconds: z.number().int().min(1).default(1),
  }),
  /** host -> server-id; members not listed get 1, 2, 3... in the order primary, replicas. */
  serverIds: z.record(z.string(), z.number().int().min(1).max(4294967295)).default({}),
  config: z
    .strictObject({
      /** Defaults: Debian's conf.d for the flavour. */
      path: AbsPath.optional(),
      service: ServiceName.optional(),
      /** Extra [mysqld] options we keep in the same file. */
      options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .default({ options: {} }),
  applications: z.array(ApplicationGrantSchema).default([]),
  appConfig: z.array(AppConfigHookSchema).default([]),
  switchover: z
    .strictObject({
      maxLagSeconds: Seconds.default(10),
      /** A transaction open longer than this on the primary blocks a switchover. */
      maxTransactionAgeSeconds: Seconds.default(60),
      catchUpTimeoutSeconds: Seconds.default(30),
      approval: z
        .strictObject({
          required: z.boolean().default(false),
          timeoutSeconds: Seconds.default(3600),
          onTimeout: z.enum(['abort', 'proceed']).default('abort'),
        })
        .default({ required: false, timeoutSeconds: 3600, onTimeout: 'abort' }),
    })
    .default({
      maxLagSeconds: 10,
      maxTransactionAgeSeconds: 60,
      catchUpTimeoutSeconds: 30,
      approval: { required: false, timeoutSeconds: 3600, onTimeout: 'abort' },
    }),
  failover: z
    .strictObject({
      /** Consecutive checks that must all find the primary down, `intervalSeconds` apart. */
      checks: z.number().int().min(1).default(3),
      intervalSeconds: Seconds.default(1),
      /** A second failover of the same cluster within this window waits for an operator. */
      antiFlappingSeconds: Seconds.default(3600),
      acknowledgeTimeoutSeconds: Seconds.default(3600),
      /** How long replicas may take to apply what they already received before we choose. */
      relayApplyTimeoutSeconds: Seconds.default(30),
      /** With the primary down and no replica answering, how long to wait for one before refusing. */
      replicaWaitSeconds: Seconds.default(120),
      fence: z.enum(['stop', 'read_only']).default('stop'),
    })
    .default({
      checks: 3,
      intervalSeconds: 1,
      antiFlappingSeconds: 3600,
      acknowledgeTimeoutSeconds: 3600,
      relayApplyTimeoutSeconds: 30,
      replicaWaitSeconds: 120,
      fence: 'stop',
    }),
});

export type DatabaseSection = z.infer<typeof DatabaseSectionSchema>;
export type ApplicationGrant = z.infer<typeof ApplicationGrantSchema>;

/** What every replication workflow needs of the spec, minus the host references it resolved. */
export type DbSettings = Omit<
  DatabaseSection,
  'primary' | 'replicas' | 'applications' | 'appConfig' | 'serverIds'
>;

export const DbMemberSchema = z.object({
  name: z.string(),
  address: z.string(),
  serverId: z.number().int(),
  target: HostTargetSchema,
});
export type DbMember = z.infer<typeof DbMemberSchema>;

/** A member as the SQL activities reach it: through SSH to its own loopback, as our admin account. */
export interface DbEndpoint {
  name: string;
  address: string;
  target: HostTarget;
  port: number;
  admin: { user: string; password: string };
}

export interface ResolvedApplicationGrant extends Omit<ApplicationGrant, 'from'> {
  /** Account host parts: addresses of the inventory hosts, or the literal patterns given. */
  from: string[];
}

export interface ResolvedAppConfigHook extends Omit<z.infer<typeof AppConfigHookSchema>, 'hosts'> {
  hosts: HostTarget[];
}

/** The workflow input: the validated section with hosts resolved; secrets stay references. */
export interface DatabaseInput {
  cluster: string;
  settings: DbSettings;
  /** The primary the spec names first, then the replicas. */
  members: DbMember[];
  primary: string;
  applications: ResolvedApplicationGrant[];
  appConfig: ResolvedAppConfigHook[];
}

export type Flavour = 'mariadb' | 'mysql';

/** SHOW SLAVE/REPLICA STATUS of either flavour, in one vocabulary. */
export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  ioState: 'running' | 'connecting' | 'stopped';
  sqlRunning: boolean;
  lagSeconds: number | null;
  usingGtid: boolean;
  lastIoError: string;
  lastSqlError: string;
  /** Received but not yet applied: the relay log still holds events. */
  relayPending: boolean;
  /** MySQL only: GTID sets received and executed. */
  retrievedGtidSet?: string;
}

/** One member as seen by a probe. */
export interface MemberState {
  name: string;
  address: string;
  reachable: boolean;
  /** Why it could not be reached or read. */
  error?: string;
  flavour?: Flavour;
  version?: string;
  serverId?: number;
  /** MySQL: the uuid in this server's own GTIDs. */
  serverUuid?: string;
  readOnly?: boolean;
  logBin?: boolean;
  logReplicaUpdates?: boolean;
  /** What this member has in its binary log: gtid_binlog_pos (MariaDB) or gtid_executed (MySQL). */
  gtidExecuted?: string;
  /** What a replica has applied from its sources: gtid_slave_pos (MariaDB) or gtid_executed (MySQL). */
  gtidApplied?: string;
  /** MariaDB: last GTID per domain and server, the basis for errant-transaction checks. */
  gtidBinlogState?: string;
  replica?: ReplicaStatus;
  /** Age of the oldest open transaction, seconds (0 when none). */
  oldestTransactionSeconds?: number;
  clientSessions?: number;
  userSchemas?: string[];
}

export interface Topology {
  cluster: string;
  /** The one writable member that no member replicates into it; undefined if none or several. */
  primary?: string;
  writable: string[];
  members: MemberState[];
  replicas: {
    name: string;
    source?: string;
    ioState?: ReplicaStatus['ioState'];
    sqlRunning?: boolean;
    lagSeconds?: number | null;
    errant: string[];
  }[];
  /** Plain sentences an operator acts on; empty when the topology is healthy. */
  problems: string[];
}

/** The endpoint of a member, as workflows hand it to the SQL activities. */
export function endpointOf(member: DbMember, settings: Pick<DbSettings, 'port' | 'admin'>): DbEndpoint {
  return {
    name: member.name,
    address: member.address,
    target: member.target,
    port: settings.port,
    admin: settings.admin,
  };
}
