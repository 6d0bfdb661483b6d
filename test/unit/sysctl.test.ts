import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseSysctlRead, planSysctl, sysctlReadScript, sysctlValue } from '../../activities/modules/sysctl';
import { SysctlArgs } from '../../common/modules';

const args = (a: Record<string, unknown>) => SysctlArgs.parse({ name: 'net.ipv4.ip_forward', ...a });

describe('sysctl', () => {
  it('appends a missing key to the file and reloads it', () => {
    const plan = planSysctl('# kernel\nvm.swappiness = 10\n', '0', args({ value: 1 }));
    expect(plan).toEqual({
      changed: true,
      file: '# kernel\nvm.swappiness=10\nnet.ipv4.ip_forward=1\n',
      setRunning: false,
      reload: true,
      value: '1',
    });
  });

  it('changes nothing when the file and the running value agree', () => {
    expect(planSysctl('net.ipv4.ip_forward = 1\n', '1\n', args({ value: 'yes' }))).toMatchObject({
      changed: false,
      file: undefined,
      reload: false,
    });
  });

  it('reloads when the file is right but the running value is not (ansible.posix), not with reload off', () => {
    expect(planSysctl('net.ipv4.ip_forward=1\n', '0', args({ value: '1' }))).toMatchObject({
      changed: true,
      file: undefined,
      reload: true,
    });
    expect(planSysctl('net.ipv4.ip_forward=1\n', '0', args({ value: '1', reload: false })).changed).toBe(
      false,
    );
  });

  it('sets the running value with sysctl_set, comparing word by word', () => {
    const a = args({
      name: 'net.ipv4.tcp_rmem',
      value: '4096 87380 6291456',
      sysctl_set: true,
      reload: false,
    });
    expect(planSysctl('net.ipv4.tcp_rmem=4096 87380 6291456\n', '4096\t87380\t6291456\n', a).changed).toBe(
      false,
    );
    expect(planSysctl('net.ipv4.tcp_rmem=4096 87380 6291456\n', '4096 16384 4194304', a)).toMatchObject({
      changed: true,
      setRunning: true,
      file: undefined,
    });
  });

  it('removes the key with state=absent, keeping one line per key as ansible.posix rewrites the file', () => {
    const plan = planSysctl(
      'net.ipv4.ip_forward=1\n  vm.swappiness=10\nvm.swappiness=20\n; note\n',
      '1',
      args({ state: 'absent' }),
    );
    expect(plan.file).toBe('vm.swappiness=10\n; note\n');
    expect(planSysctl('vm.swappiness=10\n', '1', args({ state: 'absent' })).changed).toBe(false);
  });

  it('reads yes/no as 1/0 and needs a value to be present', () => {
    expect([sysctlValue('yes'), sysctlValue('False'), sysctlValue(' 5 ')]).toEqual(['1', '0', '5']);
    expect(SysctlArgs.safeParse({ name: 'vm.swappiness' }).success).toBe(false);
    expect(SysctlArgs.parse({ key: 'vm.swappiness', val: 10 })).toMatchObject({
      name: 'vm.swappiness',
      value: '10',
    });
  });

  it('reads the file through its link and the running value in one script', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-sysctl-'));
    try {
      writeFileSync(path.join(dir, 'real.conf'), 'kernel.x=1\n');
      spawnSync('ln', ['-s', 'real.conf', path.join(dir, 'sysctl.conf')]);
      const script = sysctlReadScript({ name: 'kernel.ostype', sysctl_file: path.join(dir, 'sysctl.conf') });
      const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(parseSysctlRead(r.stdout)).toEqual({
        real: path.join(dir, 'real.conf'),
        text: 'kernel.x=1\n',
        running: 'Linux',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
