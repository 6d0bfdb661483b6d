import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeRegistrations } from '../common/search-attributes';
import { REPO_ROOT, STATE_DIR } from './paths';
import { processMatches, run, sleep, stopProcess } from './sh';

export interface DevServerConfig {
  ip: string;
  port: number;
  uiPort: number;
  dir: string;
  /** A codec server for the Web UI (`clusterflow codec-server`), so it shows encrypted payloads decoded. */
  uiCodecEndpoint?: string;
}

export function devServerConfig(): DevServerConfig {
  return {
    ip: process.env.CLUSTERFLOW_TEMPORAL_IP ?? '127.0.0.1',
    port: Number(process.env.CLUSTERFLOW_TEMPORAL_PORT ?? 7233),
    uiPort: Number(process.env.CLUSTERFLOW_UI_PORT ?? 8233),
    dir: path.join(STATE_DIR, 'temporal'),
    uiCodecEndpoint: process.env.CLUSTERFLOW_UI_CODEC_ENDPOINT || undefined,
  };
}

/**
 * The Temporal CLI: $TEMPORAL_CLI, else `temporal` on PATH, else the one scripts/setup.sh built
 * into the git-ignored tools folder.
 */
export function temporalCli(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const onPath = run('sh', ['-c', 'command -v temporal'], { allowFailure: true }).stdout.trim();
  if (onPath) return onPath;
  const built = path.join(REPO_ROOT, '.tools', 'bin', 'temporal');
  if (existsSync(built)) return built;
  throw new Error('no Temporal CLI: run `npm run setup` (it builds one with go install) or set TEMPORAL_CLI');
}

const pidFile = (c: DevServerConfig) => path.join(c.dir, 'server.pid');
const MARKER = 'start-dev';

function recordedPid(c: DevServerConfig): number | undefined {
  return existsSync(pidFile(c)) ? Number(readFileSync(pidFile(c), 'utf8')) : undefined;
}

async function answers(c: DevServerConfig): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address: `${c.ip}:${c.port}`, connectTimeout: 1000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

export interface DevServerStatus {
  running: boolean;
  /** Started by this checkout (we hold its PID), as opposed to one found already answering. */
  ours: boolean;
  pid?: number;
  address: string;
  uiUrl: string;
}

export async function devServerStatus(c = devServerConfig()): Promise<DevServerStatus> {
  const pid = recordedPid(c);
  const ours = processMatches(pid, MARKER);
  return {
    running: await answers(c),
    ours,
    pid: ours ? pid : undefined,
    address: `${c.ip}:${c.port}`,
    uiUrl: `http://${c.ip}:${c.uiPort}`,
  };
}

/** Starts the dev server with SQLite persistence and our search attributes, unless one already answers. */
export async function startDevServer(c = devServerConfig()): Promise<DevServerStatus & { started: boolean }> {
  const before = await devServerStatus(c);
  if (before.running) return { ...before, started: false };
  mkdirSync(c.dir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    c.ip,
    '--port',
    String(c.port),
    '--ui-port',
    String(c.uiPort),
    '--db-filename',
    path.join(c.dir, 'temporal.db'),
    '--log-level',
    'warn',
    ...searchAttributeRegistrations.flatMap((sa) => ['--search-attribute', sa]),
    ...(c.uiCodecEndpoint ? ['--ui-codec-endpoint', c.uiCodecEndpoint] : []),
  ];
  const log = openSync(path.join(c.dir, 'server.log'), 'a');
  const child = spawn(temporalCli(), args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile(c), String(child.pid));
  const deadline = Date.now() + 90_000;
  while (!(await answers(c))) {
    if (!processMatches(child.pid, MARKER)) {
      const tail = readFileSync(path.join(c.dir, 'server.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`the Temporal dev server exited during start; last lines of its log:\n${tail}`);
    }
    if (Date.now() > deadline)
      throw new Error(`the Temporal dev server did not answer on ${c.ip}:${c.port} in 90 s`);
    await sleep(250);
  }
  return { ...(await devServerStatus(c)), started: true };
}

/** Stops the dev server this checkout started (by its recorded PID); never one it did not start. */
export async function stopDevServer(c = devServerConfig()): Promise<boolean> {
  const pid = recordedPid(c);
  const ours = processMatches(pid, MARKER);
  if (pid && ours) await stopProcess(pid, MARKER, 15_000);
  rmSync(pidFile(c), { force: true });
  return ours;
}
