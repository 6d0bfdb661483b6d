import { Remote } from '../../activities/remote';
import { SshPool } from '../../activities/ssh/pool';
import { resolveTargets } from '../../client/inventory';
import { labInventory } from './helpers';

const target = () => resolveTargets(labInventory(), 'node3')[0];

describe('the SSH pool and exec primitive against a lab host', () => {
  it('shares one connection and bounds the channels open on it', async () => {
    const pool = new SshPool({ maxChannelsPerConnection: 2 });
    const remote = new Remote(pool, target());
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 6 }, () => remote.run('sleep 0.5; echo done')));
      const elapsed = Date.now() - started;
      expect(results.every((r) => r.exitCode === 0 && r.stdout === 'done\n')).toBe(true);
      expect(pool.size).toBe(1);
      // 6 commands, 2 at a time, 0.5 s each: at least three rounds.
      expect(elapsed).toBeGreaterThanOrEqual(1500);
    } finally {
      await pool.close();
    }
  });

  it('reconnects after the host drops the connection', async () => {
    const pool = new SshPool();
    const remote = new Remote(pool, target());
    try {
      expect((await remote.run('echo one')).stdout).toBe('one\n');
      // Kill every sshd session process for root on the host, ours included.
      await remote.run('pkill -f "^sshd: root" || true').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      expect((await remote.run('echo two')).stdout).toBe('two\n');
    } finally {
      await pool.close();
    }
  });

  it('closes connections that stay idle', async () => {
    const pool = new SshPool({ idleMs: 200 });
    try {
      await new Remote(pool, target()).run('true');
      expect(pool.size).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
      expect(pool.size).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('returns exit code, signal, capped output with the dropped size, and kills a command that times out', async () => {
    const pool = new SshPool();
    const remote = new Remote(pool, target());
    try {
      const failed = await remote.run('echo out; echo err >&2; exit 7');
      expect(failed).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n', timedOut: false });
      const big = await pool.withConnection(target(), (client) =>
        import('../../activities/ssh/exec').then(({ execCommand }) =>
          execCommand(client, 'head -c 300000 /dev/zero', { maxOutputBytes: 1000 }),
        ),
      );
      expect(big.stdout.length).toBe(1000);
      expect(big.stdoutDroppedBytes).toBe(299_000);
      const slow = await remote.run('sleep 4242', { timeoutMs: 1000 });
      expect(slow.timedOut).toBe(true);
      expect((await remote.run("pgrep -fc '^sleep 4242$' || true")).stdout.trim()).toBe('0');
    } finally {
      await pool.close();
    }
  });
});
