import type { SecretRef } from './secrets';

// An Ansible Vault value as it travels through workflows: the ciphertext and the reference of the
// password that opens it, never the plaintext. Pure data, so workflow code may carry it; only the
// worker (activities/vault-task.ts) opens it, right before a task's arguments are rendered.

/** Shown instead of a vaulted value's plaintext anywhere it would leave the worker. */
export const REDACTED = '********';

export interface VaultedValue {
  /** The envelope as ansible-vault writes it (`$ANSIBLE_VAULT;1.1;AES256` and hex lines). Ansible's own JSON key. */
  __ansible_vault: string;
  /** The password's reference (env:NAME, file:/path): set by the client once it has opened the value. */
  vault_secret?: SecretRef;
  /** The plaintext is JSON (a top-level value of an encrypted vars file), not text. */
  vault_json?: true;
}

export function isVaulted(value: unknown): value is VaultedValue {
  return (
    !!value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { __ansible_vault?: unknown }).__ansible_vault === 'string'
  );
}

/** A copy of `value` with every vaulted value in it replaced by what `open` makes of it. */
export function mapVaulted(
  value: unknown,
  open: (v: VaultedValue, path: string) => unknown,
  path = '',
): unknown {
  if (isVaulted(value)) return open(value, path);
  if (Array.isArray(value)) return value.map((v, i) => mapVaulted(v, open, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, mapVaulted(v, open, path ? `${path}.${k}` : k)]),
    );
  return value;
}

/** Whether a vaulted value sits anywhere in `value`. */
export function containsVaulted(value: unknown): boolean {
  let found = false;
  mapVaulted(value, (v) => ((found = true), v));
  return found;
}

/**
 * `value` with every occurrence of each secret replaced by ********, in every string, however deep
 * (keys too: a `dict2items` of a secret makes keys of it). Longest first, so a secret that
 * contains another is hidden whole.
 */
export function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  if (!list.length) return value;
  const text = (s: string) => list.reduce((acc, secret) => acc.split(secret).join(REDACTED), s);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * The forms a plaintext takes in output: itself, without its final line break, JSON-escaped (a
 * dict shown by debug), and each line of a multi-line one (a key file shown line by line).
 */
export function secretForms(plaintext: string): string[] {
  const trimmed = plaintext.replace(/\r?\n$/, '');
  const lines = trimmed.includes('\n') ? trimmed.split(/\r?\n/).filter((l) => l.trim().length >= 4) : [];
  return [plaintext, trimmed, JSON.stringify(trimmed).slice(1, -1), ...lines];
}

/** Whether any secret shows in `value` (a fact that must be sealed again, not scrubbed). */
export function revealsSecret(value: unknown, secrets: readonly string[]): boolean {
  const list = secrets.filter((s) => s.length > 0);
  return list.length > 0 && JSON.stringify(scrubSecrets(value, list)) !== JSON.stringify(value);
}
