import type { z } from 'zod';
import type { AptKeyArgs, ModuleResult } from '../../common/modules';
import { keyserverLookupUrl } from '../../common/lab-urls';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleContext, type ModuleRunner } from './context';
import { parseResponse, requestScript, requestStdin, responseMessage } from './http';
import { keyIds, readKeyring, writeKeyring, type KeyIdentity, type Keyring, type PublicKey } from './openpgp';

// apt_key, as ansible-core's: a key is present when apt's keyrings list its id. ansible-core runs
// apt-key, which needs gpg; Debian 12 ships neither gpg by default nor, from 13, apt-key. So the
// worker reads the keyrings itself (openpgp.ts) and keeps a new key in a file of its own in
// /etc/apt/trusted.gpg.d, as Debian advises instead of apt-key add; `keyring` names the one
// file to use instead. Keys are fetched by the host, from lab addresses only (common/lab-urls.ts).

type AptKey = z.output<typeof AptKeyArgs>;

/** The keyrings apt-key lists when no keyring is named. */
const TRUSTED = '/etc/apt/trusted.gpg';
const TRUSTED_PARTS = '/etc/apt/trusted.gpg.d';

const NOT_ADDED = 'apt-key did not return an error, but %s (check that the id is correct and *not* a subkey)';

/** Pure: ansible-core's split of a key id: the short (8), the compared (16 or 8) and the whole id. */
export function parseKeyId(id: string): { short: string; fingerprint: string; keyId: string } {
  const keyId = id.toUpperCase().replace(/^0X/, '');
  return { short: keyId.slice(-8), fingerprint: keyId.length > 16 ? keyId.slice(-16) : keyId, keyId };
}

/** Pure: whether a key answers to an id, as long as the id is given (a fingerprint: all of it). */
const answersTo = (key: KeyIdentity, id: string) =>
  id.length > 16 ? key.fingerprint.endsWith(id) : key.keyId.endsWith(id);
/** Pure: whether a key, by its primary key or a subkey, answers to an id. */
export const holdsKey = (k: PublicKey, id: string) => [k.primary, ...k.subkeys].some((s) => answersTo(s, id));

/** Pure: where a new key goes: the keyring named, else its own file in trusted.gpg.d. */
export function keyFileFor(a: Pick<AptKey, 'keyring'>, first: PublicKey): string {
  return a.keyring ?? `${TRUSTED_PARTS}/apt_key-${first.primary.keyId}.gpg`;
}

/** Pure: the keys of a target keyring with new ones added (those it holds already kept as they are). */
export function withKeys(ring: Keyring, added: PublicKey[]): PublicKey[] {
  const have = new Set(ring.keys.map((k) => k.primary.fingerprint));
  return [...ring.keys, ...added.filter((k) => !have.has(k.primary.fingerprint))];
}

/** The keyring files apt-key would list, and the key file given, read in one round trip. */
function readScript(a: AptKey): string {
  const emit = 'emit() { if [ -f "$2" ]; then printf \'%s %s\\n\' "$1" "$2"; base64 -w0 < "$2"; echo; fi; }';
  const rings = a.keyring
    ? `emit ring ${shellQuote(a.keyring)}`
    : `for f in ${TRUSTED} ${TRUSTED_PARTS}/*.gpg ${TRUSTED_PARTS}/*.asc; do emit ring "$f"; done`;
  const source = a.file
    ? `if [ -f ${shellQuote(a.file)} ]; then emit source ${shellQuote(a.file)}; else echo 'nosource -'; fi`
    : '';
  return ['[ -d /etc/apt ] || { echo "noapt -"; exit 0; }', emit, rings, source].filter(Boolean).join('\n');
}

/** Pure: the read script's report: each keyring by path, and the key file's bytes. */
export function parseRead(stdout: string): { noApt: boolean; rings: Map<string, Buffer>; source?: Buffer } {
  const rings = new Map<string, Buffer>();
  let source: Buffer | undefined;
  let noApt = false;
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const [kind, ...rest] = lines[i].split(' ');
    if (kind === 'noapt') noApt = true;
    if (kind !== 'ring' && kind !== 'source') continue;
    const bytes = Buffer.from(lines[++i] ?? '', 'base64');
    if (kind === 'ring') rings.set(rest.join(' '), bytes);
    else source = bytes;
  }
  return { noApt, rings, source };
}

/** The host fetches the key (as get_url does), from a lab address: the schema refused others. */
async function fetchKey(ctx: ModuleContext, url: string, validateCerts: boolean) {
  const req = {
    url,
    method: 'GET',
    headers: {},
    timeout: 30,
    validateCerts,
    forceBasicAuth: false,
    followRedirects: true,
    output: 'response',
    printBody: { always: true, wantedStatus: [200] },
  };
  const res = parseResponse((await ctx.remote.run(requestScript(req), { stdin: requestStdin(req) })).stdout);
  if (res.tool === 'none') return { error: 'neither curl nor wget is installed on this host' };
  if (res.status !== 200) return { error: responseMessage(res), status: res.status };
  return { body: res.body ?? Buffer.alloc(0) };
}

