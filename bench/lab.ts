/**
 * Lab figures for the Foundation issue: warm `up` time for 3 and 10 hosts, memory per idle host,
 * and (with --cold) the rootfs build from scratch into a throwaway cache.
 *   npm run bench:lab [-- --cold]
 * Prints a table and writes bench/results/lab.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down, hostMemoryKb, up } from '../lab/hosts';
import { REPO_ROOT } from '../lab/paths';
import { sleep } from '../lab/sh';

async function timeUp(count: number): Promise<{ hosts: number; upMs: number; idlePssMbPerHost: number }> {
  const names = Array.from({ length: count }, (_, i) => `bench${i + 1}`);
  await down(names);
  const started = Date.now();
  await up(names);
  const upMs = Date.now() - started;
  await sleep(10_000); // let boot-time jobs finish, so the figure is an idle host
  const pss = names.map(hostMemoryKb);
  await down(names);
  return {
    hosts: count,
    upMs,
    idlePssMbPerHost: Math.round(pss.reduce((a, b) => a + b, 0) / count / 102.4) / 10,
  };
}

function coldBuild(): { coldRootfsBuildS: number } {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-bench-rootfs-'));
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/clusterflow-lab.js'), 'rootfs'], {
    env: {
      ...process.env,
      CLUSTERFLOW_ROOTFS_DIR: `${scratch}/rootfs`,
      CLUSTERFLOW_CACHE_DIR: `${scratch}/cache`,
    },
    stdio: 'inherit',
  });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  rmSync(scratch, { recursive: true, force: true });
  if (r.status !== 0) throw new Error('cold rootfs build failed');
  return { coldRootfsBuildS: seconds };
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { date: new Date().toISOString(), cpus: os.cpus().length };
  if (process.argv.includes('--cold')) Object.assign(result, coldBuild());
  result.warmUp = [await timeUp(3), await timeUp(10)];
  console.table(result.warmUp);
  if (result.coldRootfsBuildS) console.log(`cold rootfs build: ${String(result.coldRootfsBuildS)} s`);
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench/results/lab.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
