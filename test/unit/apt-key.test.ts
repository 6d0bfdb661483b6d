import { readFileSync } from 'node:fs';
import path from 'node:path';
import { holdsKey, keyFileFor, parseKeyId, parseRead, withKeys } from '../../activities/modules/apt-key';
import { armor, dearmor, keyIds, readKeyring, writeKeyring } from '../../activities/modules/openpgp';
import { isLabHost, keyserverLookupUrl, labUrlProblem } from '../../common/lab-urls';
import { taskArguments } from '../../common/task-arguments';

// Two keys made with gpg for these tests: an ed25519 primary key with a cv25519 subkey, and a
// second ed25519 key. gpg's own binary exports sit beside the armored ones.
const FIXTURES = path.join(__dirname, '../fixtures/apt-key');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const FIRST = {
  fingerprint: '01CE3F45423F9E90586ED8E5364C51490A6FC47B',
  keyId: '364C51490A6FC47B',
  subkey: '997560066C83B096',
};
const SECOND = { fingerprint: '9C4388D8AA685052CB5F5F301FD85EBA60644935', keyId: '1FD85EBA60644935' };

describe('OpenPGP keyrings', () => {
  it('reads the fingerprint and key id of a key and its subkey, as gpg lists them', () => {
    const ring = readKeyring(fixture('cf-test.asc'));
    expect(ring.armored).toBe(true);
    expect(ring.unreadable).toBeUndefined();
    expect(ring.keys.map((k) => [k.primary, k.subkeys.map((s) => s.keyId)])).toEqual([
      [{ fingerprint: FIRST.fingerprint, keyId: FIRST.keyId }, [FIRST.subkey]],
    ]);
  });

  it('dearmors to the bytes gpg exports, and armors them back to something that reads the same', () => {
    expect(dearmor(fixture('cf-test.asc').toString())).toEqual(fixture('cf-test.gpg'));
    const again = readKeyring(Buffer.from(armor(fixture('cf-test.gpg'))));
    expect(keyIds(again.keys)).toEqual([FIRST.keyId, FIRST.subkey]);
    const damaged = fixture('cf-test.asc').toString().replace('=6xuq', '=AAAA');
    expect(dearmor(damaged)).toBe('the armor checksum does not match');
  });

  it('splits a binary keyring into its keys and writes it back without one of them', () => {
    const both = Buffer.concat([fixture('cf-test.gpg'), fixture('cf-second.gpg')]);
    const ring = readKeyring(both);
    expect(ring.armored).toBe(false);
    expect(keyIds(ring.keys)).toEqual([FIRST.keyId, FIRST.subkey, SECOND.keyId]);
    expect(writeKeyring(ring.keys, false)).toEqual(both);
    expect(writeKeyring([ring.keys[1]], false)).toEqual(fixture('cf-second.gpg'));
  });

  it('keeps the keys before data it cannot read, and says why', () => {
    const ring = readKeyring(Buffer.concat([fixture('cf-second.gpg'), Buffer.from('KBXf-not-a-packet')]));
    expect(keyIds(ring.keys)).toEqual([SECOND.keyId]);
    expect(ring.unreadable).toMatch(/no OpenPGP packet at byte 242/);
    expect(readKeyring(Buffer.from('hello')).keys).toEqual([]);
  });
});

