import { existsSync } from 'node:fs';
import net from 'node:net';
import { LAB_NETWORK } from './inventory';
import type { HostState } from './records';
import { run, sleep } from './sh';

// The lab's network: one bridge, and on it each host's own network namespace through a veth pair;
// a host counts as reachable once its sshd answers there.

export const BRIDGE = 'cfbr0';

/** A host's network namespace (tests make a path unroutable in it). */
export const netnsOf = (name: string) => `cf-${name}`;
/** The host-side end of a host's veth pair (the chaos matrix cuts a host's network with it). */
export const vethOf = (address: string) => `cfv${address.split('.')[3]}`;

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${netnsOf(name)}`);
}

/** The lab bridge and its gateway address; services for lab hosts (the licensing stand-in) bind there. */
export function ensureBridge(): void {
  if (run('ip', ['link', 'show', BRIDGE], { allowFailure: true }).code === 0) return;
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${LAB_NETWORK.gateway}/${LAB_NETWORK.cidr}`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
}

/** Gives the host its own network namespace on the bridge, with no route out of the lab. */
export function plugNetwork(host: HostState): void {
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
