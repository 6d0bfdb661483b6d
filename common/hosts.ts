import { z } from 'zod';
import { SecretRefSchema } from './secrets';

/** Everything an activity needs to reach one host, after inventory resolution. Holds no secret values. */
export const HostTargetSchema = z.object({
  name: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  privateKey: SecretRefSchema.optional(),
  password: SecretRefSchema.optional(),
  knownHostsFile: z.string().min(1),
  connectTimeoutMs: z.number().int().positive().default(10_000),
});

export type HostTarget = z.infer<typeof HostTargetSchema>;
export type HostTargetInput = z.input<typeof HostTargetSchema>;
