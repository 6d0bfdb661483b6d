import { spawnSync } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { startDevServer, stopDevServer, type DevServerConfig } from '../../lab/devserver';
import { hostAddress, vethOf } from '../../lab/hosts';
import { onHost } from '../../test/integration/helpers';
import type { RollingProgress } from '../../workflows/node-operations';
import { APPS, LB } from './lab';

// The faults other than a worker kill. Each is bounded in time and undoes itself in a finally.

export type Fault = 'kill' | 'server' | 'netcut' | 'lbreload';
export const FAULTS: readonly Fault[] = ['kill', 'server', 'netcut', 'lbreload'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ipLink(dev: string, state: 'up' | 'down'): void {
  const r = spawnSync('ip', ['link', 'set', dev, state], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip link set ${dev} ${state}: ${r.stderr.trim()}`);
}

/** Waits until the workflow has an activity running (it is mid-step), at most `maxMs`. */
async function untilMidStep(handle: WorkflowHandle, maxMs: number): Promise<boolean> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const desc = await handle.describe().catch(() => undefined);
    if (desc && desc.status.name !== 'RUNNING') return false;
    if ((desc?.raw.pendingActivities ?? []).length > 0 || (desc?.raw.pendingChildren ?? []).length > 0)
      return true;
    await sleep(100);
  }
  return false;
}

/**
 * The target's host-side veth down for `ms`, once the run is past `afterMs` and mid-step; always
 * brought up again. Returns what happened, for the report.
 */
export async function netcut(
  handle: WorkflowHandle,
  target: string,
  afterMs: number,
  ms = 30_000,
): Promise<string> {
  await sleep(afterMs);
  if (!(await untilMidStep(handle, 60_000))) return `run ended before the cut; ${target} never cut`;
  const dev = vethOf(hostAddress(target));
  try {
    ipLink(dev, 'down');
    await sleep(ms);
  } finally {
    ipLink(dev, 'up');
  }
  return `${target} (${dev}) cut for ${ms / 1000} s`;
}

/**
 * The Temporal server stopped for `ms` mid-run, then started again on the same SQLite file. Only
 * ever a dev server of the matrix's own (CF_CHAOS_OWN_SERVER): the shared one serves other tests.
 */
export async function serverOutage(
  handle: WorkflowHandle,
  server: DevServerConfig,
  afterMs: number,
  ms = 10_000,
): Promise<string> {
  await sleep(afterMs);
  if (!(await untilMidStep(handle, 60_000))) return 'run ended before the outage; server never stopped';
  try {
    await stopDevServer(server);
    await sleep(ms);
  } finally {
    await startDevServer(server);
  }
  return `server on :${server.port} stopped for ${ms / 1000} s`;
}

/** The matrix's own dev server: another port, another state directory. */
export function ownServerConfig(dir: string): DevServerConfig {
  const port = Number(process.env.CF_CHAOS_SERVER_PORT ?? 7299);
  return { ip: '127.0.0.1', port, uiPort: port + 1000, dir: `${dir}/temporal` };
}

/**
 * HAProxy reloaded while a node drains: slow requests through the LB keep a drain waiting (round
 * robin spreads them over the nodes), the reload comes once the progress query shows a node
 * draining with sessions left.
 */
export async function lbReloadDuringDrain(handle: WorkflowHandle): Promise<string> {
  const held = Array.from({ length: APPS.length * 2 }, () =>
    fetch(`http://${hostAddress(LB)}/slow?ms=6000`).catch(() => undefined),
  );
  try {
    for (let i = 0; i < 600; i++) {
      const p = (await handle.query('progress').catch(() => undefined)) as RollingProgress | undefined;
      const draining = p?.nodes.find((n) => n.phase === 'draining' && (n.sessionsLeft ?? 0) > 0);
      if (draining) {
        onHost(LB, 'systemctl reload haproxy');
        return `haproxy reloaded while ${draining.node} drained ${draining.sessionsLeft} session(s)`;
      }
      await sleep(100);
    }
    return 'no drain with sessions seen in 60 s; not reloaded';
  } finally {
    await Promise.all(held);
  }
}
