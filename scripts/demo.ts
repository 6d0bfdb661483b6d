/**
 * `npm run demo`: the embedded default stack (Temporal dev server + UI, an eight-host lab, a
 * worker), then the demo cluster (examples/demo/cluster.yml) set up with `cluster-setup` and
 * given one `rolling-maintenance`, both through the real CLI with live progress. Leaves
 * everything up to explore; `npm run demo -- --down` stops what it started. `--example NAME`
 * does the same for one of the vendor-guide examples (scripts/examples.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporalSettings, waitForWorker } from '../client/connection';
import { devServerConfig, startDevServer, stopDevServer } from '../lab/devserver';
import { down, labFiles, sshArgs, up } from '../lab/hosts';
import { REPO_ROOT, STATE_DIR } from '../lab/paths';
import { processMatches, stopProcess } from '../lab/sh';
import { copySpec, EXAMPLES } from './examples';

const exampleName = (() => {
  const at = process.argv.indexOf('--example');
  return at < 0 ? 'demo' : process.argv[at + 1];
})();
if (!Object.hasOwn(EXAMPLES, exampleName ?? '')) {
  console.error(`demo: --example takes one of ${Object.keys(EXAMPLES).join(', ')}`);
  process.exit(2);
}
const EXAMPLE = EXAMPLES[exampleName];
const DEMO_HOSTS = EXAMPLE.hosts;
const SPEC = EXAMPLE.spec;
const workerPidFile = path.join(STATE_DIR, 'worker.pid');
const workerLog = path.join(STATE_DIR, 'worker.log');
/** The demo's database passwords: made once, kept only here (mode 0600), given to the worker's environment. */
const secretsFile = path.join(STATE_DIR, 'demo-secrets.json');
const SECRET_NAMES = Object.values(EXAMPLES).flatMap((e) => e.secrets);
const WORKER_MARKER = 'clusterflow.js';
/** Written once the demo's hosts are up: hosts of the same names without it (e.g. left by tests) are rebuilt fresh. */
const labMarker = path.join(
  STATE_DIR,
  exampleName === 'demo' ? 'demo-lab.json' : `demo-lab-${exampleName}.json`,
);
const CLI = path.join(REPO_ROOT, 'bin/clusterflow.js');

function demoSecrets(): { secrets: Record<string, string>; added: boolean } {
  const kept = existsSync(secretsFile)
    ? (JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<string, string>)
    : {};
  if (SECRET_NAMES.every((n) => kept[n])) return { secrets: kept, added: false };
  const secrets = Object.fromEntries(
    SECRET_NAMES.map((n) => [n, kept[n] ?? randomBytes(18).toString('base64url')]),
  );
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  return { secrets, added: true };
}

function recordedWorker(): number | undefined {
  const pid = existsSync(workerPidFile) ? Number(readFileSync(workerPidFile, 'utf8')) : undefined;
  return processMatches(pid, WORKER_MARKER) ? pid : undefined;
}

async function startWorker(): Promise<void> {
  const { secrets, added } = demoSecrets();
  const running = recordedWorker();
  if (running && !added) return;
  // A worker started before these secrets existed lacks them in its environment.
  if (running) await stopProcess(running, WORKER_MARKER);
  mkdirSync(STATE_DIR, { recursive: true });
  const log = openSync(workerLog, 'a');
  const child = spawn(process.execPath, [CLI, 'worker'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...secrets },
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
  rmSync(labMarker, { force: true });
  const stopped = await stopDevServer();
  console.log(
    `demo: worker stopped, lab hosts ${DEMO_HOSTS.join(', ')} removed${stopped ? ', dev server stopped' : ''}`,
  );
}

/** The CLI as a user types it, its output on this terminal. */
function cli(args: string[]): number {
  console.log(`\n$ npx clusterflow ${args.join(' ')}`);
  return spawnSync(process.execPath, [CLI, ...args], { stdio: 'inherit' }).status ?? 1;
}

/** `run <operation>`, then `watch` it: the ID and UI link first, live progress, the result at the end. */
function runAndWatch(
  operation: string,
  spec = SPEC,
): { ok: boolean; workflowId: string; link: string; seconds: number } {
  const started = Date.now();
  const args = ['run', operation, '-f', spec, '--json'];
  console.log(`\n$ npx clusterflow ${args.slice(0, -1).join(' ')}`);
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`run ${operation} failed: ${run.stderr || run.stdout}`);
  const { workflowId, link } = JSON.parse(run.stdout) as { workflowId: string; link: string };
  console.log(`workflow ${workflowId}\n${link}`);
  const ok = cli(['watch', workflowId]) === 0;
  return { ok, workflowId, link, seconds: (Date.now() - started) / 1000 };
}

