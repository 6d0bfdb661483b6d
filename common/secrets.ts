import { z } from 'zod';

/**
 * A secret travels through workflows only as a reference; activities resolve it at the last moment
 * so that the value never lands in workflow inputs, results or history.
 */
export const SecretRefSchema = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/,
    'must be a reference like env:NAME or file:/absolute/path',
  );

export type SecretRef = z.infer<typeof SecretRefSchema>;
