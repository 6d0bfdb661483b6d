import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FailureTypes } from '../../common/errors';
import { HostTargetSchema, type HostTarget } from '../../common/hosts';
import { Remote } from '../../activities/remote';
import { SshPool, credentialDigest } from '../../activities/ssh/pool';
import { newKey } from '../fixtures/ssh-keys';
import { fakeSshd, type FakeSshd } from '../fixtures/ssh-server';

// A pooled session against a real SSH server on loopback: what its key file holds now decides
// whether it may be reused, and a connection that dies under a command is an unreachable host.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-session-'));
const first = newKey(dir, 'first');
const second = newKey(dir, 'second');
const keyFile = path.join(dir, 'id_cluster'); // the path the inventory names; its content rotates
let sshd: FakeSshd;
let target: HostTarget;

beforeAll(async () => {
  sshd = await fakeSshd(dir, [first.publicLine, second.publicLine]);
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}\n`);
  target = HostTargetSchema.parse({
    name: 'fake1',
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    privateKey: `file:${keyFile}`,
    knownHostsFile: knownHosts,
  });
});

afterAll(() => sshd.close());

describe('a pooled SSH session', () => {
  it('is reused while the key file holds the same key, and replaced once the file holds another', async () => {
    copyFileSync(first.file, keyFile);
    const pool = new SshPool();
    const remote = new Remote(pool, target);
    try {
      const a = (await remote.run('true')).stdout;
      expect((await remote.run('true')).stdout).toBe(a);
      const opened = sshd.sessions.length;
      expect(sshd.sessions.at(-1)!.key).toBe(first.publicLine);

      copyFileSync(second.file, keyFile); // the key rotated in place, same path
      const b = (await remote.run('true')).stdout;
      expect(b).not.toBe(a);
      expect(sshd.sessions).toHaveLength(opened + 1);
      expect(sshd.sessions.at(-1)!.key).toBe(second.publicLine);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('that dies while a command runs reports the host unreachable, retryable, and is not reused', async () => {
    copyFileSync(first.file, keyFile);
    const pool = new SshPool();
    const remote = new Remote(pool, target);
    try {
      await remote.run('true');
      const failure = await remote.run('vanish').catch((e: unknown) => e);
      expect(failure).toMatchObject({ type: FailureTypes.HostUnreachable, nonRetryable: false });
      expect((failure as Error).message).toMatch(/^fake1: cannot reach 127\.0\.0\.1:\d+ \(.*lost.*\)$/);
      expect(pool.size).toBe(0);
      expect((await remote.run('true')).stdout).toMatch(/^session \d+\n$/);
    } finally {
      await pool.close();
    }
  });
});

describe('the credential digest a session is held to', () => {
  it('changes with what a reference holds, not only with the reference', async () => {
    copyFileSync(first.file, keyFile);
    const before = await credentialDigest(target);
    expect(await credentialDigest(target)).toBe(before);
    copyFileSync(second.file, keyFile);
    expect(await credentialDigest(target)).not.toBe(before);
  });

  it('covers the bastion chain too', async () => {
    const viaBastion = (ref: string) =>
      HostTargetSchema.parse({ ...target, jump: { ...target, name: 'bastion', privateKey: ref } });
    expect(await credentialDigest(viaBastion(`file:${first.file}`))).not.toBe(
      await credentialDigest(viaBastion(`file:${second.file}`)),
    );
  });
});
