import { rmSync } from 'node:fs';
import { allocateAddress, renderEtcHosts, validateHostName, type LabHostRecord } from './inventory';
import { boot, createHost, ensureLabKey, writeIntoHost } from './boot';
import {
  containersOutsideRecords,
  halt,
  initAlive,
  isMounted,
  isRunning,
  recordInit,
  unplug,
} from './containers';
import { raiseKernelLimits, restoreKernelLimits } from './kernel-limits';
import { BRIDGE, ensureBridge, waitForSsh } from './network';
import { hostDir, labFiles, loadState, mergedDir, saveState, withLabLock } from './records';
import { ensureRootfs } from './rootfs';
import { run } from './sh';

// The lab's hosts as tests, benchmarks and the lab CLI drive them: up, stop, down, status, and the
// ssh arguments that reach one. Everything a caller of the lab needs is exported from here.

export { containersOutsideRecords, hostMemoryKb, isRunning } from './containers';
export { ensureBridge, netnsOf, vethOf, waitForSsh } from './network';
export { labFiles, withLabLock } from './records';

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
