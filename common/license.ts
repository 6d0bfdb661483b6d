import { z } from 'zod';
import { HostRefs } from './db';
import type { HostTarget } from './hosts';
import { SecretRefSchema, type SecretRef } from './secrets';

// The `license:` section: seed 000 "activation on each individual server node", seed 001 "every
// server its own license key". Keys travel as references only. Workflow-safe: schemas and data.
// Every object the operator writes is strict: a typo'd key is an error, never a silent default.

const ExitCodes = z.array(z.number().int().min(1).max(255));
/** A shell command run as root on the node; it never receives the key as an argument. */
const Command = z.string().min(1).max(2000);

export const CommandDriverSchema = z.strictObject({
  /** Exit 0: active. An exit code in notActiveExitCodes: not active. Anything else: an error. */
  check: Command,
  activate: Command,
  deactivate: Command,
  /** stdin: the key on the command's stdin. file: in a root-only file, named by `{keyFile}`. */
  keyVia: z.enum(['stdin', 'file']).default('stdin'),
  notActiveExitCodes: ExitCodes.default([3]),
  /** Exit codes of activate that mean "refused" (no seat, unknown key): not retried. */
  refusedExitCodes: ExitCodes.default([4]),
});

export const HttpDriverSchema = z.strictObject({
  /**
   * The licensing service: POST <endpoint>/activate, /deactivate and /status with a JSON body
   * {key, fingerprint}; the key is never in a URL. 403/404 on activate mean refused.
   */
  endpoint: z
    .string()
    .url()
    .refine((u) => /^https?:/.test(u), 'an http(s) URL'),
  /** Who calls the service: the node (curl over SSH; the node's own network path) or the worker. */
  from: z.enum(['node', 'worker']).default('node'),
  /** Prints the node's fingerprint. */
  fingerprint: Command.default('cat /etc/machine-id'),
});

export const LicenseSectionSchema = z
  .strictObject({
    hosts: HostRefs,
    driver: z.enum(['command', 'http']),
    command: CommandDriverSchema.optional(),
    http: HttpDriverSchema.optional(),
    /** One key for every node (a key with seats)... */
    key: SecretRefSchema.optional(),
    /** ...or each node its own key (seed 001); a node missing here uses `key`. */
    keys: z.record(z.string(), SecretRefSchema).default({}),
    /** Nodes activated at once. */
    concurrency: z.number().int().min(1).max(100).default(5),
    /** license-status warns when a license expires within this many days. */
    expiryWarningDays: z.number().int().min(0).default(30),
    /** A licensing-service outage is retried with backoff this long before a node is failed. */
    retryForHours: z.number().positive().max(168).default(6),
    /** Longest pause between two tries during an outage. */
    maxRetryIntervalSeconds: z.number().int().min(1).max(3600).default(60),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    if (s.driver === 'command' && !s.command) issue(['command'], 'required for driver command');
    if (s.driver === 'http' && !s.http) issue(['http'], 'required for driver http');
    if (s.command?.keyVia === 'file')
      for (const k of ['activate'] as const)
        if (!s.command[k].includes('{keyFile}'))
          issue(['command', k], 'keyVia file: the command must name the key file as {keyFile}');
    if (!s.key && Object.keys(s.keys).length === 0) issue(['key'], 'give key (or keys per node)');
  });

export type LicenseSection = z.infer<typeof LicenseSectionSchema>;

/** What the license activities need for one node. */
export interface LicenseNode {
  name: string;
  target: HostTarget;
  key: SecretRef;
}

export interface LicenseInput {
  cluster: string;
  section: Omit<LicenseSection, 'hosts' | 'key' | 'keys'>;
  nodes: LicenseNode[];
}

export type LicenseDriver = Pick<LicenseSection, 'driver' | 'command' | 'http'>;

export interface LicenseState {
  active: boolean;
  /** YYYY-MM-DD when the driver says. */
  expires?: string;
}

export type ActivationOutcome = 'activated' | 'already-active' | 'failed';

/** Days from `today` (YYYY-MM-DD, UTC) until `expires`; negative when past. */
export function daysUntil(expires: string, now: Date): number {
  const end = Date.parse(`${expires}T00:00:00Z`);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((end - start) / 86_400_000);
}
