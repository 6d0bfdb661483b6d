/**
 * `npm run demo`: the embedded default stack (Temporal dev server + a 3-host lab + a worker), then
 * the demo operation through the real CLI. Leaves everything up to explore; `npm run demo -- --down`
 * stops what it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporalSettings, waitForWorker } from '../client/connection';
import { devServerConfig, startDevServer, stopDevServer } from '../lab/devserver';
import { down, labFiles, up } from '../lab/hosts';
import { REPO_ROOT, STATE_DIR } from '../lab/paths';
import { processMatches, stopProcess } from '../lab/sh';

const DEMO_HOSTS = ['lb1', 'db1', 'app1'];
const workerPidFile = path.join(STATE_DIR, 'worker.pid');
const workerLog = path.join(STATE_DIR, 'worker.log');
const WORKER_MARKER = 'clusterflow.js';

function recordedWorker(): number | undefined {
  const pid = existsSync(workerPidFile) ? Number(readFileSync(workerPidFile, 'utf8')) : undefined;
  return processMatches(pid, WORKER_MARKER) ? pid : undefined;
}

async function startWorker(): Promise<void> {
  if (recordedWorker()) return;
  mkdirSync(STATE_DIR, { recursive: true });
  const log = openSync(workerLog, 'a');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/clusterflow.js'), 'worker'], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  writeFileSync(workerPidFile, String(child.pid));
}

async function demoDown(): Promise<void> {
  const pid = recordedWorker();
  if (pid) await stopProcess(pid, WORKER_MARKER);
  rmSync(workerPidFile, { force: true });
  await down(DEMO_HOSTS);
  const stopped = await stopDevServer();
  console.log(
    `demo: worker stopped, lab hosts ${DEMO_HOSTS.join(', ')} removed${stopped ? ', dev server stopped' : ''}`,
  );
}

async function demoUp(): Promise<void> {
  const started = Date.now();
  const server = await startDevServer();
  console.log(
    `demo: Temporal dev server ${server.started ? 'started' : 'already running'} at ${server.address}`,
  );
  await up(DEMO_HOSTS);
  console.log(`demo: lab hosts ${DEMO_HOSTS.join(', ')} answering on SSH`);
  await startWorker();
  await waitForWorker(temporalSettings());
  console.log(`demo: worker polling (log: ${workerLog})\n`);

  const limit = DEMO_HOSTS.join(',');
  console.log(`$ npx clusterflow facts -i ${labFiles.inventory} --limit ${limit}`);
  const facts = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/clusterflow.js'), 'facts', '-i', labFiles.inventory, '--limit', limit],
    { stdio: 'inherit' },
  );
  const ui = `http://${devServerConfig().ip}:${devServerConfig().uiPort}`;
  console.log(`
demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s. Everything stays up for you to explore:
  Temporal Web UI      ${ui}
  lab inventory        ${labFiles.inventory}
  a shell on a host    npx clusterflow-lab ssh app1
  facts again          npx clusterflow facts -i ${labFiles.inventory} --limit 'db*'
  stop it all          npm run demo -- --down`);
  process.exitCode = facts.status ?? 1;
}

(process.argv.includes('--down') ? demoDown() : demoUp()).catch((err: Error) => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
