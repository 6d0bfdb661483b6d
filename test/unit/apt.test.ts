import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  apt as aptModule,
  aptOnlyOptions,
  cacheIsStale,
  updateFailure,
  withPolicyRcD,
} from '../../activities/modules/apt';
import type { ModuleContext } from '../../activities/modules/context';
import { planPackages, splitPin, versionMatches } from '../../activities/modules/package';
import { AptArgs } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';

const apt = (a: Record<string, unknown>) => AptArgs.parse(a);

describe('apt arguments', () => {
  it('takes a list, a comma-separated string, pins, and update_cache with no name', () => {
    expect(apt({ name: 'nginx, curl' }).name).toEqual(['nginx', 'curl']);
    expect(apt({ pkg: ['nginx=1.22*'] }).name).toEqual(['nginx=1.22*']);
    expect(apt({ update_cache: 'yes', cache_valid_time: '3600' })).toMatchObject({
      update_cache: true,
      cache_valid_time: 3600,
    });
    expect(apt({ name: 'x', force_apt_get: true, install_recommends: 'no', policy_rc_d: 101 })).toMatchObject(
      {
        install_recommends: false,
        policy_rc_d: 101,
      },
    );
  });

  it('refuses what ansible-core refuses: nothing to do, deb with absent, a pin with latest', () => {
    expect(taskArguments('apt', { cache_valid_time: 60 }, {}).problems?.[0]).toMatch(
      /give name, deb or update_cache/,
    );
    expect(taskArguments('apt', { deb: '/x.deb', state: 'absent' }, {}).problems?.[0]).toMatch(
      /deb only supports/,
    );
    expect(taskArguments('apt', { name: 'a=1', state: 'latest' }, {}).problems?.[0]).toMatch(/version pin/);
    expect(taskArguments('apt', { name: 'a;reboot' }, {}).problems?.[0]).toMatch(/not a valid package/);
  });

  it('names the apt-only options, which a dnf or yum host refuses', () => {
    expect(aptOnlyOptions(apt({ name: 'a=1', cache_valid_time: 60, policy_rc_d: 101 }))).toEqual([
      'cache_valid_time',
      'policy_rc_d',
      'name=version',
    ]);
    expect(aptOnlyOptions(apt({ name: 'a', update_cache: true, force_apt_get: true }))).toEqual([]);
  });
});

describe('apt on a host without apt', () => {
  // A dnf host: the probe says so; any other command is recorded and answers nothing installed.
  const dnfHost = () => {
    const sent: string[] = [];
    const result = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
    const remote = {
      must: async (c: string) => (
        sent.push(c),
        result(c.includes('command -v apt-get') ? 'dnf\n0\n100\n' : '')
      ),
      run: async (c: string) => (sent.push(c), result('')),
    };
    const ctx = { remote, check: false, diff: false, vars: {} } as unknown as ModuleContext;
    return { ctx, sent };
  };

  it('refuses the apt-only options by name, running nothing', async () => {
    const { ctx, sent } = dnfHost();
    const r = await aptModule(ctx, apt({ name: 'nginx', cache_valid_time: 3600, default_release: 'x' }));
    expect(r).toMatchObject({
      failed: true,
      msg: 'cache_valid_time, default_release: apt only; this host uses dnf (use package or dnf)',
    });
    expect(sent).toHaveLength(1);
  });

  it('installs with dnf what package would, as the apt alias always did', async () => {
    const { ctx, sent } = dnfHost();
    expect(await aptModule(ctx, apt({ name: 'nginx', update_cache: true }))).toMatchObject({ changed: true });
    expect(sent[sent.length - 1]).toBe('dnf -y install nginx');
  });
});

