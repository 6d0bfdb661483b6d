import path from 'node:path';
import type { z } from 'zod';
import type { UriArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';
import {
  ansibleHeaders,
  dispositionFilename,
  parsePlace,
  parseResponse,
  placeScript,
  requestScript,
  requestStdin,
  responseMessage,
  urlFilename,
} from './http';
import { settleAttributes } from './path-attributes';

// uri, as ansible-core's: one request made by the host, judged by `status_code`; `content` with
// return_content, `json` when the response is JSON, every header as a lower-case field. With
// `dest` the body is written there, and (unlike ansible-core, which always says changed) the
// task is changed only when the file's content or attributes change.

type Uri = z.output<typeof UriArgs>;

/** Pure: the body as bytes, and the Content-Type its format implies. */
export function encodeBody(a: Pick<Uri, 'body' | 'body_format'>): { body?: Buffer; contentType?: string } {
  if (a.body === undefined || a.body === null) return {};
  if (a.body_format === 'json')
    return {
      body: Buffer.from(typeof a.body === 'string' ? a.body : JSON.stringify(a.body)),
      contentType: 'application/json',
    };
  if (a.body_format === 'form-urlencoded') {
    const type = 'application/x-www-form-urlencoded';
    if (typeof a.body === 'string') return { body: Buffer.from(a.body), contentType: type };
    const pairs: [unknown, unknown][] = Array.isArray(a.body)
      ? (a.body as [unknown, unknown][])
      : Object.entries(a.body as Record<string, unknown>);
    const form = new URLSearchParams();
    for (const [k, v] of pairs)
      for (const value of Array.isArray(v) ? v : [v])
        if (value !== null && value !== undefined) form.append(String(k), String(value));
    return { body: Buffer.from(form.toString()), contentType: type };
  }
  if (typeof a.body === 'object')
    throw new Error('body_format raw takes a string; use body_format json or form-urlencoded for a mapping');
  return { body: Buffer.from(String(a.body)) };
}

/** Pure: whether a redirect is followed: `all` always, `safe` for GET and HEAD, `none` never. */
export function followsRedirects(a: Pick<Uri, 'follow_redirects' | 'method'>): boolean {
  if (a.follow_redirects === 'all' || a.follow_redirects === 'yes') return true;
  if (a.follow_redirects === 'none') return false;
  return a.method === 'GET' || a.method === 'HEAD';
}

const JSONISH = /^[^/;]*\/[^;]*(json|javascript|text)/i;

/** Pure: a guard for creates/removes, ahead of the request; prints why it skips. */
function guard(a: Uri): string {
  const lines: string[] = [];
  if (a.creates) lines.push(`if [ -e ${shellQuote(a.creates)} ]; then echo 'guard=creates'; exit 0; fi`);
  if (a.removes) lines.push(`if [ ! -e ${shellQuote(a.removes)} ]; then echo 'guard=removes'; exit 0; fi`);
  return lines.join('\n');
}

export const uri: ModuleRunner<Uri> = async (ctx, a) => {
  // ansible-core's uri does not support check mode: the task is skipped there.
  if (ctx.check)
    return { changed: false, skipped: true, msg: 'remote module (uri) does not support check mode' };
  let encoded: ReturnType<typeof encodeBody>;
  try {
    encoded = encodeBody(a);
  } catch (err) {
    return failed((err as Error).message);
  }
  const headers = { ...a.headers };
  if (encoded.contentType && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['Content-Type'] = encoded.contentType;
  const req = {
    url: a.url,
    method: a.method,
    headers,
    body: encoded.body,
    timeout: a.timeout,
    validateCerts: a.validate_certs,
    username: a.url_username,
    password: a.url_password,
    forceBasicAuth: a.force_basic_auth,
    followRedirects: followsRedirects(a),
    output: a.dest ? '"$tmp"' : 'response',
    printBody: { always: a.return_content, wantedStatus: a.status_code },
  };
  const d = a.dest ? shellQuote(a.dest) : '';
  const script = [
    guard(a),
    a.dest
      ? [
          `if [ -d ${d} ]; then dir=${d}; echo 'destdir=1'; else dir=$(dirname -- ${d}); fi`,
          'tmp=$(mktemp "$dir/.clusterflow-uri.XXXXXX") || exit 91',
          'echo "tmp=$tmp"',
        ].join('\n')
      : '',
    requestScript(req),
  ]
    .filter(Boolean)
    .join('\n');
  const started = Date.now();
  const r = await ctx.remote.run(script, { stdin: requestStdin(req), timeoutMs: 3_600_000 });
  const skippedBy = /^guard=(\w+)$/m.exec(r.stdout)?.[1];
  if (skippedBy) {
    const why =
      skippedBy === 'creates'
        ? `skipped, since ${a.creates} exists`
        : `skipped, since ${a.removes} does not exist`;
    return { changed: false, msg: why, stdout: why };
  }
  const tmp = /^tmp=(.+)$/m.exec(r.stdout)?.[1];
  if (a.dest && !tmp) return failed(`cannot create a temporary file beside ${a.dest}: ${r.stderr.trim()}`);
  const res = parseResponse(r.stdout);
  if (res.tool === 'none') return failed('neither curl nor wget is installed on this host');
  const msg = responseMessage(res);
  const data: Record<string, unknown> = {
    ...ansibleHeaders(res.headers),
    url: res.url || a.url,
    status: res.status,
    redirected: res.redirects > 0,
    elapsed: Math.floor((Date.now() - started) / 1000),
  };
  if (res.body) {
    const text = res.body.toString('utf8');
    if (a.return_content) data.content = text;
    if (JSONISH.test(res.headers['content-type'] ?? ''))
      try {
        data.json = JSON.parse(text);
      } catch {
        // not JSON after all: ansible-core leaves json out too
      }
  }

  let what = '';
  let diff;
  if (a.dest && tmp) {
    const wanted = a.status_code.includes(res.status) && res.status !== 304;
    if (!wanted) await ctx.remote.run(`rm -f -- ${shellQuote(tmp)}`);
    else {
      const final = /^destdir=1$/m.test(r.stdout)
        ? path.join(a.dest, dispositionFilename(res.headers) ?? urlFilename(res.url || a.url))
        : a.dest;
      data.path = final;
      const placed = parsePlace(
        (await ctx.remote.must(placeScript(tmp, final, false), `writing ${final}`)).stdout,
      );
      const fixed = await settleAttributes(ctx, final, a);
      what = [placed.moved ? `wrote ${final}` : '', ...fixed].filter(Boolean).join('; ');
      if (placed.moved)
        diff = {
          path: final,
          before: placed.checksumDest ? `sha1: ${placed.checksumDest}\n` : 'absent\n',
          after: `sha1: ${placed.checksumSrc}\n`,
        };
    }
  }
  if (!a.status_code.includes(res.status))
    return failed(`Status code was ${res.status} and not [${a.status_code.join(', ')}]: ${msg}`, { data });
  if (what) return { ...changed(ctx, what, diff), data: { ...data, msg } };
  return { ...ok(msg), data };
};
