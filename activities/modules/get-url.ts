import path from 'node:path';
import type { z } from 'zod';
import type { GetUrlArgs, ModuleResult } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';
import {
  dispositionFilename,
  parsePlace,
  parseResponse,
  placeScript,
  requestScript,
  requestStdin,
  responseMessage,
  urlFilename,
  type HttpRequest,
} from './http';
import { settleAttributes } from './path-attributes';

// get_url, as ansible-core's: the host downloads (curl or wget there) into a temp file beside
// dest and it replaces dest only when the content differs. An existing dest is fetched again
// only when forced or its checksum does not match (If-Modified-Since otherwise); a dest that is
// a directory is always fetched and the file named from the response or the URL. Check mode
// downloads too, into the temp file it then removes, so it answers `changed` as the run would.

type GetUrl = z.output<typeof GetUrlArgs>;

const DIGESTS = {
  md5: 'md5sum',
  sha1: 'sha1sum',
  sha224: 'sha224sum',
  sha256: 'sha256sum',
  sha384: 'sha384sum',
  sha512: 'sha512sum',
} as const;
type Algorithm = keyof typeof DIGESTS;

/** Pure: `sha256:AB cd…` as the algorithm and a clean hex digest, or the URL of a checksum file. */
export function parseChecksum(checksum: string): { algorithm: Algorithm; digest?: string; url?: string } {
  const i = checksum.indexOf(':');
  const algorithm = checksum.slice(0, i) as Algorithm;
  const value = checksum.slice(i + 1);
  if (/^(https?|ftp|file):\/\//.test(value)) return { algorithm, url: value };
  const digest = value.replace(/\W+/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digest)) throw new Error('The checksum format is invalid');
  return { algorithm, digest };
}

/**
 * Pure: the digest a checksum file gives for `filename`: GNU (`<digest>  name`), BSD
 * (`SHA256 (name) = <digest>`), or a file holding just one digest.
 */
