/**
 * cluster-setup benchmark: the demo cluster (examples/demo/cluster.yml, on hosts of its own named
 * `bc<demo host>`) set up cold on freshly booted lab hosts, then again on the converged cluster
 * (0 changes expected). Wall time of each run and of each step, through Temporal with a worker
 * in this process.
 *   npm run bench:setup
 * Writes bench/results/cluster-setup.json. Removes its hosts at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildClusterSetup } from '../client/cluster';
import { startOperation, temporalSettings } from '../client/connection';
import { loadSpec } from '../client/spec';
import { startDevServer, stopDevServer } from '../lab/devserver';
import { down, up } from '../lab/hosts';
import { REPO_ROOT } from '../lab/paths';
import { DEMO_HOSTS, demoSpecOn } from '../test/fixtures/demo/spec';
import type { ClusterSetupResult } from '../workflows/cluster';
import { startBenchWorker } from './worker';

const PREFIX = 'bc';
const HOSTS = DEMO_HOSTS.map((h) => `${PREFIX}${h}`);

async function main(): Promise<void> {
  const server = await startDevServer();
  for (const name of ['CF_DEMO_DB_ADMIN', 'CF_DEMO_DB_REPL', 'CF_DEMO_DB_APP'])
    process.env[name] = randomBytes(12).toString('hex');
  const settings = temporalSettings({ taskQueue: `bench-setup-${Date.now()}` });
  const spec = demoSpecOn(PREFIX, {
    dir: mkdtempSync(path.join(os.tmpdir(), 'cf-bench-setup-')),
    name: 'cluster',
    cluster: `bench-${Date.now().toString(36)}`,
  });
  await down(HOSTS);
  let t = Date.now();
  await up(HOSTS);
  const bootSeconds = (Date.now() - t) / 1000;
  console.log(`${HOSTS.length} fresh lab hosts up in ${bootSeconds.toFixed(1)} s`);

  const worker = await startBenchWorker(settings);
  const runs: Record<string, unknown>[] = [];
  try {
    for (const run of ['cold', 're-run']) {
      t = Date.now();
      const handle = await startOperation(worker.client, settings, buildClusterSetup(loadSpec(spec)));
      const r = (await handle.result()) as ClusterSetupResult;
      const seconds = (Date.now() - t) / 1000;
      const changes = Object.values(r.recap).reduce((n, h) => n + h.changed, 0);
      console.log(
        `cluster-setup ${run}: ${seconds.toFixed(1)} s, ok ${r.ok}, ${changes} change(s); ` +
          r.steps.map((s) => `${s.step} ${((s.ms ?? 0) / 1000).toFixed(1)} s`).join(', '),
      );
      if (!r.ok) throw new Error(`cluster-setup ${run} failed: ${r.failures.join('; ')}`);
      runs.push({
        run,
        seconds,
        changes,
        steps: Object.fromEntries(r.steps.map((s) => [s.step, (s.ms ?? 0) / 1000])),
      });
    }
  } finally {
    await worker.stop();
    await down(HOSTS);
    if (server.started) await stopDevServer();
  }
  const out = path.join(REPO_ROOT, 'bench/results/cluster-setup.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, hosts: HOSTS, bootSeconds, runs }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
