import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  entryMatches,
  fingerprint,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
  verifyHostKey,
} from '../../activities/ssh/known-hosts';
import { newKey } from '../fixtures/ssh-keys';

const dir = mkdtempSync(path.join(tmpdir(), 'cf-kh-'));

const a = newKey(dir, 'a');
const b = newKey(dir, 'b');

describe('known_hosts', () => {
  it('accepts the pinned key under the host name or its address', () => {
    const entries = parseKnownHosts(`db1,10.77.0.12 ${a.publicLine}\n`);
    expect(verifyHostKey(entries, ['db1'], a.blob, 'kh')).toEqual({ ok: true, line: 1 });
    expect(verifyHostKey(entries, ['10.77.0.12'], a.blob, 'kh').ok).toBe(true);
  });

  it('calls a different key for a listed host a mismatch, naming both fingerprints', () => {
    const verdict = verifyHostKey(
      parseKnownHosts(`db1 ${a.publicLine}\n`),
      ['db1'],
      b.blob,
      '/x/known_hosts',
    );
    expect(verdict).toMatchObject({ ok: false, kind: 'changed' });
    if (!verdict.ok) {
      expect(verdict.message).toContain(a.fingerprint);
      expect(verdict.message).toContain(b.fingerprint);
      expect(verdict.message).toContain('/x/known_hosts');
    }
  });

  it('calls a host missing from the file unknown, never trusted', () => {
    expect(verifyHostKey(parseKnownHosts(`db1 ${a.publicLine}\n`), ['db2'], a.blob, 'kh')).toMatchObject({
      ok: false,
      kind: 'unknown',
    });
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `app7,10.77.0.30 ${a.publicLine}\n[app7]:2222 ${b.publicLine}\n`);
    expect(spawnSync('ssh-keygen', ['-H', '-f', file]).status).toBe(0);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    expect(entries.every((e) => e.patterns[0].startsWith('|1|'))).toBe(true);
    expect(verifyHostKey(entries, ['app7'], a.blob, file).ok).toBe(true);
    expect(verifyHostKey(entries, ['10.77.0.30'], a.blob, file).ok).toBe(true);
    expect(verifyHostKey(entries, [knownHostsName('app7', 2222)], b.blob, file).ok).toBe(true);
    expect(verifyHostKey(entries, ['app8'], a.blob, file)).toMatchObject({ ok: false, kind: 'unknown' });
  });

  it('honours wildcards and negations as OpenSSH does', () => {
    const [entry] = parseKnownHosts(`*.lab,!bad.lab ${a.publicLine}\n`);
    expect(entryMatches(entry, 'db1.lab')).toBe(true);
    expect(entryMatches(entry, 'bad.lab')).toBe(false);
    expect(entryMatches(entry, 'db1.prod')).toBe(false);
  });

  it('refuses a key marked @revoked even when it is also listed', () => {
    const entries = parseKnownHosts(`db1 ${a.publicLine}\n@revoked * ${a.publicLine}\n`);
    expect(verifyHostKey(entries, ['db1'], a.blob, 'kh')).toMatchObject({ ok: false, kind: 'revoked' });
  });

  it('uses [host]:port names for ports other than 22', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2222)).toBe('[h]:2222');
  });

  it('prints fingerprints and key types the way ssh-keygen does', () => {
    expect(fingerprint(a.blob)).toBe(a.fingerprint);
    expect(keyTypeOf(a.blob)).toBe('ssh-ed25519');
  });

  it('skips comments, blank and malformed lines', () => {
    expect(parseKnownHosts(`# c\n\nonly-two fields\ndb1 ${a.publicLine}\n`)).toHaveLength(1);
  });
});