export function digestFor(filename: string, text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  if (lines.length === 1 && lines[0].split(/\s+/).length === 1) return lines[0].toLowerCase();
  for (const line of lines) {
    const bsd = /^\w+ ?\((.+)\) ?= ([\w.]+)$/.exec(line);
    const gnu = /^([\w.]+)\s+(?:\*|\.\/|\.)?(.+)$/.exec(line);
    const [digest, name] = bsd ? [bsd[2], bsd[1]] : gnu ? [gnu[1], gnu[2].replace(/^\.\//, '')] : [];
    if (name === filename && digest) return digest.toLowerCase();
  }
  return undefined;
}

/** What dest is on the host before the download. */
export interface DestState {
  kind: 'dir' | 'file' | 'absent' | 'other';
  /** The file's digest in the checksum's algorithm (or sha1). */
  digest?: string;
  /** dest's parent directory is missing. */
  noParent?: boolean;
}

/** Pure: whether the file already there is the one asked for, so only its attributes matter. */
export function alreadyThere(a: Pick<GetUrl, 'force'>, dest: DestState, digest?: string): boolean {
  return dest.kind === 'file' && !a.force && digest !== undefined && dest.digest === digest;
}

function probe(dest: string, tool: string): string {
  const d = shellQuote(dest);
  return [
    `if [ -d ${d} ]; then echo dir`,
    `elif [ -f ${d} ]; then echo file; ${tool} < ${d} | cut -d' ' -f1`,
    `elif [ -e ${d} ]; then echo other`,
    `else echo absent; [ -d "$(dirname -- ${d})" ] || echo noparent; fi`,
  ].join('\n');
}

/** Pure: the probe's output. */
export function parseDest(stdout: string): DestState {
  const [kind, second] = stdout.trim().split('\n');
  return {
    kind: kind as DestState['kind'],
    ...(kind === 'file' && second ? { digest: second.trim() } : {}),
    ...(second === 'noparent' ? { noParent: true } : {}),
  };
}

function request(a: GetUrl, extra: Partial<HttpRequest>): HttpRequest {
  return {
    url: a.url,
    method: 'GET',
    headers: a.headers,
    timeout: a.timeout,
    validateCerts: a.validate_certs,
    username: a.url_username,
    password: a.url_password,
    forceBasicAuth: a.force_basic_auth,
    followRedirects: true,
    output: 'response',
    ...extra,
  };
}

/** Fetches a checksum file on the host and finds the digest for the URL's file name. */
async function remoteDigest(ctx: ModuleContext, a: GetUrl, url: string): Promise<string> {
  const r = request(a, { url, printBody: { always: true, wantedStatus: [200] } });
  const res = parseResponse((await ctx.remote.run(requestScript(r), { stdin: requestStdin(r) })).stdout);
  const filename = urlFilename(a.url, '');
  const digest = res.status === 200 && res.body ? digestFor(filename, res.body.toString('utf8')) : undefined;
  if (!digest) throw new Error(`Unable to find a checksum for file '${filename}' in '${url}'`);
  return digest;
}

export const getUrl: ModuleRunner<GetUrl> = async (ctx, a) => {
  const data: Record<string, unknown> = {
    dest: a.dest,
    url: a.url,
    checksum_dest: null,
    checksum_src: null,
    elapsed: 0,
  };
  let sum: ReturnType<typeof parseChecksum> | undefined;
  try {
    sum = a.checksum ? parseChecksum(a.checksum) : undefined;
    if (sum?.url) sum.digest = await remoteDigest(ctx, a, sum.url);
  } catch (err) {
    return failed((err as Error).message, { data });
  }
  const tool = DIGESTS[sum?.algorithm ?? 'sha1'];
  const dest = parseDest((await ctx.remote.must(probe(a.dest, tool), `reading ${a.dest}`)).stdout);
  if (dest.noParent) return failed(`Destination ${path.dirname(a.dest)} does not exist`, { data });
  if (dest.kind === 'other') return failed(`Destination ${a.dest} is not a regular file`, { data });

  if (alreadyThere(a, dest, sum?.digest)) {
    const fixed = await settleAttributes(ctx, a.dest, a);
    if (!fixed.length) return { ...ok('file already exists'), data };
    return { ...changed(ctx, `set ${fixed.join(', ')} on ${a.dest} (file already exists)`), data };
  }

  const dir = dest.kind === 'dir' ? a.dest : path.dirname(a.dest);
  const mismatch = dest.kind === 'file' && sum?.digest !== undefined && dest.digest !== sum.digest;
  const req = request(a, {
    output: '"$tmp"',
    ifModifiedSince: dest.kind === 'file' && !a.force && !mismatch ? a.dest : undefined,
  });
  const script = [
    `tmp=$(mktemp ${shellQuote(dir)}/.clusterflow-get_url.XXXXXX) || exit 91`,
    'echo "tmp=$tmp"',
    requestScript(req),
  ].join('\n');
  const started = Date.now();
  const r = await ctx.remote.run(script, { stdin: requestStdin(req), timeoutMs: 3_600_000 });
  data.elapsed = Math.floor((Date.now() - started) / 1000);
  const tmp = /^tmp=(.+)$/m.exec(r.stdout)?.[1];
  if (!tmp) return failed(`cannot create a temporary file in ${dir}: ${r.stderr.trim()}`, { data });
  const res = parseResponse(r.stdout);
  const drop = () => ctx.remote.run(`rm -f -- ${shellQuote(tmp)}`);
  data.status_code = res.status;
  data.msg = responseMessage(res);
  if (res.tool === 'none') {
    await drop();
    return failed('neither curl nor wget is installed on this host', { data });
  }
  if (res.status === 304) {
    await drop();
    const fixed = await settleAttributes(ctx, a.dest, a);
    if (!fixed.length) return { ...ok('Not Modified'), data };
    return { ...changed(ctx, `set ${fixed.join(', ')} on ${a.dest}`), data };
  }
  if (res.status !== 200) {
    await drop();
    const why = res.status < 0 ? responseMessage(res) : `Request failed: ${responseMessage(res)}`;
    return failed(why, { data: { ...data, response: data.msg } });
  }

  const final =
    dest.kind === 'dir'
      ? path.join(a.dest, dispositionFilename(res.headers) ?? urlFilename(res.url || a.url))
      : a.dest;
  data.dest = final;
  if (sum?.digest) {
    const actual = (
      await ctx.remote.must(`${tool} < ${shellQuote(tmp)} | cut -d' ' -f1`, 'checksum')
    ).stdout.trim();
    if (actual !== sum.digest) {
      await drop();
      return failed(`The checksum for ${tmp} did not match ${sum.digest}; it was ${actual}.`, { data });
    }
  }
  const placed = parsePlace(
    (await ctx.remote.must(placeScript(tmp, final, ctx.check), `writing ${final}`)).stdout,
  );
  data.checksum_src = placed.checksumSrc;
  data.checksum_dest = placed.checksumDest ?? null;
  const replaced = placed.checksumSrc !== placed.checksumDest;
  const fixed = await settleAttributes(ctx, final, a);
  if (!replaced && !fixed.length) return { ...ok(`${final} is as downloaded`), data };
  const diff = {
    path: final,
    before: placed.checksumDest ? `sha1: ${placed.checksumDest}\n` : 'absent\n',
    after: `sha1: ${placed.checksumSrc}\n`,
  };
  const what = [replaced ? `download ${a.url} to ${final}` : '', ...fixed].filter(Boolean).join('; ');
  const result: ModuleResult = { ...changed(ctx, what, diff), data };
  return result;
};
