import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { createCodecServer } from '../../client/codec-server';
import { AesGcmCodec, loadCodecKey } from '../../worker/codec';

// Payload encryption: what lands in Temporal's history is ciphertext; only a holder of the key (a
// worker, a client, the codec server for the UI) reads it.

const key = randomBytes(32);
const codec = new AesGcmCodec(key);
const payload = defaultPayloadConverter.toPayload({ cluster: 'prod', note: 'node app1 drained' });

describe('AES-GCM payload codec', () => {
  it('encrypts a payload so no plaintext is left, and decrypts it back exactly', async () => {
    const [enc] = await codec.encode([payload]);
    expect(Buffer.from(enc.data!).toString('latin1')).not.toContain('app1');
    expect(new TextDecoder().decode(enc.metadata!.encoding)).toBe('binary/encrypted');
    const [dec] = await codec.decode([enc]);
    expect(defaultPayloadConverter.fromPayload(dec)).toEqual({ cluster: 'prod', note: 'node app1 drained' });
    // a fresh IV each time: the same value never encrypts the same way twice
    const [again] = await codec.encode([payload]);
    expect(Buffer.from(again.data!).equals(Buffer.from(enc.data!))).toBe(false);
  });

  it('refuses a payload from another key, and one that was tampered with', async () => {
    const [enc] = await codec.encode([payload]);
    await expect(new AesGcmCodec(randomBytes(32)).decode([enc])).rejects.toThrow(/encrypted with key/);
    const data = Buffer.from(enc.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...enc, data }])).rejects.toThrow(/unable to authenticate|auth/i);
  });

  it('passes payloads it did not encrypt through untouched', async () => {
    expect(await codec.decode([payload])).toEqual([payload]);
  });

  it('takes its key by reference only, base64 or hex, 32 bytes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-codec-'));
    writeFileSync(path.join(dir, 'k'), key.toString('hex'));
    process.env.CF_TEST_CODEC_KEY = key.toString('base64');
    expect(loadCodecKey(`file:${path.join(dir, 'k')}`).equals(key)).toBe(true);
    expect(loadCodecKey('env:CF_TEST_CODEC_KEY').equals(key)).toBe(true);
    expect(() => loadCodecKey(key.toString('base64'))).toThrow(/not a reference/);
    process.env.CF_TEST_CODEC_KEY = 'c2hvcnQ=';
    expect(() => loadCodecKey('env:CF_TEST_CODEC_KEY')).toThrow(/does not hold 32 bytes/);
  });
});

describe('codec server for the Web UI', () => {
  const server = createCodecServer(codec, { uiOrigin: 'http://127.0.0.1:8233' });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const asJson = (p: typeof payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  });

  it('decodes what the UI posts (with a namespace prefix) and allows only the UI origin', async () => {
    const [enc] = await codec.encode([payload]);
    const res = await fetch(`${base}/default/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' },
      body: JSON.stringify({ payloads: [asJson(enc)] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    const body = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(body.payloads[0].data, 'base64').toString())).toEqual({
      cluster: 'prod',
      note: 'node app1 drained',
    });
    const preflight = await fetch(`${base}/decode`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
  });

  it('answers 400 with the reason for a payload it cannot decrypt', async () => {
    const [enc] = await new AesGcmCodec(randomBytes(32)).encode([payload]);
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      body: JSON.stringify({ payloads: [asJson(enc)] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/encrypted with key/);
  });
});
