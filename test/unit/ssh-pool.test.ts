import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { keyOf } from '../../activities/ssh/pool';
import { decideHostKey, loadTrust } from '../../activities/ssh/trust';
import { FailureTypes } from '../../common/errors';
import { HostTargetSchema, type HostTargetInput } from '../../common/hosts';
import { newKey } from '../fixtures/ssh-keys';

// Which tasks may share one pooled SSH session, and the host-key decision a pooled connection
// makes for every task: the same one, with the same failure, as a fresh connect.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-pool-'));

const hostKey = newKey(dir, 'host');
const impostor = newKey(dir, 'impostor');

const knownHosts = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const target = (over: Partial<HostTargetInput> = {}) =>
  HostTargetSchema.parse({
    name: 'app1',
    address: '10.77.0.21',
    privateKey: 'file:/etc/cf/a.key',
    knownHostsFile: '/etc/cf/known_hosts',
    ...over,
  });

describe('the identity a pooled SSH connection is shared under', () => {
  it('is the same for the same login whatever the task does once connected', () => {
    expect(keyOf(target({ become: { user: 'postgres' }, connectTimeoutMs: 500 }))).toBe(keyOf(target()));
  });

  it('differs with the credential reference, so two inventories with different keys never share a session', () => {
    const a = keyOf(target());
    expect(keyOf(target({ privateKey: 'file:/etc/cf/b.key' }))).not.toBe(a);
    expect(keyOf(target({ privateKey: undefined, password: 'env:APP_PW' }))).not.toBe(a);
    expect(keyOf(target({ password: 'env:APP_PW' }))).not.toBe(a);
  });

  it('differs with the host-key trust: known_hosts file, checking mode and the name looked up', () => {
    const a = keyOf(target());
    expect(keyOf(target({ knownHostsFile: '/etc/other/known_hosts' }))).not.toBe(a);
    expect(keyOf(target({ hostKeyChecking: 'accept-new' }))).not.toBe(a);
    expect(keyOf(target({ name: 'app1.example' }))).not.toBe(a);
  });

  it('differs with user, address and port', () => {
    const a = keyOf(target());
    for (const over of [{ user: 'deploy' }, { address: '10.77.0.22' }, { port: 2222 }])
      expect(keyOf(target(over))).not.toBe(a);
  });

  it('takes in the whole bastion chain, the bastion credential included', () => {
    const jump = { name: 'bastion', address: '10.77.0.2', knownHostsFile: '/etc/cf/known_hosts' };
    const viaA = keyOf(target({ jump: { ...jump, privateKey: 'file:/etc/cf/a.key' } }));
    expect(viaA).not.toBe(keyOf(target()));
    expect(keyOf(target({ jump: { ...jump, privateKey: 'file:/etc/cf/b.key' } }))).not.toBe(viaA);
    expect(keyOf(target({ jump: { ...jump, privateKey: 'file:/etc/cf/a.key' } }))).toBe(viaA);
  });

  it('cannot be forged by a field that contains a separator', () => {
    expect(keyOf(target({ user: 'a@b', address: 'c' }))).not.toBe(
      keyOf(target({ user: 'a', address: 'b@c' })),
    );
  });
});

describe('the host-key decision made for every task', () => {
  const pinned = knownHosts('pinned', `app1,10.77.0.21 ${hostKey.publicLine}\n`);

  it('lets the key on record through', async () => {
    const t = target({ knownHostsFile: pinned });
    expect(decideHostKey(t, await loadTrust(t), hostKey.blob)).toEqual({ ok: true });
  });

  it('refuses a key that no longer matches as HostKeyChanged, non-retryable, naming the host', async () => {
    const t = target({ knownHostsFile: pinned });
    const decision = decideHostKey(t, await loadTrust(t), impostor.blob);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.failure).toBeInstanceOf(ApplicationFailure);
    expect(decision.failure.type).toBe(FailureTypes.HostKeyChanged);
    expect(decision.failure.nonRetryable).toBe(true);
    expect(decision.failure.message).toMatch(/^app1: HOST KEY MISMATCH for app1 \/ 10\.77\.0\.21/);
  });

  it('still refuses a changed key under accept-new', async () => {
    const t = target({ knownHostsFile: pinned, hostKeyChecking: 'accept-new' });
    const decision = decideHostKey(t, await loadTrust(t), impostor.blob);
    expect(decision.ok || decision.failure.type).toBe(FailureTypes.HostKeyChanged);
  });

  it('refuses a host with no key on record, and accepts it for recording under accept-new', async () => {
    const empty = knownHosts('empty', '# nothing yet\n');
    const strict = target({ knownHostsFile: empty });
    const refused = decideHostKey(strict, await loadTrust(strict), hostKey.blob);
    expect(refused.ok || refused.failure.type).toBe(FailureTypes.HostKeyUnknown);
    const tofu = target({ knownHostsFile: empty, hostKeyChecking: 'accept-new', port: 2222 });
    expect(decideHostKey(tofu, await loadTrust(tofu), hostKey.blob)).toEqual({
      ok: true,
      record: `[app1]:2222,[10.77.0.21]:2222 ${hostKey.publicLine}\n`,
    });
  });

  it('reads known_hosts afresh each time, so an edit counts for the next task', async () => {
    const file = knownHosts('edited', `app1 ${hostKey.publicLine}\n`);
    const t = target({ knownHostsFile: file });
    expect(decideHostKey(t, await loadTrust(t), hostKey.blob).ok).toBe(true);
    writeFileSync(file, `app1 ${impostor.publicLine}\n`);
    expect(decideHostKey(t, await loadTrust(t), hostKey.blob).ok).toBe(false);
  });

  it('refuses an unreadable known_hosts file naming it, and treats a missing one as empty only under accept-new', async () => {
    const missing = path.join(dir, 'missing');
    await expect(loadTrust(target({ knownHostsFile: missing }))).rejects.toMatchObject({
      type: FailureTypes.HostKeyUnknown,
      message: expect.stringContaining(`known_hosts file ${missing} cannot be read (ENOENT)`),
    });
    const trust = await loadTrust(target({ knownHostsFile: missing, hostKeyChecking: 'accept-new' }));
    expect(trust.entries).toEqual([]);
  });
});