async function demoUp(): Promise<void> {
  const started = Date.now();
  const server = await startDevServer();
  const ui = `http://${devServerConfig().ip}:${devServerConfig().uiPort}`;
  console.log(
    `demo: Temporal dev server ${server.started ? 'started' : 'already running'} at ${server.address}, Web UI ${ui}`,
  );
  if (!existsSync(labMarker)) await down(DEMO_HOSTS);
  await up(DEMO_HOSTS);
  writeFileSync(labMarker, JSON.stringify({ hosts: DEMO_HOSTS }));
  console.log(`demo: lab hosts ${DEMO_HOSTS.join(', ')} answering on SSH`);
  await startWorker();
  await waitForWorker(temporalSettings());
  console.log(`demo: worker polling (log: ${workerLog})`);

  if (cli(['validate', '-f', SPEC]) !== 0) throw new Error(`${SPEC} is not valid`);
  // Where this kernel stops a section (no NFS client), that section's operation runs up to the
  // line and says so; the rest of the cluster is set up from a copy of the spec without it.
  let spec = SPEC;
  const line = EXAMPLE.kernelLine;
  if (line) {
    if (line.prepare) {
      const ssh = spawnSync('ssh', [...sshArgs(line.prepare.host), '--', line.prepare.command], {
        encoding: 'utf8',
      });
      if (ssh.status !== 0) throw new Error(`${line.prepare.host}: ${line.prepare.command}: ${ssh.stderr}`);
    }
    const stopped = runAndWatch(line.operation);
    spec = copySpec(SPEC, path.join(STATE_DIR, `${exampleName}-without-${line.section}.yml`), (doc) => {
      delete doc[line.section];
    });
    console.log(
      `\ndemo: ${line.operation} ${stopped.ok ? 'ran' : 'stopped at the kernel line (above)'}; the rest from ${spec}, the spec without ${line.section}:`,
    );
  }
  const setup = runAndWatch('cluster-setup', spec);
  const maintenance = setup.ok ? runAndWatch('rolling-maintenance', spec) : undefined;
  const list = `${ui}/namespaces/default/workflows?query=${encodeURIComponent(`ClusterName="${exampleName}"`)}`;
  console.log(`
demo: ${setup.ok && maintenance?.ok ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (cluster-setup ${setup.seconds.toFixed(1)} s${maintenance ? `, rolling-maintenance ${maintenance.seconds.toFixed(1)} s` : ''}). Everything stays up for you to explore:
  the demo's workflows      ${list}
  cluster-setup             ${setup.link}${maintenance ? `\n  rolling-maintenance       ${maintenance.link}` : ''}
  the spec (copy it)        ${SPEC}
  lab inventory             ${labFiles.inventory}
  through the LB            npx clusterflow-lab exec ${EXAMPLE.lb} 'curl -si http://127.0.0.1/'
  a shell on a host         npx clusterflow-lab ssh ${EXAMPLE.node}
  again (changes nothing)   npx clusterflow run cluster-setup -f ${spec} --wait
  schedule maintenance      npx clusterflow schedule create rolling-maintenance -f ${spec} --cron '0 3 * * 0'
  stop it all               npm run demo -- ${exampleName === 'demo' ? '' : `--example ${exampleName} `}--down`);
  process.exitCode = setup.ok && maintenance?.ok ? 0 : 1;
}

(process.argv.includes('--down') ? demoDown() : demoUp()).catch((err: Error) => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
