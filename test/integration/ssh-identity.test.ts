import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { Remote } from '../../activities/remote';
import { SshPool } from '../../activities/ssh/pool';
import { loadInventory, resolveTargets } from '../../client/inventory';
import { loadPlaybook } from '../../client/play';
import type { HostTaskResult, PlayResult } from '../../common/play';
import { down, hostAddress, labFiles, stop, up } from '../../lab/hosts';
import { onHost, testSettings, withWorker } from './helpers';
import { newKey } from '../fixtures/ssh-keys';

// One worker serves several inventories (clusters): a pooled SSH session may only be reused by a
// task with the very same identity and trust, and a pooled session to a vanished host must fail
// the way a fresh connect does.

const HOSTS = ['sid1', 'sid2'];
const settings = testSettings();
const dir = mkdtempSync(path.join(tmpdir(), 'cf-sid-'));
let n = 0;

/** A copy of the lab's known_hosts lines for `host`, in a file of the test's own. */
function knownHostsFor(host: string, name: string): string {
  const file = path.join(dir, name);
  const lines = readFileSync(labFiles.knownHosts, 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[0].split(',').includes(host));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** An inventory of one lab host reached with `key` and trusting `knownHosts`. */
function inventory(host: string, key: string, knownHosts: string, checking = 'yes'): string {
  const file = path.join(dir, `inventory-${++n}.yml`);
  const vars = {
    ansible_host: hostAddress(host),
    ansible_user: 'root',
    ansible_ssh_private_key_file: key,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=${checking}`,
  };
  writeFileSync(file, stringify({ all: { vars: { cluster_name: 'sid' }, hosts: { [host]: vars } } }));
  return file;
}

/** Runs one play through the dev server, as `clusterflow play` does; returns the result and the batch's workflow ID. */
async function play(
  client: Client,
  inventoryFile: string,
  tasks: unknown[],
): Promise<{ result: PlayResult; batchId: string }> {
  const file = path.join(dir, `play-${++n}.yml`);
  writeFileSync(file, stringify([{ hosts: 'all', gather_facts: false, tasks }]));
  const input = loadPlaybook(file, loadInventory(inventoryFile), {
    check: false,
    diff: false,
    tags: [],
    forks: 5,
    cluster: 'sid',
  });
  const workflowId = `test-sid/${Date.now()}-${n}`;
  const handle = await client.workflow.start('play', {
    taskQueue: settings.taskQueue,
    workflowId,
    args: [input],
  });
  return { result: await handle.result(), batchId: `${workflowId}/play-1/batch-1` };
}

const only = (r: PlayResult): HostTaskResult => r.tasks[0].hosts[0];
const exists = (host: string, file: string) =>
  onHost(host, `test -e ${file} && echo yes || echo no`) === 'yes';

/** The attempt number of the batch's last activity: how often Temporal ran the task. */
async function attempts(client: Client, batchId: string): Promise<number> {
  const history = await client.workflow.getHandle(batchId).fetchHistory();
  const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
  return Number(started.at(-1)?.activityTaskStartedEventAttributes?.attempt);
}

beforeAll(async () => {
  await down(HOSTS); // whatever an interrupted earlier run left
  await up(HOSTS);
});

afterAll(async () => {
  await down(HOSTS);
});

describe('a pooled SSH connection is reused only under the same identity and trust', () => {
  it('refuses a warm connection once known_hosts no longer matches the host, writing nothing, as a fresh one does', async () => {
    const knownHosts = knownHostsFor('sid1', 'known_hosts-pinned');
    const inv = inventory('sid1', labFiles.key, knownHosts);
    const impostor = newKey(dir, 'impostor');
    await withWorker(settings, async (client) => {
      const first = await play(client, inv, [{ copy: { content: 'one\n', dest: '/root/sid-first' } }]);
      expect(only(first.result).status).toBe('changed');
      // The same worker, well within the pool's idle time: its connection to sid1 is still open.
      writeFileSync(
        knownHosts,
        readFileSync(knownHosts, 'utf8').replace(
          /ssh-ed25519 \S+/g,
          impostor.publicLine.split(' ').slice(0, 2).join(' '),
        ),
      );
      const second = await play(client, inv, [{ copy: { content: 'two\n', dest: '/root/sid-second' } }]);
      expect(second.result.recap.sid1).toMatchObject({ failed: 1, changed: 0, unreachable: 0 });
      expect(only(second.result).reason).toMatch(/^sid1: HOST KEY MISMATCH for sid1 \/ 10\.77\.0\.\d+/);
      expect(exists('sid1', '/root/sid-second')).toBe(false);
      // Never retried: a changed key is not a passing fault.
      expect(await attempts(client, second.batchId)).toBe(1);

      const fresh = new SshPool();
      try {
        const target = resolveTargets(loadInventory(inv), 'sid1')[0];
        await expect(new Remote(fresh, target).run('touch /root/sid-fresh')).rejects.toThrow(
          only(second.result).reason!,
        );
      } finally {
        await fresh.close();
      }
      expect(exists('sid1', '/root/sid-fresh')).toBe(false);
    });
  });

  it('under accept-new, records the key again on a warm connection whose known_hosts lost it, as a fresh connect would', async () => {
    const knownHosts = path.join(dir, 'known_hosts-tofu');
    writeFileSync(knownHosts, '');
    const inv = inventory('sid1', labFiles.key, knownHosts, 'accept-new');
    await withWorker(settings, async (client) => {
      expect(only((await play(client, inv, [{ command: 'true' }])).result).status).toBe('changed');
      const recorded = readFileSync(knownHosts, 'utf8');
      expect(recorded).toMatch(/^sid1,10\.77\.0\.\d+ ssh-ed25519 \S+\n$/);
      writeFileSync(knownHosts, '');
      expect(only((await play(client, inv, [{ command: 'true' }])).result).status).toBe('changed');
      expect(readFileSync(knownHosts, 'utf8')).toBe(recorded);
    });
  });

  it('never lets two inventories with different keys for one host share a session', async () => {
    const knownHosts = knownHostsFor('sid1', 'known_hosts-shared');
    const other = newKey(dir, 'other-cluster');
    const right = inventory('sid1', labFiles.key, knownHosts);
    const wrong = inventory('sid1', other.file, knownHosts);
    const whoAmI = [{ shell: { cmd: 'echo "$SSH_CONNECTION"' } }];
    const clientPort = (r: PlayResult) => only(r).result!.stdout!.trim().split(' ')[1];
    await withWorker(settings, async (client) => {
      // sid1 does not know the other key: refused, even with the right key's connection warm.
      const warm = await play(client, right, whoAmI);
      expect(only(warm.result).status).toBe('changed');
      const refused = await play(client, wrong, [{ copy: { content: 'x\n', dest: '/root/sid-wrong' } }]);
      expect(refused.result.recap.sid1).toMatchObject({ failed: 1, changed: 0 });
      expect(only(refused.result).reason).toMatch(/refused every authentication method offered/);
      expect(exists('sid1', '/root/sid-wrong')).toBe(false);

      // Both keys authorized: each inventory gets a session of its own, authenticated with its own key.
      onHost('sid1', `echo '${other.publicLine}' >> /root/.ssh/authorized_keys`);
      const mine = clientPort((await play(client, right, whoAmI)).result);
      const theirs = clientPort((await play(client, wrong, whoAmI)).result);
      expect(mine).toBe(clientPort(warm.result)); // the right key's connection is still the pooled one
      expect(theirs).not.toBe(mine);
      const accepted = onHost(
        'sid1',
        `journalctl -u ssh --no-pager -o cat | grep 'Accepted publickey' | grep ' port ${theirs} '`,
      );
      expect(accepted).toContain(other.fingerprint);
    });
  });
});

/**
 * Pulls the host's network cable: its interface goes down without a word to its peers, as at a
 * power cut, so connections to it stay open on our side until keepalives give up.
 */
const cutCable = (host: string, state: 'down' | 'up') =>
  spawnSync('ip', ['-n', `cf-${host}`, 'link', 'set', 'eth0', state], { encoding: 'utf8' });

describe('a pooled connection to a host that went away', () => {
  it('is discarded and fails as HostUnreachable, retryable, like a fresh connect', async () => {
    const pool = new SshPool();
    const target = resolveTargets(
      loadInventory(inventory('sid2', labFiles.key, knownHostsFor('sid2', 'kh-cut'))),
      'sid2',
    )[0];
    const remote = new Remote(pool, target);
    try {
      expect((await remote.run('echo up')).stdout).toBe('up\n');
      expect(cutCable('sid2', 'down').status).toBe(0);
      const failure = await remote.run('touch /root/sid-after-cut').catch((e: unknown) => e);
      expect(failure).toMatchObject({ type: 'HostUnreachable', nonRetryable: false });
      expect((failure as Error).message).toMatch(
        /^sid2: cannot reach 10\.77\.0\.\d+:22 \((No response from server|Keepalive timeout|Not connected)\)$/,
      );
      expect(pool.size).toBe(0);
    } finally {
      cutCable('sid2', 'up');
      await pool.close();
    }
    expect(exists('sid2', '/root/sid-after-cut')).toBe(false);
  });

  it('is reported unreachable and retried like a fresh connect, not failed', async () => {
    const inv = inventory('sid2', labFiles.key, knownHostsFor('sid2', 'known_hosts-sid2'));
    let pooled: { result: PlayResult; batchId: string } | undefined;
    await withWorker(settings, async (client) => {
      expect(only((await play(client, inv, [{ command: 'true' }])).result).status).toBe('changed');
      // Gone between two plays, the way a power cut takes a host: no goodbye on the wire.
      cutCable('sid2', 'down');
      await stop(['sid2']);
      pooled = await play(client, inv, [{ copy: { content: 'x\n', dest: '/root/sid-gone' } }]);
      expect(pooled.result.recap.sid2).toMatchObject({ unreachable: 1, failed: 0, changed: 0 });
      expect(only(pooled.result).reason).toMatch(/^sid2: cannot reach 10\.77\.0\.\d+:22/);
      expect(await attempts(client, pooled.batchId)).toBe(3);
    });
    // The same play on a worker with no connection to sid2 at all: the same outcome.
    await withWorker(settings, async (client) => {
      const fresh = await play(client, inv, [{ copy: { content: 'x\n', dest: '/root/sid-gone' } }]);
      expect(fresh.result.recap.sid2).toEqual(pooled!.result.recap.sid2);
      expect(await attempts(client, fresh.batchId)).toBe(3);
    });
  });
});
