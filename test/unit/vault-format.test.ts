import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decryptVault, encryptVault, parseEnvelope, vaultPassword, VaultError } from '../../activities/vault';

// The vault format against envelopes the real ansible-vault (ansible-core 2.19.14) wrote:
// test/fixtures/vault/make-vectors.sh made them; the passwords are fixtures, not secrets.

const fixtures = path.join(__dirname, '../fixtures/vault');
const password = (file: string) => vaultPassword(readFileSync(path.join(fixtures, file)));
const vectors = JSON.parse(readFileSync(path.join(fixtures, 'vectors.json'), 'utf8')) as {
  name: string;
  passwordFile: string;
  vaultId: string | null;
  plaintext: string;
  envelope: string;
}[];

describe('ansible-vault envelopes', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('opens what ansible-vault wrote: %s', (_, v) => {
    expect(decryptVault(v.envelope, password(v.passwordFile)).toString('utf8')).toBe(v.plaintext);
  });

  it('reads the version and the 1.2 vault id from the header', () => {
    const versions = vectors.map((v) => {
      const e = parseEnvelope(v.envelope);
      return [e.version, e.vaultId ?? null, e.salt.length];
    });
    expect(versions).toEqual(vectors.map((v) => [v.vaultId ? '1.2' : '1.1', v.vaultId, 32]));
  });

  it('opens an inline value whatever its indentation', () => {
    const v = vectors[0];
    const indented = v.envelope
      .split('\n')
      .map((l) => `          ${l}`)
      .join('\n');
    expect(decryptVault(indented, password(v.passwordFile)).toString()).toBe(v.plaintext);
  });

  it('refuses a wrong password with a message that gives nothing away', () => {
    const v = vectors[0];
    let error: unknown;
    try {
      decryptVault(v.envelope, vaultPassword('not the password'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VaultError);
    expect((error as Error).message).toBe('wrong vault password (the HMAC does not match)');
    expect((error as Error).message).not.toContain(v.plaintext);
  });

  it('refuses an altered ciphertext as it refuses a wrong password', () => {
    const v = vectors[0];
    const [header, ...hex] = v.envelope.trim().split('\n');
    const [salt, hmac, ciphertext] = Buffer.from(hex.join(''), 'hex').toString().split('\n');
    const altered = (ciphertext[0] === '0' ? '1' : '0') + ciphertext.slice(1);
    const body = Buffer.from([salt, hmac, altered].join('\n')).toString('hex');
    expect(() => decryptVault(`${header}\n${body}`, password(v.passwordFile))).toThrow(
      /wrong vault password/,
    );
  });

  it('refuses what is not a vault, and formats it does not know, by name', () => {
    const pw = vaultPassword('x');
    expect(() => decryptVault('hello', pw)).toThrow('not a vault: no $ANSIBLE_VAULT header');
    expect(() => decryptVault('$ANSIBLE_VAULT;1.0;AES\n00', pw)).toThrow(/format 1\.0 is not supported/);
    expect(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz', pw)).toThrow(/not hexadecimal/);
  });

  it('takes a password file as ansible-vault does: blanks and line breaks around it are not part of it', () => {
    expect(vaultPassword(Buffer.from('  pw with inner blank \r\n')).toString()).toBe('pw with inner blank');
    expect(() => vaultPassword('\n')).toThrow('the vault password is empty');
  });

  it('writes envelopes in the same layout as ansible-vault: header, 80-column hex lines, final newline', () => {
    const v = vectors.find((x) => x.vaultId)!;
    const { salt } = parseEnvelope(v.envelope);
    // Same password, salt and plaintext: the very bytes ansible-vault wrote.
    expect(encryptVault(v.plaintext, password(v.passwordFile), v.vaultId!, salt)).toBe(v.envelope);
    const plain = vectors[0];
    const again = encryptVault(
      plain.plaintext,
      password(plain.passwordFile),
      undefined,
      parseEnvelope(plain.envelope).salt,
    );
    expect(again).toBe(plain.envelope);
  });

  it('round-trips any text, with a fresh salt each time', () => {
    const pw = vaultPassword('round trip');
    for (const text of ['', 'a', '0123456789abcdef', 'ü'.repeat(100)]) {
      const a = encryptVault(text, pw, 'dev');
      expect(a.startsWith('$ANSIBLE_VAULT;1.2;AES256;dev\n')).toBe(true);
      expect(decryptVault(a, pw).toString()).toBe(text);
      expect(encryptVault(text, pw, 'dev')).not.toBe(a);
    }
    expect(encryptVault('x', pw, 'default').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
  });
});
