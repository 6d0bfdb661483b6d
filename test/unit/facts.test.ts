import { ansibleFacts } from '../../common/ansible-facts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { factsScript, parseFacts } from '../../activities/facts';

const recorded = readFileSync(path.join(__dirname, '../fixtures/facts-debian12-lab.txt'), 'utf8');

describe('facts', () => {
  it('reads a recorded Debian 12 lab host', () => {
    const facts = parseFacts(recorded);
    expect(facts).toMatchObject({
      hostname: 'node1',
      os: { id: 'debian', versionId: '12', family: 'debian' },
      initSystem: 'systemd',
      cpuCount: 2,
      ipv4: ['10.77.0.11'],
    });
    expect(facts.memoryMb).toBeGreaterThan(1000);
    expect(facts.ipv6).toEqual(['fe80::4c0b:a9ff:fe3d:b5d8']);
  });

  it('reports installed-but-disabled services, and ignores unit aliases', () => {
    const { software } = parseFacts(recorded);
    expect(software['mariadb-server']).toEqual({
      installed: true,
      version: '1:10.11.18-0+deb12u1',
      enabled: 'disabled',
      active: 'inactive',
    });
    expect(software['openssh-server']).toMatchObject({ enabled: 'enabled', active: 'active' });
    expect(software['mysql-server']).toEqual({ installed: false });
    expect(software.ipvsadm).toEqual({ installed: false });
  });

  it("gives Ansible content the interpreter, package manager, user, mounts and route under ansible-core's names", () => {
    const out = [
      'python=3.11.2\t/usr/bin/python3',
      'pkg_mgr=apt',
      'user=deploy\t1001\t1001\t/home/deploy\t/bin/bash',
      'epoch=1796356623',
      'route=eth0\t10.77.0.1\t10.77.0.13',
      'mount=/\toverlay\toverlay\t1024\t512',
    ].join('\n');
    const f = ansibleFacts(parseFacts(out)).ansible_facts as Record<string, unknown>;
    expect(f).toMatchObject({
      python_version: '3.11.2',
      python: { version: { major: 3, minor: 11, micro: 2 }, executable: '/usr/bin/python3' },
      pkg_mgr: 'apt',
      user_id: 'deploy',
      user_uid: 1001,
      user_dir: '/home/deploy',
      date_time: { epoch: '1796356623', date: '2026-12-04', iso8601: '2026-12-04T03:57:03Z' },
      default_ipv4: { address: '10.77.0.13', interface: 'eth0', gateway: '10.77.0.1' },
      mounts: [{ mount: '/', device: 'overlay', fstype: 'overlay', size_total: 1024, size_available: 512 }],
    });
  });

  it('leaves out, rather than invents, the facts a result recorded before them lacks', () => {
    const old = { ...parseFacts(recorded), mounts: undefined };
    const f = ansibleFacts(old).ansible_facts as Record<string, unknown>;
    expect(f).not.toHaveProperty('mounts');
    expect(f).not.toHaveProperty('date_time');
  });

  it('classifies a Red Hat family host', () => {
    const facts = parseFacts('os_id=rocky\nos_version_id=9.4\nos_like=rhel centos fedora\ninit=systemd\n');
    expect(facts.os.family).toBe('redhat');
  });

  it('runs as plain POSIX sh (checked by dash -n)', () => {
    const check = spawnSync('sh', ['-n'], { input: factsScript(), encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('runs on this machine and describes it', () => {
    const run = spawnSync('sh', ['-c', factsScript()], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const facts = parseFacts(run.stdout);
    expect(facts.hostname).toBe(spawnSync('hostname', ['-s'], { encoding: 'utf8' }).stdout.trim());
    expect(facts.cpuCount).toBeGreaterThan(0);
  });
});

describe("facts under ansible-core's names", () => {
  it('give ansible_* variables and ansible_facts for a Debian host', () => {
    const f = ansibleFacts({
      hostname: 'node1',
      fqdn: 'node1.lab',
      os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', family: 'debian' },
      kernel: '6.1.0',
      architecture: 'x86_64',
      initSystem: 'systemd',
      cpuCount: 2,
      memoryMb: 1024,
      ipv4: ['10.77.0.11'],
      ipv6: [],
      software: {},
    });
    expect(f).toMatchObject({
      ansible_os_family: 'Debian',
      ansible_distribution: 'Debian',
      ansible_distribution_major_version: '12',
      ansible_distribution_release: 'bookworm',
      ansible_service_mgr: 'systemd',
      ansible_processor_vcpus: 2,
      ansible_default_ipv4: { address: '10.77.0.11' },
    });
    expect((f.ansible_facts as Record<string, unknown>).os_family).toBe('Debian');
  });
});