describe('apt_key ids', () => {
  it('splits an id as ansible-core does: 8 for apt-key del, 16 to compare, all for the keyserver', () => {
    expect(parseKeyId('0x9fed2bcbdcd29cdf762678cbaed4b06f473041fa')).toEqual({
      short: '473041FA',
      fingerprint: 'AED4B06F473041FA',
      keyId: '9FED2BCBDCD29CDF762678CBAED4B06F473041FA',
    });
    expect(parseKeyId('473041fa')).toEqual({ short: '473041FA', fingerprint: '473041FA', keyId: '473041FA' });
  });

  it('finds a key by its short id, long id, fingerprint or a subkey id, never by a wrong digit', () => {
    const [key] = readKeyring(fixture('cf-test.gpg')).keys;
    for (const id of [FIRST.fingerprint, FIRST.keyId, FIRST.keyId.slice(-8), FIRST.subkey])
      expect(holdsKey(key, id)).toBe(true);
    expect(holdsKey(key, `1${FIRST.fingerprint.slice(1)}`)).toBe(false);
  });

  it('puts a new key in its own trusted.gpg.d file unless a keyring is named, and adds a key once', () => {
    const ring = readKeyring(fixture('cf-test.gpg'));
    expect(keyFileFor({}, ring.keys[0])).toBe(`/etc/apt/trusted.gpg.d/apt_key-${FIRST.keyId}.gpg`);
    expect(keyFileFor({ keyring: '/etc/apt/keyrings/x.gpg' }, ring.keys[0])).toBe('/etc/apt/keyrings/x.gpg');
    const second = readKeyring(fixture('cf-second.asc')).keys;
    expect(keyIds(withKeys(ring, [...ring.keys, ...second]))).toEqual([
      FIRST.keyId,
      FIRST.subkey,
      SECOND.keyId,
    ]);
  });

  it('reads the keyrings and the key file from the read report', () => {
    const r = parseRead(
      `ring /etc/apt/trusted.gpg.d/a b.gpg\n${fixture('cf-test.gpg').toString('base64')}\nsource /tmp/k.asc\naGk=\n`,
    );
    expect([...r.rings.keys()]).toEqual(['/etc/apt/trusted.gpg.d/a b.gpg']);
    expect(r.source?.toString()).toBe('hi');
    expect(parseRead('noapt -\n').noApt).toBe(true);
  });
});

describe('apt_key sources: lab addresses only', () => {
  it('takes loopback, private addresses and inventory names; refuses internet names', () => {
    for (const h of ['127.0.0.1', 'localhost', '10.77.0.12', '192.168.1.5', '172.20.0.1', '[::1]', 'node2'])
      expect(`${h}: ${isLabHost(h)}`).toBe(`${h}: true`);
    for (const h of ['8.8.8.8', 'keys.internet.invalid', '172.32.0.1', '[2001:db8::1]'])
      expect(`${h}: ${isLabHost(h)}`).toBe(`${h}: false`);
    expect(labUrlProblem('https://203.0.113.7/linux/debian/gpg', 'url')).toMatch(/no route to the internet/);
  });

  it('asks a keyserver as gpg does: hkp on 11371, hkps on 443, http(s) as written', () => {
    const q = '/pks/lookup?op=get&options=mr&search=0x1FD85EBA60644935';
    expect(keyserverLookupUrl('10.77.0.6', '0x1FD85EBA60644935')).toBe(`http://10.77.0.6:11371${q}`);
    expect(keyserverLookupUrl('hkp://10.77.0.5:80', '1FD85EBA60644935')).toBe(`http://10.77.0.5:80${q}`);
    expect(keyserverLookupUrl('hkps://10.77.0.7', '1FD85EBA60644935')).toBe(`https://10.77.0.7${q}`);
    expect(keyserverLookupUrl('http://127.0.0.1/', '1FD85EBA60644935')).toBe(`http://127.0.0.1${q}`);
  });

  it('refuses an internet url or keyserver, mixed sources, and a keyserver without an id', () => {
    const problems = (a: Record<string, unknown>) => taskArguments('apt_key', a, {}).problems ?? [];
    expect(problems({ url: 'https://203.0.113.7/linux/debian/gpg' })[0]).toMatch(/url https:.*no route/);
    expect(
      problems({ keyserver: 'keyserver.ubuntu.com', id: '36A1D7869245C8950F966E92D8576A8BA88D21E9' })[0],
    ).toMatch(/keyserver keyserver.ubuntu.com: the hosts have no route/);
    expect(problems({ data: 'x', file: '/k.asc' })[0]).toMatch(/mutually exclusive/);
    expect(problems({ keyserver: '127.0.0.1' })[0]).toMatch(/Missing key_id/);
    expect(problems({ id: '12345' })[0]).toMatch(/Invalid key_id/);
    expect(problems({ id: '0x473041FA', state: 'absent' })).toEqual([]);
  });
});
