import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { LAB_DIR } from './paths';
import { loadState, mergedDir, type HostState } from './records';
import { netnsExists, netnsOf, vethOf } from './network';
import { processMatches, run, sleep, stopProcess } from './sh';

// A host's container as processes: which ones are ours (nspawn and the container's init), whether
// it runs, how it is stopped and cleared away, and what memory it takes.

const machineOf = (name: string) => `cf-${name}`;
/** What the nspawn command line of a host contains; used to recognise our own PIDs. */
export const markerOf = (name: string) => `--machine=${machineOf(name)}`;

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

export function initAlive(host: HostState): boolean {
  return Boolean(host.init && startTimeOf(host.init.pid) === host.init.startTime);
}

/** Records the container's init (nspawn's child) once it exists. */
export async function recordInit(host: HostState): Promise<void> {
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

export function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

/** Stops the host's container and unplugs it; its disk (upper layer) stays for a later start. */
export async function halt(host: HostState): Promise<void> {
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
export async function unplug(name: string): Promise<void> {
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
