import { createHash, createHmac } from 'node:crypto';
import { wildcardMatch } from '../../common/wildcard';

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  line: number;
  marker?: '@revoked' | '@cert-authority';
  patterns: string[];
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority')
      marker = fields.shift() as KnownHostEntry['marker'];
    if (fields.length < 3) return;
    const [hosts, keyType, keyBase64] = fields;
    entries.push({
      line: i + 1,
      marker,
      patterns: hosts.split(','),
      keyType,
      key: Buffer.from(keyBase64, 'base64'),
    });
  });
  return entries;
}

/** The name OpenSSH looks up: plain for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  return wildcardMatch(pattern, name, { ignoreCase: true });
}

/** True when the host list of an entry names `name` (a negated pattern that matches vetoes the line). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), name)) return false;
    } else if (patternMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH-style fingerprint, as `ssh-keygen -lf` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Key type is the first length-prefixed string inside an SSH public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  // The blob comes from the server: a control character in it must not forge lines in our messages.
  return key
    .subarray(4, 4 + length)
    .toString('latin1')
    .replace(/[^\x21-\x7e]/g, '?');
}

export type HostKeyVerdict =
  { ok: true; line: number } | { ok: false; kind: 'unknown' | 'changed' | 'revoked'; message: string };

/**
 * Decides whether `presented` is the right key for the host reached as any of `names`
 * (for instance the inventory name and its address), as OpenSSH's StrictHostKeyChecking=yes would.
 */
export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  names: readonly string[],
  presented: Buffer,
  file: string,
): HostKeyVerdict {
  const relevant = entries.filter(
    (e) => e.marker !== '@cert-authority' && names.some((n) => entryMatches(e, n)),
  );
  const shown = `${keyTypeOf(presented)} ${fingerprint(presented)}`;
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(presented));
  if (revoked) {
    return {
      ok: false,
      kind: 'revoked',
      message: `host key ${shown} is marked @revoked in ${file}:${revoked.line}`,
    };
  }
  const match = relevant.find((e) => e.marker === undefined && e.key.equals(presented));
  if (match) return { ok: true, line: match.line };
  const listed = relevant.filter((e) => e.marker === undefined);
  if (listed.length === 0) {
    return {
      ok: false,
      kind: 'unknown',
      message: `no key for ${names.join(' / ')} in ${file}; the host presented ${shown}. Add its key to known_hosts after checking it out of band.`,
    };
  }
  return {
    ok: false,
    kind: 'changed',
    message:
      `HOST KEY MISMATCH for ${names.join(' / ')}: it presented ${shown}, but ${file} lists ` +
      listed.map((e) => `${e.keyType} ${fingerprint(e.key)} (line ${e.line})`).join(', ') +
      '. Someone could be intercepting the connection, or the host was reinstalled; refusing to connect.',
  };
}

/** Key types known for the host, so the server is asked for a key we can check. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], names: readonly string[]): string[] {
  const types = entries
    .filter((e) => e.marker === undefined && names.some((n) => entryMatches(e, n)))
    .map((e) => e.keyType);
  return [...new Set(types)];
}
