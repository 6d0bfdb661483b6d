import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  decryptVault,
  encryptVault,
  isVaultText,
  parseEnvelope,
  vaultPassword,
  VaultError,
} from '../activities/vault';
import type { PlayInput, PlaySpec, PlayTask } from '../common/play';
import { SecretRefSchema, type SecretRef } from '../common/secrets';
import { containsVaulted, mapVaulted, type VaultedValue } from '../common/vaulted';
import { parseAnsibleYaml } from './yaml';

// Ansible Vault on the operator's machine. The client has the passwords (by reference, as the
// worker does) and opens vaults only to check them and to learn the names of an encrypted vars
// file: each of its values is sealed again on its own, so a workflow input carries ciphertext and
// the password's reference, never a plaintext. The worker opens values right before a task runs
// (activities/vault-task.ts) and scrubs them from what it reports.

/** A vault that none of the given passwords opens, or a password that cannot be read. */
export class VaultOpenError extends Error {}

/** One `--vault-id label@source` (or `--vault-password-file source`, label `default`). */
export interface VaultSecret {
  id: string;
  ref: SecretRef;
}

/** A source as the operator gives it: env:NAME, file:/path, or a path (made absolute). */
function sourceRef(source: string, flag: string): SecretRef {
  if (source === 'prompt' || source === '@prompt')
    throw new VaultOpenError(
      `${flag} ${source}: asking for the password is not supported; give a file or env:NAME`,
    );
  if (SecretRefSchema.safeParse(source).success) return source;
  if (source.startsWith('env:'))
    throw new VaultOpenError(`${flag} ${source}: not a variable name (letters, digits, _)`);
  const file = path.resolve(source.startsWith('file:') ? source.slice(5) : source);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new VaultOpenError(`${flag} ${source}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  // ansible-playbook runs an executable password file and reads its output; taken as text, it
  // would only ever be a wrong password.
  if (mode & 0o111)
    throw new VaultOpenError(
      `${flag} ${source}: an executable password script is not supported yet; give a file holding the password`,
    );
  return `file:${file}`;
}

/** `--vault-password-file` and `--vault-id` as ansible-playbook takes them, in the order given. */
export function vaultSecretsFromFlags(flags: {
  vaultPasswordFile?: string[];
  vaultId?: string[];
}): VaultSecret[] {
  const files = (flags.vaultPasswordFile ?? []).map((f) => ({
    id: 'default',
    ref: sourceRef(f, '--vault-password-file'),
  }));
  const ids = (flags.vaultId ?? []).map((spec) => {
    // `label@source`; `env:NAME` and a path with an @ in a folder name stay whole.
    const at = spec.indexOf('@');
    const labelled = at > 0 && !spec.slice(0, at).includes('/') && !spec.slice(0, at).includes(':');
    return {
      id: labelled ? spec.slice(0, at) : 'default',
      ref: sourceRef(labelled ? spec.slice(at + 1) : spec, '--vault-id'),
    };
  });
  return [...files, ...ids];
}

interface Keyring {
  secrets: VaultSecret[];
  /** Read on first use: a play without vaults never needs its password file. */
  passwords: Map<SecretRef, Buffer>;
  /** Which reference opens each envelope (undefined: none does), so each is tried once per run. */
  opener: Map<string, VaultSecret | undefined>;
}

let keyring: Keyring = { secrets: [], passwords: new Map(), opener: new Map() };

/** The passwords later reads use (a command sets them before it reads inventory and playbook). */
export function useVaultSecrets(secrets: VaultSecret[]): void {
  keyring = { secrets, passwords: new Map(), opener: new Map() };
}

function passwordOf(secret: VaultSecret): Buffer {
  const known = keyring.passwords.get(secret.ref);
  if (known) return known;
  const rest = secret.ref.slice(secret.ref.indexOf(':') + 1);
  let raw: string | Buffer | undefined;
  if (secret.ref.startsWith('env:')) raw = process.env[rest];
  else
    try {
      raw = readFileSync(rest);
    } catch (err) {
      throw new VaultOpenError(
        `vault password ${secret.ref}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  if (raw === undefined) throw new VaultOpenError(`vault password ${secret.ref}: the variable is not set`);
  let password: Buffer;
  try {
    password = vaultPassword(raw);
  } catch (err) {
    throw new VaultOpenError(`vault password ${secret.ref}: ${(err as Error).message}`);
  }
  keyring.passwords.set(secret.ref, password);
  return password;
}

/**
 * Opens an envelope with the given passwords, those of its own vault id first (as ansible-core
 * tries them). `what` names the file or variable in the error; the error never shows a value.
 */
function open(envelope: string, what?: string): { plaintext: Buffer; secret: VaultSecret } {
  const failure = (reason: string) => new VaultOpenError(what ? `${what}: ${reason}` : reason);
  let vaultId: string | undefined;
  try {
    vaultId = parseEnvelope(envelope).vaultId;
  } catch (err) {
    throw failure((err as Error).message);
  }
  if (!keyring.secrets.length)
    throw failure(
      'encrypted with ansible-vault, and no vault password was given (--vault-password-file or --vault-id)',
    );
  const tried = [...new Set(keyring.secrets.map((s) => s.id))].join(', ');
  const refused = failure(
    `no vault password given opens it${vaultId ? ` (vault id ${vaultId})` : ''}: wrong password? (tried vault ids: ${tried})`,
  );
  if (keyring.opener.has(envelope)) {
    const secret = keyring.opener.get(envelope);
    if (!secret) throw refused;
    return { plaintext: decryptVault(envelope, passwordOf(secret)), secret };
  }
  const order = [...keyring.secrets].sort((a, b) => Number(b.id === vaultId) - Number(a.id === vaultId));
  for (const secret of order) {
    try {
      const plaintext = decryptVault(envelope, passwordOf(secret));
      keyring.opener.set(envelope, secret);
      return { plaintext, secret };
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
    }
  }
  keyring.opener.set(envelope, undefined);
  throw refused;
}

/** A value sealed on its own with the password that opened its file: text as text, the rest as JSON. */
function seal(value: unknown, secret: VaultSecret, vaultId: string | undefined): VaultedValue {
  const password = passwordOf(secret);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return {
    __ansible_vault: encryptVault(text, password, vaultId),
    vault_secret: secret.ref,
    ...(typeof value === 'string' ? {} : { vault_json: true as const }),
  };
}

/**
 * A vars file's content, read as Ansible reads it (errors name no file: the caller adds it). An encrypted one (the whole file) is opened to
 * learn its names; each top-level value is then sealed on its own, so the plaintext goes no further.
 */
export function readVarsText(text: string): unknown {
  if (!isVaultText(text)) return parseAnsibleYaml(text);
  const { plaintext, secret } = open(text);
  let doc: unknown;
  try {
    doc = parseAnsibleYaml(plaintext.toString('utf8'));
  } catch (err) {
    // The parser quotes the offending line: the reason only.
    throw new VaultOpenError(`decrypted, but not YAML: ${(err as Error).message.split(' at line')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new VaultOpenError('decrypted, but not a mapping of variables');
  const vaultId = parseEnvelope(text).vaultId;
  return Object.fromEntries(
    Object.entries(doc).map(([k, v]) => {
      // An inline value inside the encrypted file is opened into its parent, which is sealed whole.
      const inner = mapVaulted(v, (x, at) =>
        open(x.__ansible_vault, `${k}${at ? `.${at}` : ''}`).plaintext.toString('utf8'),
      );
      return [k, seal(inner, secret, vaultId)];
    }),
  );
}

/** Every vaulted value of a play checked against the passwords and given the reference that opens it. */
function sealPlay(play: PlaySpec, where: string): PlaySpec {
  const stamp = (value: unknown, what: (at: string) => string) =>
    mapVaulted(value, (v, at) =>
      v.vault_secret ? v : { ...v, vault_secret: open(v.__ansible_vault, what(at)).secret.ref },
    );
  const task = (t: PlayTask): PlayTask => ({
    ...t,
    args: stamp(t.args, (at) => `${where}: task "${t.name}": ${at}`) as PlayTask['args'],
    ...(t.control
      ? { control: stamp(t.control, (at) => `${where}: task "${t.name}": ${at}`) as PlayTask['control'] }
      : {}),
  });
  return {
    ...play,
    hosts: play.hosts.map((h) => ({
      ...h,
      vars: stamp(h.vars, (at) => `${where}: host ${h.target.name}: variable ${at}`) as typeof h.vars,
    })),
    tasks: play.tasks.map(task),
    handlers: play.handlers.map(task),
  };
}

/** The play input with every vaulted value checked and stamped; unchanged when it has none. */
export function sealVaulted(input: PlayInput): PlayInput {
  if (!containsVaulted(input.plays)) return input;
  return {
    ...input,
    plays: input.plays.map((p, i) => sealPlay(p, `${input.source}: play ${i + 1} ("${p.name}")`)),
  };
}

// The names whose value is vaulted, or a template over one: what pre-flight cannot render.
const vaultedNamesCache = new WeakMap<object, string[]>();

function vaultedNames(vars: Record<string, unknown>): string[] {
  const cached = vaultedNamesCache.get(vars);
  if (cached) return cached;
  const names = new Set(Object.keys(vars).filter((k) => containsVaulted(vars[k])));
  for (let grew = names.size > 0; grew;) {
    grew = false;
    for (const [k, v] of Object.entries(vars)) {
      if (names.has(k) || (typeof v !== 'string' && (typeof v !== 'object' || v === null))) continue;
      if (mentionsAny(v, [...names])) {
        names.add(k);
        grew = true;
      }
    }
  }
  const list = [...names];
  vaultedNamesCache.set(vars, list);
  return list;
}

function mentionsAny(value: unknown, names: string[]): boolean {
  if (!names.length) return false;
  const text = JSON.stringify(value);
  return names.some((n) => new RegExp(`\\b${n}\\b`).test(text));
}

/**
 * Whether a task's arguments depend on a vaulted value, directly or through the variables: then
 * pre-flight checks only their keys, as for values the run gives, and the worker renders them.
 */
export function dependsOnVault(
  args: unknown,
  hostVars: Record<string, unknown>,
  task?: { defaults?: Record<string, unknown>; vars?: Record<string, unknown> },
): boolean {
  if (containsVaulted(args)) return true;
  // The host's names are worked out once per host; a task's own vars make a scope of their own.
  const vars = task?.defaults || task?.vars ? { ...task.defaults, ...hostVars, ...task.vars } : hostVars;
  return mentionsAny(args, vaultedNames(vars));
}
