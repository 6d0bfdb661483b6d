import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderInventory, renderKnownHosts, type LabHostRecord } from './inventory';
import { withFileLock } from './lock';
import { LAB_DIR } from './paths';

// The lab's records: which hosts it has (state.json, with the inventory and known_hosts written
// beside it), where each host keeps its disk, and the lock every change to them holds.

export interface HostState extends LabHostRecord {
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

export interface LabState {
  rootfs?: string;
  hosts: Record<string, HostState>;
  /** Kernel settings the lab raised, with the values it found, to put back on `down`. */
  sysctl?: Record<string, number>;
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

export const hostDir = (name: string) => path.join(LAB_DIR, 'hosts', name);
export const mergedDir = (name: string) => path.join(hostDir(name), 'root');

export function loadState(): LabState {
  if (!existsSync(labFiles.state)) return { hosts: {} };
  return JSON.parse(readFileSync(labFiles.state, 'utf8')) as LabState;
}

/** Readers take no lock, so a file is replaced whole (rename), never seen half written. */
function replaceFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

export function saveState(state: LabState): void {
  mkdirSync(LAB_DIR, { recursive: true });
  replaceFile(labFiles.state, JSON.stringify(state, null, 2));
  const hosts = Object.values(state.hosts).sort((a, b) => a.name.localeCompare(b.name));
  replaceFile(labFiles.inventory, renderInventory(hosts, labFiles));
  replaceFile(labFiles.knownHosts, renderKnownHosts(hosts));
}
