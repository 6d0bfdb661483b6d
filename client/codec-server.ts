import http from 'node:http';
import type { Payload } from '@temporalio/common';
import { AesGcmCodec } from '../worker/codec';

// A codec server for the Temporal Web UI (`temporal server start-dev --ui-codec-endpoint URL`, or
// the UI's "Codec Server" setting): the browser posts encrypted payloads, gets them decoded with
// the operator's key, which never leaves this process. Speaks the UI's JSON: {payloads: [{metadata:
// {k: base64}, data: base64}]} on POST /decode and /encode (optionally under /<namespace>/).

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function createCodecServer(codec: AesGcmCodec, options: { uiOrigin: string }): http.Server {
  return http.createServer((req, res) => {
    // The UI calls from the browser: only its own origin may read the answers.
    res.setHeader('Access-Control-Allow-Origin', options.uiOrigin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const route = /\/(encode|decode)$/.exec(req.url?.split('?')[0] ?? '')?.[1];
    if (req.method !== 'POST' || !route) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
        const payloads = (body.payloads ?? []).map(fromJson);
        const out = route === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ payloads: out.map(toJson) }));
      } catch (err) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
}
