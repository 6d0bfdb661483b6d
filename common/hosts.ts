import { z } from 'zod';
import { SecretRefSchema } from './secrets';

const Connection = {
  name: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  privateKey: SecretRefSchema.optional(),
  password: SecretRefSchema.optional(),
  knownHostsFile: z.string().min(1),
  /**
   * `strict`: only keys already in known_hosts. `accept-new`: trust a host seen for the first time
   * and record its key (never a changed one), as OpenSSH's StrictHostKeyChecking=accept-new.
   */
  hostKeyChecking: z.enum(['strict', 'accept-new']).default('strict'),
  connectTimeoutMs: z.number().int().positive().default(10_000),
};

/** A bastion reached first; the target connection is a channel forwarded through it (ProxyJump). */
export const JumpHostSchema = z.object(Connection);

export const BecomeSchema = z.object({
  user: z.string().min(1).default('root'),
  /** sudo password by reference, written to sudo's stdin; without it sudo must not ask (`sudo -n`). */
  password: SecretRefSchema.optional(),
  /** How: sudo (the default) or su (as root, or with no password asked). */
  method: z.enum(['sudo', 'su']).optional(),
});

/** Everything an activity needs to reach one host, after inventory resolution. Holds no secret values. */
export const HostTargetSchema = z.object({
  ...Connection,
  jump: JumpHostSchema.optional(),
  become: BecomeSchema.optional(),
  /** `local`: commands run on the worker itself (Ansible's connection local, `delegate_to: localhost`). */
  connection: z.enum(['ssh', 'local']).optional(),
});

export type HostTarget = z.infer<typeof HostTargetSchema>;
export type JumpHost = z.infer<typeof JumpHostSchema>;
export type Become = z.infer<typeof BecomeSchema>;
export type HostTargetInput = z.input<typeof HostTargetSchema>;
