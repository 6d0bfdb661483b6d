import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseKnownHosts } from '../../activities/ssh/known-hosts';
import { labFiles, sshArgs, status, stop, up } from '../../lab/hosts';

/** Runs a command on a lab host through the same ssh arguments `clusterflow-lab exec` uses. */
function onHost(host: string, command: string): { code: number; out: string } {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout.trim() };
}

describe('the lab', () => {
  const hosts = ['node1', 'node2', 'node3'];

  it('boots each host with its own name, address, machine-id and host key, and systemd running', () => {
    const seen = { ids: new Set<string>(), keys: new Set<string>() };
    for (const host of hosts) {
      const { code, out } = onHost(
        host,
        'hostname; cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub; systemctl is-system-running --wait',
      );
      expect(code).toBe(0);
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
      'node1',
      'getent hosts node2 node3; ip route show default | wc -l; ping -c1 -W2 node2 >/dev/null && echo ping-ok',
    );
    const lines = out.split('\n');
    const byName = Object.fromEntries(status().map((h) => [h.name, h.address]));
    expect(lines).toContain(`${byName.node2}      node2`);
    expect(lines).toContain('0');
    expect(lines).toContain('ping-ok');
  });

  it('installs the products disabled, so workflows start them as an operator would', () => {
    const { out } = onHost(
      'node1',
      'for u in mariadb haproxy nginx apache2 glusterd nfs-server nfs-ganesha; do echo "$u $(systemctl is-enabled $u) $(systemctl is-active $u)"; done; for c in mariadb mariabackup haproxy nginx apache2ctl gluster ganesha.nfsd nfs-ls socat curl python3 sudo; do command -v $c >/dev/null || echo "missing $c"; done',
    );
    const lines = out.split('\n');
    for (const unit of ['mariadb', 'haproxy', 'nginx', 'apache2', 'glusterd', 'nfs-server', 'nfs-ganesha']) {
      expect(lines).toContain(`${unit} disabled inactive`);
    }
    expect(lines.filter((l) => l.startsWith('missing'))).toEqual([]);
  });

  it('keeps a host disk across stop and start, like a rebooted server', async () => {
    expect(onHost('node3', 'echo kept > /var/lib/lab-marker').code).toBe(0);
    await stop(['node3']);
    expect(status().find((h) => h.name === 'node3')?.running).toBe(false);
    await up(['node3']);
    expect(onHost('node3', 'cat /var/lib/lab-marker').out).toBe('kept');
  });

  it('recovers a host whose nspawn was killed: the orphaned container is ended, then booted again', async () => {
    const before = JSON.parse(readFileSync(labFiles.state, 'utf8')).hosts.node2 as {
      pid: number;
      init: { pid: number };
    };
    process.kill(before.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // The container's init outlives nspawn: exactly the leftover a crash leaves behind.
    expect(existsSync(`/proc/${before.init.pid}`)).toBe(true);
    await up(['node2']);
    expect(existsSync(`/proc/${before.init.pid}`)).toBe(false);
    expect(onHost('node2', 'hostname').out).toBe('node2');
  });
});