/** The key's bytes from data, the host's file, a URL or a keyserver; a string says why not. */
async function keyBytes(
  ctx: ModuleContext,
  a: AptKey,
  source?: Buffer,
  keyId?: string,
): Promise<Buffer | string> {
  if (a.data !== undefined) return Buffer.from(a.data);
  if (a.file) return source ?? `Unable to add a key from file ${a.file}: no such file`;
  if (a.url) {
    const r = await fetchKey(ctx, a.url, a.validate_certs);
    return r.body ?? `Failed to download key at ${a.url}: ${r.error}`;
  }
  if (a.keyserver && keyId) {
    const r = await fetchKey(ctx, keyserverLookupUrl(a.keyserver, keyId), a.validate_certs);
    if (r.body) return r.body;
    return r.status === 404
      ? `Key ${keyId} not found on keyserver ${a.keyserver}`
      : `Error fetching key ${keyId} from keyserver: ${a.keyserver} (${r.error})`;
  }
  return 'no key to add: give data, file, url or keyserver';
}

/** The keys given, or ansible-core's message when there are none. */
async function keysGiven(ctx: ModuleContext, a: AptKey, source?: Buffer, keyId?: string) {
  const bytes = await keyBytes(ctx, a, source, keyId);
  if (typeof bytes === 'string') return bytes;
  const ring = readKeyring(bytes);
  if (ring.keys.length) return ring.keys;
  const from = a.file ?? a.url ?? 'inline data';
  return `Unable to extract key from '${from}'${ring.unreadable ? `: ${ring.unreadable}` : ''}`;
}

export const aptKey: ModuleRunner<AptKey> = async (ctx, a) => {
  const read = parseRead((await ctx.remote.must(readScript(a), 'reading the apt keyrings')).stdout);
  if (read.noApt) return failed('apt_key: this host has no apt (/etc/apt is missing)');
  const rings = new Map([...read.rings].map(([path, bytes]) => [path, readKeyring(bytes)]));
  const data: Record<string, unknown> = {};

  // Without an id, the key's own says which it is (and the key is fetched, in check mode too).
  let fetched: PublicKey[] | undefined;
  let id = a.id;
  if (id === undefined) {
    const keys = await keysGiven(ctx, a, read.source);
    if (typeof keys === 'string') return failed(keys);
    fetched = keys;
    id = keys[0].primary.keyId;
  }
  const { short, fingerprint, keyId } = parseKeyId(id);
  Object.assign(data, { id, short_id: short, fp: fingerprint, key_id: keyId });
  const shortFormat = keyId.length === 8;
  const listed = (all: Map<string, Keyring>) =>
    [...all.values()].flatMap((r) => keyIds(r.keys)).map((k) => (shortFormat ? k.slice(-8) : k));
  data.before = listed(rings);
  const present = [...rings.values()].some((r) => r.keys.some((k) => holdsKey(k, keyId)));

  if (a.state === 'present') {
    if (present) return { ...ok(`key ${keyId} is present`), data };
    if (ctx.check) return { ...changed(ctx, `add key ${keyId}`), data };
    if (!fetched) {
      const keys = await keysGiven(ctx, a, read.source, id);
      if (typeof keys === 'string') return failed(keys, { data });
      fetched = keys;
    }
    // The key given must be the one asked for; nothing is written when it is not.
    if (!fetched.some((k) => holdsKey(k, keyId)))
      return failed(NOT_ADDED.replace('%s', 'failed to add the key'), { data });
    const path = keyFileFor(a, fetched[0]);
    const target = rings.get(path) ?? { keys: [], armored: path.endsWith('.asc') };
    if (target.unreadable) return failed(`cannot add the key to ${path}: ${target.unreadable}`, { data });
    const after = { ...target, keys: withKeys(target, fetched) };
    await ctx.remote.writeFile(path, writeKeyring(after.keys, target.armored), {});
    rings.set(path, after);
    data.after = listed(rings);
    return {
      ...changed(ctx, `add key ${keyId} to ${path}`, {
        path,
        before: keyIds(target.keys).join('\n'),
        after: keyIds(after.keys).join('\n'),
      }),
      data,
    };
  }

  if (!present) return { ...ok(`key ${keyId} is absent`), data };
  // apt-key del takes primary keys only: a subkey's id removes nothing, and that is an error.
  const holding = [...rings].filter(([, r]) => r.keys.some((k) => answersTo(k.primary, keyId)));
  if (ctx.check) return { ...changed(ctx, `remove key ${keyId}`), data };
  if (!holding.length) return failed(NOT_ADDED.replace('%s', 'the key was not removed'), { data });
  // A keyring read only in part is never rewritten: what could not be read would be lost.
  const partial = holding.find(([, r]) => r.unreadable);
  if (partial) return failed(`cannot remove the key from ${partial[0]}: ${partial[1].unreadable}`, { data });
  for (const [path, ring] of holding) {
    const kept = ring.keys.filter((k) => !answersTo(k.primary, keyId));
    // A keyring left without keys goes, as apt-key del removes an emptied trusted.gpg.d file.
    if (kept.length) await ctx.remote.writeFile(path, writeKeyring(kept, ring.armored), {});
    else await ctx.remote.must(`rm -f -- ${shellQuote(path)}`, `removing ${path}`);
    rings.set(path, { ...ring, keys: kept });
  }
  data.after = listed(rings);
  const paths = holding.map(([path]) => path).join(', ');
  const result: ModuleResult = {
    ...changed(ctx, `remove key ${keyId} from ${paths}`, {
      path: paths,
      before: (data.before as string[]).join('\n'),
      after: (data.after as string[]).join('\n'),
    }),
    data,
  };
  return result;
};
