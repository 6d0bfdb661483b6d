import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  LAB_NETWORK,
  allocateAddress,
  renderEtcHosts,
  renderInventory,
  renderKnownHosts,
  validateHostName,
  type LabHostRecord,
} from './inventory';
import { withFileLock } from './lock';
import { LAB_DIR } from './paths';
import { ensureRootfs } from './rootfs';
import { processMatches, run, sleep, stopProcess } from './sh';

const BRIDGE = 'cfbr0';

interface HostState extends LabHostRecord {
  /**
   * $CLUSTERFLOW_LAB_OWNER of the process that created the host (a test run, a benchmark), so
   * that owner can find and remove every host it made, and only those.
   */
  owner?: string;
  /** systemd-nspawn, which we started. */
  pid?: number;
  /** The container's init and its start time: it outlives a killed nspawn, so we track it too. */
  init?: { pid: number; startTime: string };
}

interface LabState {
  rootfs?: string;
  hosts: Record<string, HostState>;
  /** Kernel settings the lab raised, with the values it found, to put back on `down`. */
  sysctl?: Record<string, number>;
}

/**
 * Every container's systemd takes several inotify instances; the kernel's default of 128 per user
 * runs out at a few dozen hosts ("Failed to allocate manager object: Too many open files").
 */
const SYSCTL_FLOORS: Record<string, number> = {
  'fs.inotify.max_user_instances': 8192,
  'fs.inotify.max_user_watches': 1048576,
};

function raiseKernelLimits(state: LabState): void {
  for (const [key, floor] of Object.entries(SYSCTL_FLOORS)) {
    const file = `/proc/sys/${key.replace(/\./g, '/')}`;
    const current = Number(readFileSync(file, 'utf8'));
    if (current >= floor) continue;
    state.sysctl ??= {};
    state.sysctl[key] ??= current;
    writeFileSync(file, String(floor));
  }
}

function restoreKernelLimits(state: LabState): void {
  for (const [key, original] of Object.entries(state.sysctl ?? {})) {
    writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, String(original));
  }
  state.sysctl = undefined;
}

export const labFiles = {
  state: path.join(LAB_DIR, 'state.json'),
  inventory: path.join(LAB_DIR, 'inventory.yml'),
  knownHosts: path.join(LAB_DIR, 'known_hosts'),
  key: path.join(LAB_DIR, 'id_ed25519'),
  /** Every change to the lab holds this; it outlives `down`, or two holders could lock two files. */
  lock: path.join(LAB_DIR, 'lock'),
};

/**
 * Runs `fn` as the only process changing the lab: two processes that each load the state, change
 * it and save it would otherwise lose one's hosts from the records while their containers run on.
 * Reentrant, so lab functions call each other freely; callers may take it to read a consistent lab.
 */
export function withLabLock<T>(fn: () => Promise<T>): Promise<T> {
  return withFileLock(labFiles.lock, fn);
}

const hostDir = (name: string) => path.join(LAB_DIR, 'hosts', name);
const mergedDir = (name: string) => path.join(hostDir(name), 'root');
/** A host's network namespace (tests make a path unroutable in it). */
export const netnsOf = (name: string) => `cf-${name}`;
const machineOf = (name: string) => `cf-${name}`;
/** The host-side end of a host's veth pair (the chaos matrix cuts a host's network with it). */
export const vethOf = (address: string) => `cfv${address.split('.')[3]}`;
/** What the nspawn command line of a host contains; used to recognise our own PIDs. */
const markerOf = (name: string) => `--machine=${machineOf(name)}`;

function loadState(): LabState {
  if (!existsSync(labFiles.state)) return { hosts: {} };
  return JSON.parse(readFileSync(labFiles.state, 'utf8')) as LabState;
}

/** Readers take no lock, so a file is replaced whole (rename), never seen half written. */
function replaceFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

function saveState(state: LabState): void {
  mkdirSync(LAB_DIR, { recursive: true });
  replaceFile(labFiles.state, JSON.stringify(state, null, 2));
  const hosts = Object.values(state.hosts).sort((a, b) => a.name.localeCompare(b.name));
  replaceFile(labFiles.inventory, renderInventory(hosts, labFiles));
  replaceFile(labFiles.knownHosts, renderKnownHosts(hosts));
}

export function isRunning(host: HostState): boolean {
  return processMatches(host.pid, markerOf(host.name));
}

/** Field 22 of /proc/PID/stat: with the PID it names one process for the machine's uptime. */
function startTimeOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
  } catch {
    return undefined;
  }
}

function initAlive(host: HostState): boolean {
  return Boolean(host.init && startTimeOf(host.init.pid) === host.init.startTime);
}