describe('apt cache freshness', () => {
  const now = 1_000_000;
  it('updates when asked and the lists are older than cache_valid_time', () => {
    expect(cacheIsStale({ update_cache: true, cache_valid_time: 3600 }, now - 7200, now)).toBe(true);
    expect(cacheIsStale({ update_cache: true, cache_valid_time: 3600 }, now - 60, now)).toBe(false);
    // cache_valid_time alone asks for the update, as in ansible-core; 0 means always.
    expect(cacheIsStale({ cache_valid_time: 3600 }, now - 7200, now)).toBe(true);
    expect(cacheIsStale({ update_cache: true, cache_valid_time: 0 }, now - 1, now)).toBe(true);
    expect(cacheIsStale({ update_cache: false, cache_valid_time: 0 }, 0, now)).toBe(false);
  });

  it('takes a list apt-get could not fetch as a failed update, though apt-get exits 0', () => {
    const out =
      'Err:1 http://10.77.0.1/debian bookworm InRelease\nW: Failed to fetch http://10.77.0.1/x  Temporary failure resolving\nW: Some index files failed to download.';
    expect(updateFailure(0, out)).toMatch(/^Failed to update apt cache: W: Failed to fetch/);
    expect(updateFailure(0, 'Hit:1 file:/repo ./ InRelease\nReading package lists...')).toBeUndefined();
    expect(updateFailure(100, 'E: Could not get lock')).toMatch(/E: Could not get lock/);
  });
});

describe('apt policy-rc.d', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-policy-'));
  const file = path.join(dir, 'policy-rc.d');
  const run = (command: string) =>
    spawnSync('sh', ['-c', withPolicyRcD(command, 101, file)], { encoding: 'utf8' });

  it('says the exit code while the command runs, and removes itself after, keeping the exit status', () => {
    const r = run(`sh ${file}; echo "during=$?"; exit 7`);
    expect(r.stdout).toBe('during=101\n');
    expect(r.status).toBe(7);
    expect(existsSync(file)).toBe(false);
  });

  it('puts back a policy-rc.d that was there before', () => {
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    expect(run(`cat ${file}`).stdout).toBe('#!/bin/sh\nexit 101\n');
    expect(readFileSync(file, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
  });
});

describe('apt plan', () => {
  const s = { manager: 'apt' as const, installed: { nginx: '1.22.1-9', curl: '7.88' }, candidates: {} };
  const base = { state: 'present' as const, update_cache: false };

  it('reads a pin, and a pattern matches a version prefix', () => {
    expect(splitPin('nginx=1.22*')).toEqual({ name: 'nginx', version: '1.22*' });
    expect(versionMatches('1.22.1-9', '1.22*')).toBe(true);
    expect(versionMatches('1.22.1-9', '1.2')).toBe(false);
    expect(versionMatches('1:2.0+dfsg', '1:2.0+dfsg')).toBe(true);
  });

  it('installs a pinned version only when the installed one does not match it', () => {
    expect(planPackages({ ...base, names: ['nginx=1.22*'] }, s).command).toBeUndefined();
    const plan = planPackages({ ...base, names: ['nginx=1.24.0-1', 'curl'] }, s);
    expect(plan.touched).toEqual(['nginx=1.24.0-1']);
    expect(plan.command).toMatch(/ install --no-install-recommends nginx=1\.24\.0-1$/);
  });

  it('removes a pinned package only at that version, by its name', () => {
    expect(planPackages({ ...base, state: 'absent', names: ['nginx=1.20*'] }, s).command).toBeUndefined();
    expect(planPackages({ ...base, state: 'absent', names: ['nginx=1.22*'] }, s).command).toMatch(
      / remove --no-install-recommends nginx$/,
    );
  });

  it('installs from the default release, with recommends when asked', () => {
    const plan = planPackages(
      { ...base, names: ['haproxy'], defaultRelease: 'bookworm-backports', installRecommends: true },
      s,
    );
    expect(plan.command).toMatch(
      /apt-get .* -t bookworm-backports install -o APT::Install-Recommends=yes haproxy$/,
    );
  });
});
