import { readFileSync, writeFileSync } from 'node:fs';
import type { LabState } from './records';

// Kernel settings the lab raises for as many hosts as it runs, and puts back once the last one goes.

/**
 * Every container's systemd takes several inotify instances; the kernel's default of 128 per user
 * runs out at a few dozen hosts ("Failed to allocate manager object: Too many open files").
 */
const SYSCTL_FLOORS: Record<string, number> = {
  'fs.inotify.max_user_instances': 8192,
  'fs.inotify.max_user_watches': 1048576,
};

export function raiseKernelLimits(state: LabState): void {
  for (const [key, floor] of Object.entries(SYSCTL_FLOORS)) {
    const file = `/proc/sys/${key.replace(/\./g, '/')}`;
    const current = Number(readFileSync(file, 'utf8'));
    if (current >= floor) continue;
    state.sysctl ??= {};
    state.sysctl[key] ??= current;
    writeFileSync(file, String(floor));
  }
}

export function restoreKernelLimits(state: LabState): void {
  for (const [key, original] of Object.entries(state.sysctl ?? {})) {
    writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, String(original));
  }
  state.sysctl = undefined;
}
