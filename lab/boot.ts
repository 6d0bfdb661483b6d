import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderEtcHosts } from './inventory';
import { isMounted, markerOf } from './containers';
import { netnsExists, netnsOf, plugNetwork } from './network';
import { LAB_DIR } from './paths';
import { hostDir, labFiles, mergedDir, type HostState } from './records';
import { run } from './sh';

// A host from nothing to a booting container: the lab's SSH key, the host's identity (directories,
// host key, machine-id), its overlay root with the files it needs, and systemd-nspawn started on it.

export function ensureLabKey(): void {
  if (existsSync(labFiles.key)) return;
  mkdirSync(LAB_DIR, { recursive: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'clusterflow-lab', '-f', labFiles.key]);
}

/** Creates the host's identity on first use: directories and its own ed25519 host key. */
export function createHost(name: string, address: string): HostState {
  const dir = hostDir(name);
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['upper', 'work', 'root']) mkdirSync(path.join(dir, sub), { recursive: true });
  run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    `root@${name}`,
    '-f',
    path.join(dir, 'ssh_host_ed25519_key'),
  ]);
  writeFileSync(path.join(dir, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  const hostKey = readFileSync(path.join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim();
  const owner = process.env.CLUSTERFLOW_LAB_OWNER || undefined;
  return { name, address, hostKey, ...(owner && { owner }) };
}

export function writeIntoHost(name: string, file: string, content: string | Buffer, mode = 0o644): void {
  const target = path.join(mergedDir(name), file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content, { mode });
}

export function boot(host: HostState, rootfs: string, all: HostState[]): void {
  const dir = hostDir(host.name);
  const root = mergedDir(host.name);
  if (!isMounted(root)) {
    // Our own overlay rather than --volatile=overlay, so that each host's /etc, /var/lib and /var/log
    // survive a stop/start of the host (a reboot), as on a real server.
    run('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${rootfs},upperdir=${dir}/upper,workdir=${dir}/work`,
      root,
    ]);
  }
  writeIntoHost(host.name, 'etc/hostname', `${host.name}\n`);
  writeIntoHost(host.name, 'etc/machine-id', readFileSync(path.join(dir, 'machine-id')));
  writeIntoHost(host.name, 'etc/hosts', renderEtcHosts(all));
  writeIntoHost(
    host.name,
    'etc/ssh/ssh_host_ed25519_key',
    readFileSync(path.join(dir, 'ssh_host_ed25519_key')),
    0o600,
  );
  writeIntoHost(
    host.name,
    'etc/ssh/ssh_host_ed25519_key.pub',
    readFileSync(path.join(dir, 'ssh_host_ed25519_key.pub')),
  );
  writeIntoHost(host.name, 'root/.ssh/authorized_keys', readFileSync(`${labFiles.key}.pub`), 0o600);
  plugNetwork(host);
  // Other hosts may remember this address at its old MAC; make them ask again.
  for (const other of all) {
    if (other.name !== host.name && netnsExists(other.name)) {
      run('ip', ['-n', netnsOf(other.name), 'neigh', 'flush', 'to', host.address], { allowFailure: true });
    }
  }

  const args = [
    '--boot',
    '--quiet',
    // There is no systemd on the machine to register with or to get a scope from.
    '--register=no',
    '--keep-unit',
    `--directory=${root}`,
    markerOf(host.name),
    `--hostname=${host.name}`,
    `--network-namespace-path=/run/netns/${netnsOf(host.name)}`,
    '--console=passive',
  ];
  // GlusterFS clients mount with FUSE.
  if (existsSync('/dev/fuse')) args.push('--bind=/dev/fuse');
  // nfs-ganesha's VFS backend opens files by handle; nspawn's seccomp filter refuses
  // open_by_handle_at (EPERM, seen as NFS4ERR_PERM on every create) unless it is allowed here.
  args.push('--system-call-filter=open_by_handle_at');
  const log = openSync(path.join(dir, 'console.log'), 'a');
  const child = spawn('systemd-nspawn', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  host.pid = child.pid;
}
