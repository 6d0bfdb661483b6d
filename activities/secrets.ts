import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../common/errors';
import { SecretRefSchema, type SecretRef } from '../common/secrets';

/**
 * Resolves a secret reference on the worker. The error names the reference, never a value, so it
 * is safe to land in workflow history.
 */
export async function resolveSecret(ref: SecretRef, field: string): Promise<Buffer> {
  if (!SecretRefSchema.safeParse(ref).success) {
    throw ApplicationFailure.nonRetryable(
      `${field}: "${ref}" is not a secret reference`,
      FailureTypes.SecretUnavailable,
    );
  }
  const [scheme, rest] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
  if (scheme === 'env') {
    const value = process.env[rest];
    if (value === undefined) {
      throw ApplicationFailure.nonRetryable(
        `${field}: environment variable ${rest} is not set on the worker`,
        FailureTypes.SecretUnavailable,
      );
    }
    return Buffer.from(value);
  }
  try {
    return await readFile(rest);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `${field}: cannot read ${rest} on the worker (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      FailureTypes.SecretUnavailable,
    );
  }
}
