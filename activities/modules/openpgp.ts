import { createHash } from 'node:crypto';

// Just enough OpenPGP (RFC 4880 / 9580) for apt_key without gpg on the host: split a keyring into
// its keys, read each key's fingerprint and key id, and write keyrings back, binary or armored.
// Nothing here verifies a signature; apt's gpgv does that when it reads the keyring.

/** A primary key or subkey: its fingerprint and its long (16 hex) key id, upper-case. */
export interface KeyIdentity {
  fingerprint: string;
  keyId: string;
}

/** One transferable public key: the primary key, its subkeys, and its packets as they were. */
export interface PublicKey {
  primary: KeyIdentity;
  subkeys: KeyIdentity[];
  packets: Buffer;
}

export interface Keyring {
  keys: PublicKey[];
  armored: boolean;
  /** Why the rest of the file could not be read (a keybox, a damaged file); keys before it are kept. */
  unreadable?: string;
}

const PUBLIC_KEY = 6;
const PUBLIC_SUBKEY = 14;
const ARMOR_BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const ARMOR_END = '-----END PGP PUBLIC KEY BLOCK-----';

/** Pure: the fingerprint and key id of a key packet's body (v4: SHA-1; v5 and v6: SHA-256). */
export function keyIdentity(body: Buffer): KeyIdentity | undefined {
  const version = body[0];
  if (version === 4) {
    const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
    const fpr = createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
    return { fingerprint: fpr, keyId: fpr.slice(-16) };
  }
  if (version === 5 || version === 6) {
    const head = Buffer.alloc(5);
    head[0] = version === 5 ? 0x9a : 0x9b;
    head.writeUInt32BE(body.length, 1);
    const fpr = createHash('sha256').update(head).update(body).digest('hex').toUpperCase();
    return { fingerprint: fpr, keyId: fpr.slice(0, 16) };
  }
  return undefined;
}

interface Packet {
  tag: number;
  body: Buffer;
  start: number;
  end: number;
}

/** Pure: the packet at `at` (old or new header format), or why there is none. */
function packetAt(buf: Buffer, at: number): Packet | string {
  const ctb = buf[at];
  if (!(ctb & 0x80)) return `no OpenPGP packet at byte ${at}`;
  let tag: number;
  let len: number;
  let head: number;
  if (ctb & 0x40) {
    tag = ctb & 0x3f;
    const l0 = buf[at + 1];
    if (l0 < 192) [len, head] = [l0, 2];
    else if (l0 < 224) [len, head] = [((l0 - 192) << 8) + buf[at + 2] + 192, 3];
    else if (l0 === 255) [len, head] = [buf.readUInt32BE(at + 2), 6];
    else return `a partial-length packet at byte ${at} (not a key)`;
  } else {
    tag = (ctb >> 2) & 0x0f;
    const kind = ctb & 3;
    if (kind === 0) [len, head] = [buf[at + 1], 2];
    else if (kind === 1) [len, head] = [buf.readUInt16BE(at + 1), 3];
    else if (kind === 2) [len, head] = [buf.readUInt32BE(at + 1), 5];
    else [len, head] = [buf.length - at - 1, 1];
  }
  const end = at + head + len;
  if (Number.isNaN(len) || end > buf.length) return `a packet at byte ${at} runs past the end`;
  return { tag, body: buf.subarray(at + head, end), start: at, end };
}

/** Pure: the keys of a binary keyring (packets one after another, as gpg exports them). */
export function readPackets(buf: Buffer): Omit<Keyring, 'armored'> {
  const keys: PublicKey[] = [];
  let current: { key: PublicKey; start: number } | undefined;
  const close = (end: number) => {
    if (current) keys.push({ ...current.key, packets: buf.subarray(current.start, end) });
  };
  for (let at = 0; at < buf.length;) {
    const p = packetAt(buf, at);
    if (typeof p === 'string') {
      close(at);
      return { keys, unreadable: p };
    }
    if (p.tag === PUBLIC_KEY) {
      close(p.start);
      const primary = keyIdentity(p.body);
      if (!primary)
        return { keys, unreadable: `a version ${p.body[0]} key at byte ${at} (v4 to v6 are read)` };
      current = { key: { primary, subkeys: [], packets: Buffer.alloc(0) }, start: p.start };
    } else if (!current) {
      return { keys, unreadable: `packet type ${p.tag} before any public key` };
    } else if (p.tag === PUBLIC_SUBKEY) {
      const sub = keyIdentity(p.body);
      if (sub) current.key.subkeys.push(sub);
    }
    at = p.end;
  }
  close(buf.length);
  return { keys };
}

/** RFC 4880's CRC-24 of armored data. */
function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** Pure: the binary data of every public key block in armored text, or why it cannot be read. */
export function dearmor(text: string): Buffer | string {
  const parts: Buffer[] = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  for (let i = lines.indexOf(ARMOR_BEGIN); i >= 0; i = lines.indexOf(ARMOR_BEGIN, i)) {
    i++;
    // Armor headers (Version:, Comment:) up to the blank line; some writers leave the line out.
    while (i < lines.length && /^[\w-]+: /.test(lines[i])) i++;
    if (lines[i] === '') i++;
    let data = '';
    let checksum: string | undefined;
    for (; i < lines.length && lines[i] !== ARMOR_END; i++) {
      if (/^=[A-Za-z0-9+/]{4}$/.test(lines[i])) checksum = lines[i].slice(1);
      else data += lines[i];
    }
    if (i >= lines.length) return `no "${ARMOR_END}" line`;
    const bytes = Buffer.from(data, 'base64');
    if (checksum !== undefined && Buffer.from(checksum, 'base64').readUIntBE(0, 3) !== crc24(bytes))
      return 'the armor checksum does not match';
    parts.push(bytes);
  }
  return parts.length ? Buffer.concat(parts) : `no "${ARMOR_BEGIN}" line`;
}

/** Pure: binary data as one armored public key block. */
export function armor(data: Buffer): string {
  const b64 = data.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  const crc = Buffer.alloc(3);
  crc.writeUIntBE(crc24(data), 0, 3);
  return `${ARMOR_BEGIN}\n\n${b64}\n=${crc.toString('base64')}\n${ARMOR_END}\n`;
}

/** Pure: a keyring file's content, armored (.asc) or binary, as its keys. */
export function readKeyring(content: Buffer): Keyring {
  const text = content.subarray(0, 4096).toString('latin1');
  if (/^\s*-----BEGIN PGP/.test(text)) {
    const data = dearmor(content.toString('utf8'));
    if (typeof data === 'string') return { keys: [], armored: true, unreadable: data };
    return { ...readPackets(data), armored: true };
  }
  return { ...readPackets(content), armored: false };
}

/** Pure: keys written as a keyring file's content, in the form asked for. */
export function writeKeyring(keys: PublicKey[], armored: boolean): Buffer {
  const data = Buffer.concat(keys.map((k) => k.packets));
  return armored ? Buffer.from(armor(data)) : data;
}

/** Pure: every key id a keyring holds, primary keys and subkeys, as apt-key lists them. */
export const keyIds = (keys: PublicKey[]): string[] =>
  keys.flatMap((k) => [k.primary.keyId, ...k.subkeys.map((s) => s.keyId)]);
