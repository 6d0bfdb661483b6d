import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DefaultFailureConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SecretRefSchema } from '../common/secrets';

// Optional payload encryption: every workflow input, result, signal and (with the failure
// converter below) failure message is AES-256-GCM encrypted before it leaves the client or the
// worker, so Temporal's history holds ciphertext only. The key comes by reference. The codec
// server (client/codec-server.ts) lets the Web UI show decoded payloads to an operator.

export const ENCRYPTED = 'binary/encrypted';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);

export class AesGcmCodec implements PayloadCodec {
  /** A short, public fingerprint of the key, kept in each payload's metadata: which key to use. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`the codec key must be 32 bytes (AES-256), got ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCRYPTED), 'encryption-key-id': utf8(this.keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED) return p;
      const keyId = new TextDecoder().decode(p.metadata?.['encryption-key-id'] ?? new Uint8Array());
      if (keyId !== this.keyId)
        throw new Error(`payload encrypted with key ${keyId}; this codec has key ${this.keyId}`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * The key behind a reference (`env:NAME` or `file:/path`): 32 bytes as base64 (openssl rand
 * -base64 32) or hex. Never logged; an error names the reference only.
 */
export function loadCodecKey(ref: string): Buffer {
  if (!SecretRefSchema.safeParse(ref).success)
    throw new Error(`codec key: "${ref}" is not a reference like env:NAME or file:/path`);
  const [scheme, rest] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
  let text: string | undefined;
  try {
    text = scheme === 'env' ? process.env[rest] : readFileSync(rest, 'utf8');
  } catch {
    text = undefined;
  }
  if (!text) throw new Error(`codec key: ${ref} is empty or cannot be read`);
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error(`codec key: ${ref} does not hold 32 bytes (base64 or hex)`);
  return key;
}

/** Failure messages and stack traces travel encoded too (they can carry host output). */
export const encodingFailureConverter = () => new DefaultFailureConverter({ encodeCommonAttributes: true });

/** The data converter for a client, or none when no key is configured. */
export function clientDataConverter(codecKey?: string) {
  if (!codecKey) return undefined;
  return {
    payloadCodecs: [new AesGcmCodec(loadCodecKey(codecKey))],
    failureConverter: encodingFailureConverter(),
  };
}
