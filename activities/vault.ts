import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

// Ansible Vault's format (1.1, and 1.2 with a vault id), as ansible-vault reads and writes it:
//   $ANSIBLE_VAULT;1.1;AES256            or   $ANSIBLE_VAULT;1.2;AES256;<vault-id>
//   hex( hex(salt) \n hex(HMAC-SHA256(key2, ciphertext)) \n hex(ciphertext) ), in lines of 80
// with key1 (AES-256-CTR key), key2 (HMAC key) and the counter's first block from
// PBKDF2-SHA256(password, salt, 10000 iterations, 80 bytes), the plaintext PKCS7-padded to 16 bytes.
// Node's crypto only: the worker and the client use it, workflow code never does.

export const VAULT_HEADER = '$ANSIBLE_VAULT';

/** A vault that cannot be opened: the message says why, never what is inside. */
export class VaultError extends Error {}

export interface VaultEnvelope {
  version: '1.1' | '1.2';
  /** The label of a 1.2 vault (`--vault-id prod@...`). */
  vaultId?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function unhex(text: string, what: string): Buffer {
  if (!HEX.test(text)) throw new VaultError(`not a vault: the ${what} is not hexadecimal`);
  return Buffer.from(text, 'hex');
}

export const isVaultText = (text: string) => text.trimStart().startsWith(VAULT_HEADER);

/** Reads the envelope; the line breaks and indentation of an inline `!vault |` value do not matter. */
export function parseEnvelope(text: string): VaultEnvelope {
  const [header, ...body] = text.trim().split(/\r?\n/);
  const parts = header.trim().split(';');
  if (parts[0] !== VAULT_HEADER) throw new VaultError(`not a vault: no ${VAULT_HEADER} header`);
  const version = parts[1]?.trim();
  if (version !== '1.1' && version !== '1.2')
    throw new VaultError(`vault format ${version ?? '(none)'} is not supported (1.1 and 1.2 are)`);
  if (parts[2]?.trim() !== 'AES256')
    throw new VaultError(`vault cipher ${parts[2] ?? '(none)'} is not supported (AES256 is)`);
  const vaultId = parts.length >= 4 ? parts[3].trim() : undefined;
  const inner = unhex(body.join('').replace(/\s+/g, ''), 'body').toString('latin1').split('\n');
  if (inner.length !== 3) throw new VaultError('not a vault: the body is not salt, HMAC and ciphertext');
  return {
    version,
    ...(vaultId ? { vaultId } : {}),
    salt: unhex(inner[0], 'salt'),
    hmac: unhex(inner[1], 'HMAC'),
    ciphertext: unhex(inner[2], 'ciphertext'),
  };
}

/**
 * The password as Ansible takes it from a file: surrounding blanks and line breaks are not part
 * of it. An empty password is refused, as ansible-vault refuses it.
 */
export function vaultPassword(raw: Buffer | string): Buffer {
  const password = Buffer.from(String(raw).trim());
  if (password.length === 0) throw new VaultError('the vault password is empty');
  return password;
}

// PBKDF2 is the slow part on purpose; the same value is opened for every task of a play, so the
// keys of a (password, salt) pair are kept, by a digest of the pair, not the password itself.
const keyCache = new Map<string, Buffer>();
const KEY_CACHE_SIZE = 512;

function derivedKeys(password: Buffer, salt: Buffer): { key: Buffer; hmacKey: Buffer; counter: Buffer } {
  const id = createHash('sha256').update(password).update('\0').update(salt).digest('hex');
  let material = keyCache.get(id);
  if (!material) {
    material = pbkdf2Sync(password, salt, 10_000, 80, 'sha256');
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(id, material);
  }
  return {
    key: material.subarray(0, 32),
    hmacKey: material.subarray(32, 64),
    counter: material.subarray(64),
  };
}

/** The plaintext, or a VaultError: "wrong password" when the HMAC does not match. */
export function decryptVault(text: string, password: Buffer): Buffer {
  const { salt, hmac, ciphertext } = parseEnvelope(text);
  const { key, hmacKey, counter } = derivedKeys(password, salt);
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  if (hmac.length !== expected.length || !timingSafeEqual(hmac, expected))
    throw new VaultError('wrong vault password (the HMAC does not match)');
  const decipher = createDecipheriv('aes-256-ctr', key, counter);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const pad = padded.at(-1) ?? 0;
  if (pad < 1 || pad > 16 || pad > padded.length || !padded.subarray(-pad).every((b) => b === pad))
    throw new VaultError('the vault opened but its padding is broken');
  return padded.subarray(0, padded.length - pad);
}

/** An envelope ansible-vault opens: 1.2 with the label when there is one (other than `default`), else 1.1. */
export function encryptVault(
  plaintext: Buffer | string,
  password: Buffer,
  vaultId?: string,
  salt: Buffer = randomBytes(32),
): string {
  const { key, hmacKey, counter } = derivedKeys(password, salt);
  const data = Buffer.from(plaintext);
  const pad = 16 - (data.length % 16);
  const cipher = createCipheriv('aes-256-ctr', key, counter);
  const ciphertext = Buffer.concat([
    cipher.update(Buffer.concat([data, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest('hex');
  const body = Buffer.from(`${salt.toString('hex')}\n${hmac}\n${ciphertext.toString('hex')}`).toString('hex');
  const labelled = vaultId && vaultId !== 'default';
  const header = [VAULT_HEADER, labelled ? '1.2' : '1.1', 'AES256', ...(labelled ? [vaultId] : [])].join(';');
  return [header, ...(body.match(/.{1,80}/g) ?? [])].join('\n') + '\n';
}
