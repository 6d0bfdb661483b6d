import { ApplicationFailure } from '@temporalio/common';
import type { ModuleContext } from '../../activities/modules/context';
import { reboot, rebootCommand, rebootRefused, resumeFrom } from '../../activities/modules/reboot';
import { backoffMs } from '../../activities/modules/until-success';
import { waitForConnection } from '../../activities/modules/wait-for-connection';
import type { ExecResult } from '../../activities/ssh/exec';
import { FailureTypes } from '../../common/errors';
import { RebootArgs, WaitForConnectionArgs, type ModuleResult } from '../../common/modules';

const exec = (stdout: string, exitCode: number | null = 0): ExecResult => ({
  exitCode,
  signal: null,
  stdout,
  stderr: '',
  stdoutDroppedBytes: 0,
  stderrDroppedBytes: 0,
  durationMs: 1,
  timedOut: false,
  cancelled: false,
});
const lost = () =>
  ApplicationFailure.retryable(
    'node1: cannot reach 10.77.0.12:22 (ECONNREFUSED)',
    FailureTypes.HostUnreachable,
  );

/**
 * A host as the reboot module sees it: answers each command from a script of replies, in order
 * per command kind; an Error reply is thrown (the host unreachable).
 */
function fakeHost(replies: Record<string, (ExecResult | Error)[]>) {
  const sent: string[] = [];
  const remote = {
    target: { name: 'node1', connection: 'ssh' },
    async run(command: string) {
      sent.push(command);
      const kind = Object.keys(replies).find((k) => command.includes(k))!;
      const reply = replies[kind].length > 1 ? replies[kind].shift()! : replies[kind][0];
      if (reply instanceof Error) throw reply;
      return reply;
    },
    forget() {
      sent.push('(forget)');
    },
    withConnectTimeout() {
      return remote;
    },
  };
  return { remote, sent };
}

const saves: unknown[] = [];
function context(remote: unknown, extra: Partial<ModuleContext> = {}): ModuleContext {
  return {
    remote: remote as ModuleContext['remote'],
    check: false,
    diff: false,
    vars: {},
    hooks: { checkpoint: { saved: undefined, save: (d) => saves.push(d) } },
    ...extra,
  };
}

/** Runs a module under fake timers, moving time on until it settles. */
async function settle(p: Promise<ModuleResult>): Promise<ModuleResult> {
  let done: ModuleResult | undefined;
  void p.then((r) => (done = r));
  for (let i = 0; i < 600 && !done; i++) await jest.advanceTimersByTimeAsync(1000);
  return done!;
}

beforeEach(() => {
  jest.useFakeTimers();
  saves.length = 0;
});
afterEach(() => jest.useRealTimers());