/** Records the container's init (nspawn's child) once it exists. */
async function recordInit(host: HostState): Promise<void> {
  for (let i = 0; i < 50 && host.pid; i++) {
    const child = run('pgrep', ['-P', String(host.pid)], { allowFailure: true }).stdout.split('\n')[0];
    const startTime = child ? startTimeOf(Number(child)) : undefined;
    if (child && startTime) {
      host.init = { pid: Number(child), startTime };
      return;
    }
    await sleep(100);
  }
}

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${netnsOf(name)}`);
}

function ensureLabKey(): void {
  if (existsSync(labFiles.key)) return;
  mkdirSync(LAB_DIR, { recursive: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'clusterflow-lab', '-f', labFiles.key]);
}

/** The lab bridge and its gateway address; services for lab hosts (the licensing stand-in) bind there. */
export function ensureBridge(): void {
  if (run('ip', ['link', 'show', BRIDGE], { allowFailure: true }).code === 0) return;
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${LAB_NETWORK.gateway}/${LAB_NETWORK.cidr}`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
}

/** Gives the host its own network namespace on the bridge, with no route out of the lab. */
function plugNetwork(host: HostState): void {
  const ns = netnsOf(host.name);
  if (netnsExists(host.name)) run('ip', ['netns', 'del', ns]);
  run('ip', ['link', 'del', vethOf(host.address)], { allowFailure: true });
  run('ip', ['netns', 'add', ns]);
  run('ip', ['link', 'add', vethOf(host.address), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  run('ip', ['link', 'set', vethOf(host.address), 'master', BRIDGE, 'up']);
  run('ip', ['-n', ns, 'addr', 'add', `${host.address}/${LAB_NETWORK.cidr}`, 'dev', 'eth0']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // A restarted host has a new MAC; a stale neighbour entry would cost seconds of ARP probing.
  run('ip', ['neigh', 'flush', 'to', host.address], { allowFailure: true });
}

/** Creates the host's identity on first use: directories and its own ed25519 host key. */
function createHost(name: string, address: string): HostState {
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

function writeIntoHost(name: string, file: string, content: string | Buffer, mode = 0o644): void {
  const target = path.join(mergedDir(name), file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content, { mode });
}

function boot(host: HostState, rootfs: string, all: HostState[]): void {
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

/** Waits until the host's sshd answers with its banner. */
export async function waitForSsh(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const banner = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port: 22, timeout: 1000 });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (banner) return;
    if (Date.now() > deadline)
      throw new Error(`lab host ${address} did not answer on port 22 within ${timeoutMs} ms`);
    await sleep(150);
  }
}

/** Stops the host's container and unplugs it; its disk (upper layer) stays for a later start. */
async function halt(host: HostState): Promise<void> {
  if (host.pid) await stopProcess(host.pid, markerOf(host.name), 15_000);
  // If nspawn was killed, its container's init lives on; killing that init ends the container.
  if (initAlive(host)) {
    process.kill(host.init!.pid, 'SIGKILL');
    for (let i = 0; i < 100 && initAlive(host); i++) await sleep(100);
  }
  host.pid = undefined;
  host.init = undefined;
  await unplug(host.name);
  run('ip', ['link', 'del', vethOf(host.address)], { allowFailure: true });
}

const HOSTS_DIR = path.join(LAB_DIR, 'hosts');
const MACHINE_ARG = /^--machine=cf-(.+)$/;

/**
 * Every process of a lab host, whatever the records say: each nspawn (by its --machine argument)
 * and each container's init (the root of a PID namespace whose root filesystem is a lab host's
 * overlay). A crash between starting a container and saving the state leaves just these.
 */
function labProcesses(): { pid: number; host: string }[] {
  const found: { pid: number; host: string }[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const machine = args.map((a) => MACHINE_ARG.exec(a)?.[1]).find(Boolean);
      if (args[0].endsWith('systemd-nspawn') && machine) {
        found.push({ pid: Number(pid), host: machine });
        continue;
      }
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].split(/\s+/);
      if (!nspid || nspid.length < 2 || nspid[nspid.length - 1] !== '1') continue;
      const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .find((line) => line.split(' ')[4] === '/');
      const upper = root
        ?.split(/[ ,]/)
        .find((o) => o.startsWith('upperdir='))
        ?.slice('upperdir='.length);
      if (upper && path.basename(upper) === 'upper' && path.dirname(path.dirname(upper)) === HOSTS_DIR)
        found.push({ pid: Number(pid), host: path.basename(path.dirname(upper)) });
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

/** Names of lab hosts with a container running that the lab has no record of. */
export function containersOutsideRecords(): string[] {
  const recorded = loadState().hosts;
  return [...new Set(labProcesses().map((p) => p.host))].filter((name) => !recorded[name]).sort();
}

/** Ends whatever still runs of host `name` and takes its overlay mount and network namespace away. */
async function unplug(name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pids = labProcesses().filter((p) => p.host === name);
    if (pids.length === 0) break;
    for (const { pid } of pids) {
      try {
        // Killing a PID namespace's init ends every process in it.
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  if (isMounted(mergedDir(name))) run('umount', [mergedDir(name)], { allowFailure: true });
  if (netnsExists(name)) run('ip', ['netns', 'del', netnsOf(name)], { allowFailure: true });
}

/** Brings up `names` (adding them to the lab if new) and returns when all answer on SSH. */
export async function up(names: readonly string[]): Promise<LabHostRecord[]> {
  names.forEach(validateHostName);
  const hosts = await withLabLock(() => upLocked(names));
  // Booting needs no lock: other processes change the lab meanwhile (fifty hosts take a while).
  await Promise.all(hosts.map((h) => waitForSsh(h.address)));
  return hosts;
}

async function upLocked(names: readonly string[]): Promise<LabHostRecord[]> {
  const rootfs = ensureRootfs();
  ensureLabKey();
  const state = loadState();
  // A lab from another rootfs (package list changed) is rebuilt from scratch.
  if (state.rootfs && state.rootfs !== rootfs) await down();
  const fresh = loadState();
  fresh.rootfs = rootfs;
  // Leftovers of a crash: anything recorded but no longer running is unplugged before reuse.
  for (const host of Object.values(fresh.hosts)) if (!isRunning(host)) await halt(host);
  for (const name of names) {
    if (!fresh.hosts[name]) {
      // Unrecorded, yet perhaps still running or mounted: its directory could not be removed (EBUSY).
      await unplug(name);
      const taken = Object.values(fresh.hosts).map((h) => h.address);
      fresh.hosts[name] = createHost(name, allocateAddress(taken));
    }
  }
  ensureBridge();
  raiseKernelLimits(fresh);
  const all = Object.values(fresh.hosts);
  // Every host's /etc/hosts names every lab host, including ones added now.
  for (const host of all) if (isRunning(host)) writeIntoHost(host.name, 'etc/hosts', renderEtcHosts(all));
  const starting = names.map((n) => fresh.hosts[n]).filter((h) => !isRunning(h));
  for (const host of starting) boot(host, rootfs, all);
  saveState(fresh);
  await Promise.all(all.filter((h) => isRunning(h) && !initAlive(h)).map(recordInit));
  saveState(fresh);
  return names.map((n) => fresh.hosts[n]);
}

/** Stops hosts but keeps them in the lab: their addresses stop answering, like a powered-off server. */
export function stop(names: readonly string[]): Promise<void> {
  return withLabLock(async () => {
    const state = loadState();
    for (const name of names) {
      const host = state.hosts[name];
      if (!host) throw new Error(`no lab host named ${name}`);
      await halt(host);
    }
    saveState(state);
  });
}

/** Removes the named hosts, or the whole lab (hosts, bridge, state) when none are named. */
export function down(names?: readonly string[]): Promise<void> {
  return withLabLock(() => downLocked(names));
}

async function downLocked(names?: readonly string[]): Promise<void> {
  const state = loadState();
  const targets = names?.length ? names : [...Object.keys(state.hosts), ...containersOutsideRecords()];
  for (const name of targets) {
    validateHostName(name);
    const host = state.hosts[name];
    if (!host) {
      // Not in the records, but perhaps still running: a crash's leftover goes as well.
      await unplug(name);
      if (!isMounted(mergedDir(name))) rmSync(hostDir(name), { recursive: true, force: true });
      continue;
    }
    await halt(host);
    rmSync(hostDir(name), { recursive: true, force: true });
    delete state.hosts[name];
  }
  if (Object.keys(state.hosts).length === 0) {
    restoreKernelLimits(state);
    run('ip', ['link', 'del', BRIDGE], { allowFailure: true });
    for (const file of [labFiles.state, labFiles.inventory, labFiles.knownHosts])
      rmSync(file, { force: true });
    return;
  }
  saveState(state);
}

export interface HostStatus extends LabHostRecord {
  running: boolean;
  pid?: number;
  owner?: string;
}

export function status(): HostStatus[] {
  return Object.values(loadState().hosts)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((h) => ({ ...h, running: isRunning(h), pid: isRunning(h) ? h.pid : undefined }));
}

export function hostAddress(name: string): string {
  const host = loadState().hosts[name];
  if (!host) throw new Error(`no lab host named ${name}`);
  return host.address;
}

/** The ssh arguments that reach a lab host with its pinned key, for `ssh` and `exec`; `options` go before the destination. */
export function sshArgs(name: string, options: string[] = []): string[] {
  return [
    ...options,
    '-i',
    labFiles.key,
    '-o',
    `UserKnownHostsFile=${labFiles.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `root@${hostAddress(name)}`,
  ];
}

/** Sums the proportional memory (PSS) of every process in the host's container. */
export function hostMemoryKb(name: string): number {
  const host = loadState().hosts[name];
  if (!host || !isRunning(host)) return 0;
  if (!host.init) return 0;
  const init = host.init.pid;
  const pidns = readlinkSync(`/proc/${init}/ns/pid`);
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) !== pidns) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // the process exited while we looked
    }
  }
  return total;
}
