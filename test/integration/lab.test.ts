import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseKnownHosts } from '../../activities/ssh/known-hosts';
import { down, labFiles, sshArgs, status, stop, up } from '../../lab/hosts';

/** Runs a command on a lab host through the same ssh arguments `clusterflow-lab exec` uses. */
function onHost(host: string, command: string): { code: number; out: string } {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout.trim() };
}

describe('the lab', () => {
  // Hosts of its own, booted here: the shared test hosts carry what earlier suites did to them
  // (a killed mysqld is a failed unit), and this suite stops and kills hosts, which theirs must not see.
  const hosts = ['boot1', 'boot2', 'boot3'];
  beforeAll(() => up(hosts), 120_000);
  afterAll(() => down(hosts), 120_000);

  it('boots each host with its own name, address, machine-id and host key, and systemd running', () => {
    const seen = { ids: new Set<string>(), keys: new Set<string>() };
    for (const host of hosts) {
      const { code, out } = onHost(
        host,
        'hostname; cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub; systemctl is-system-running --wait || { systemctl --failed --no-legend --plain; exit 1; }',
      );
      // The whole output in the failure message: a degraded host names its failed units.
      expect({ host, code, out }).toMatchObject({ host, code: 0 });
      const [name, machineId, hostKey, state] = out.split('\n');
      expect(name).toBe(host);
      expect(state).toBe('running');
      seen.ids.add(machineId);
      seen.keys.add(hostKey.split(' ')[1]);
    }
    expect(seen.ids.size).toBe(hosts.length);
    expect(seen.keys.size).toBe(hosts.length);
  });

  it('pins exactly the keys the hosts present in its known_hosts file', () => {
    const entries = parseKnownHosts(readFileSync(labFiles.knownHosts, 'utf8'));
    for (const host of hosts) {
      const presented = onHost(host, 'cat /etc/ssh/ssh_host_ed25519_key.pub').out.split(' ')[1];
      const entry = entries.find((e) => e.patterns.includes(host));
      expect(entry?.key.toString('base64')).toBe(presented);
    }
  });

  it('lets hosts reach each other by name but gives them no route out of the lab', () => {
    const { out } = onHost(
      'boot1',
      'getent hosts boot2 boot3; ip route show default | wc -l; ping -c1 -W2 boot2 >/dev/null && echo ping-ok',
    );
    const lines = out.split('\n');
    const byName = Object.fromEntries(status().map((h) => [h.name, h.address]));
    expect(lines).toContain(`${byName.boot2}      boot2`);
    expect(lines).toContain('0');
    expect(lines).toContain('ping-ok');
  });

  it('installs the products disabled, so workflows start them as an operator would', () => {
    const { out } = onHost(
      'boot1',
      'for u in mariadb haproxy nginx apache2 glusterd nfs-server nfs-ganesha; do echo "$u $(systemctl is-enabled $u) $(systemctl is-active $u)"; done; for c in mariadb mariabackup haproxy nginx apache2ctl gluster ganesha.nfsd nfs-ls socat curl python3 sudo; do command -v $c >/dev/null || echo "missing $c"; done',
    );
    const lines = out.split('\n');
    for (const unit of ['mariadb', 'haproxy', 'nginx', 'apache2', 'glusterd', 'nfs-server', 'nfs-ganesha']) {
      expect(lines).toContain(`${unit} disabled inactive`);
    }
    expect(lines.filter((l) => l.startsWith('missing'))).toEqual([]);
  });

  it('keeps a host disk across stop and start, like a rebooted server', async () => {
    expect(onHost('boot3', 'echo kept > /var/lib/lab-marker').code).toBe(0);
    await stop(['boot3']);
    expect(status().find((h) => h.name === 'boot3')?.running).toBe(false);
    await up(['boot3']);
    expect(onHost('boot3', 'cat /var/lib/lab-marker').out).toBe('kept');
  });

  it('recovers a host whose nspawn was killed: the orphaned container is ended, then booted again', async () => {
    const before = JSON.parse(readFileSync(labFiles.state, 'utf8')).hosts.boot2 as {
      pid: number;
      init: { pid: number };
    };
    process.kill(before.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // The container's init outlives nspawn: exactly the leftover a crash leaves behind.
    expect(existsSync(`/proc/${before.init.pid}`)).toBe(true);
    await up(['boot2']);
    expect(existsSync(`/proc/${before.init.pid}`)).toBe(false);
    expect(onHost('boot2', 'hostname').out).toBe('boot2');
  });
});