describe('reboot', () => {
  const args = (a: Record<string, unknown> = {}) => RebootArgs.parse(a);

  it('builds shutdown -r in whole minutes, as ansible-core does, or runs the reboot_command given', () => {
    expect(rebootCommand(args({ pre_reboot_delay: 90, msg: "it's time" }))).toBe(
      "PATH=/sbin:/usr/sbin:/usr/local/sbin:$PATH shutdown -r 1 'it'\\''s time'",
    );
    expect(rebootCommand(args({ pre_reboot_delay: 30 }))).toMatch(/shutdown -r 0 /);
    expect(rebootCommand(args({ reboot_command: 'systemctl reboot' }))).toMatch(/ systemctl reboot$/);
    expect(args({ pre_reboot_delay: -5 }).pre_reboot_delay).toBe(0);
  });

  it('takes a session the host ended as the reboot starting, and an exit code as a refusal', () => {
    expect(rebootRefused(exec('', 0))).toBeUndefined();
    expect(rebootRefused(exec('', null))).toBeUndefined();
    expect(rebootRefused(lost())).toBeUndefined();
    expect(rebootRefused(exec('', 1))).toMatch(/^Reboot command failed/);
    expect(resumeFrom({ reboot: { bootId: 'a', startedAt: 1 } })).toEqual({ bootId: 'a', startedAt: 1 });
    expect(resumeFrom({ other: 1 })).toBeUndefined();
  });

  it('changes nothing in check mode and says it would reboot', async () => {
    const { remote, sent } = fakeHost({});
    const r = await reboot(context(remote, { check: true }), args());
    expect(r).toMatchObject({ changed: true, data: { rebooted: true, elapsed: 0 } });
    expect(sent).toEqual([]);
  });

  it('reboots, waits through the host going away until the boot id changes, then for the test command', async () => {
    const { remote, sent } = fakeHost({
      boot_id: [exec('old\n'), exec('old\n'), lost(), lost(), exec('new\n')],
      shutdown: [exec('', null)],
      whoami: [exec('', 1), exec('root\n')],
    });
    const r = await settle(reboot(context(remote), args({ post_reboot_delay: 2 })));
    expect(r).toMatchObject({ changed: true, data: { rebooted: true } });
    expect(r.data!.elapsed).toBeGreaterThanOrEqual(2);
    expect(sent.filter((c) => c.includes('shutdown'))).toHaveLength(1);
    expect(sent.slice(0, 3)).toEqual([
      'cat /proc/sys/kernel/random/boot_id',
      "PATH=/sbin:/usr/sbin:/usr/local/sbin:$PATH shutdown -r 0 'Reboot initiated by Ansible'",
      '(forget)',
    ]);
    expect(sent.filter((c) => c === 'whoami')).toHaveLength(2);
    expect(saves).toEqual([{ reboot: { bootId: 'old', startedAt: expect.any(Number) } }]);
  });

  it('resumes a retried attempt from the checkpoint: no second reboot, the wait goes on', async () => {
    const { remote, sent } = fakeHost({ boot_id: [lost(), exec('new\n')], whoami: [exec('root\n')] });
    const ctx = context(remote, {
      hooks: {
        checkpoint: { saved: { reboot: { bootId: 'old', startedAt: Date.now() - 30_000 } }, save: () => {} },
      },
    });
    const r = await settle(reboot(ctx, args()));
    expect(r).toMatchObject({ changed: true, data: { rebooted: true } });
    expect(r.data!.elapsed).toBeGreaterThanOrEqual(30);
    expect(sent.some((c) => c.includes('shutdown'))).toBe(false);
  });

  it('fails after reboot_timeout when the boot id never changes, and when the command is refused', async () => {
    const stuck = fakeHost({ boot_id: [exec('same\n')], shutdown: [exec('')] });
    const r = await settle(reboot(context(stuck.remote), args({ reboot_timeout: 20 })));
    expect(r).toMatchObject({ failed: true, data: { rebooted: true } });
    expect(r.msg).toMatch(
      /^Timed out waiting for last boot time check \(timeout=20\): boot time has not changed/,
    );
    const refused = fakeHost({
      boot_id: [exec('a\n')],
      shutdown: [{ ...exec('', 1), stderr: 'not allowed' }],
    });
    expect(await settle(reboot(context(refused.remote), args()))).toMatchObject({
      failed: true,
      msg: 'Reboot command failed. Error was , not allowed',
      data: { rebooted: false },
    });
  });
});

describe('wait_for_connection', () => {
  const args = (a: Record<string, unknown> = {}) => WaitForConnectionArgs.parse(a);

  it('skips in check mode, as ansible-core does', async () => {
    expect(await waitForConnection(context(fakeHost({}).remote, { check: true }), args())).toMatchObject({
      skipped: true,
      changed: false,
    });
  });

  it('tries again every `sleep` seconds until the host answers, after `delay`', async () => {
    const { remote, sent } = fakeHost({ pong: [lost(), lost(), exec('pong\n')] });
    const r = await settle(waitForConnection(context(remote), args({ delay: 3, sleep: 2 })));
    expect(r).toMatchObject({ changed: false, data: { elapsed: 7 } });
    expect(sent).toHaveLength(3);
  });

  it('fails with the last error once timeout passes', async () => {
    const { remote } = fakeHost({ pong: [lost()] });
    const r = await settle(waitForConnection(context(remote), args({ timeout: 5 })));
    expect(r).toMatchObject({ failed: true });
    expect(r.msg).toBe(
      'timed out waiting for ping module test success: node1: cannot reach 10.77.0.12:22 (ECONNREFUSED)',
    );
  });
});

describe('back-off between reboot checks', () => {
  it('doubles from 1 s up to 12 s, with up to 1 s of jitter', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, 0))).toEqual([1000, 2000, 4000, 8000, 12000, 12000]);
    expect(backoffMs(0, 0.5)).toBe(1500);
  });
});
