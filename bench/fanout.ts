/**
 * The fan-out benchmark: the same converge (a templated config file, two lines in another file, a
 * command, a restart only when the config changed) on N lab hosts, by three contenders taking turns:
 *   clusterflow  `clusterflow play` through Temporal (CLI wall time, startup included)
 *   ansible      ansible-playbook (ansible-core pinned, from PyPI into a venv; forks=N, pipelining, ControlPersist)
 *   floor        plain OpenSSH, one session per host with ControlMaster, the same steps as one sh script
 * First run (everything changes) and second run (nothing but the command), medians over the runs.
 *   npm run bench:fanout [-- --sizes 5,20,50 --runs 5]
 * Writes bench/results/fanout.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shellJoin } from '../activities/ssh/quote';
import { temporalSettings, waitForWorker } from '../client/connection';
import { startDevServer } from '../lab/devserver';
import { labFiles, sshArgs, status, up } from '../lab/hosts';
import { ensureAnsible } from '../lab/ansible';
import { REPO_ROOT } from '../lab/paths';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SIZES = arg('sizes', '5,20,50').split(',').map(Number);
const RUNS = Number(arg('runs', '5'));
const HERE = path.join(REPO_ROOT, 'bench/converge');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-fanout-'));

function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): { ms: number; stdout: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`,
    );
  return { ms, stdout: r.stdout };
}

const address = new Map<string, string>();
const sshBase = (host: string) =>
  sshArgs(host, [
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${scratch}/cm-%C`,
    '-o',
    'ControlPersist=120',
  ]);

/** Runs one command on every host at once over plain ssh; resolves when all are done. */
function onAll(hosts: string[], command: (host: string) => string[], stdin?: string): Promise<void> {
  return Promise.all(
    hosts.map(
      (h) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn('ssh', [...sshBase(h), '--', shellJoin(command(h))], {
            stdio: ['pipe', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${h}: ${err}`))));
          child.stdin.end(stdin);
        }),
    ),
  ).then(() => undefined);
}

const FLOOR_SCRIPT = readFileSync(path.join(HERE, 'floor.sh'), 'utf8');

type Contender = 'clusterflow' | 'ansible' | 'floor';

async function runOnce(
  who: Contender,
  hosts: string[],
  ansible: string,
  ansibleCfg: string,
  taskQueue: string,
): Promise<number> {
  const limit = hosts.join(',');
  if (who === 'clusterflow') {
    const r = timed(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bin/clusterflow.js'),
        'play',
        path.join(HERE, 'clusterflow.yml'),
        '-i',
        labFiles.inventory,
        '--limit',
        limit,
        '--forks',
        String(hosts.length),
        '--json',
      ],
      { CLUSTERFLOW_TASK_QUEUE: taskQueue },
    );
    const result = JSON.parse(r.stdout) as { recap: Record<string, { failed: number; unreachable: number }> };
    if (
      Object.keys(result.recap).length !== hosts.length ||
      Object.values(result.recap).some((x) => x.failed || x.unreachable)
    )
      throw new Error('clusterflow run failed on some host');
    return r.ms;
  }
  if (who === 'ansible') {
    return timed(
      ansible,
      ['-i', labFiles.inventory, '-l', limit, '-f', String(hosts.length), path.join(HERE, 'ansible.yml')],
      { ANSIBLE_CONFIG: ansibleCfg },
    ).ms;
  }
  const started = process.hrtime.bigint();
  await onAll(hosts, (h) => ['sh', '-s', '--', h, address.get(h)!], FLOOR_SCRIPT);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};

async function main(): Promise<void> {
  const ansible = ensureAnsible();
  const ansibleVersion = timed(ansible, ['--version']).stdout.split('\n')[0];
  const maxN = Math.max(...SIZES);
  const all = Array.from({ length: maxN }, (_, i) => `bench${i + 1}`);
  await startDevServer();
  await up(all);
  for (const h of status()) address.set(h.name, h.address);
  // A cheap service to restart when the config changes.
  await onAll(all, () => [
    'sh',
    '-c',
    "printf '[Service]\\nExecStart=/bin/sleep infinity\\n' > /etc/systemd/system/cfbench.service && systemctl daemon-reload && systemctl start cfbench",
  ]);

  const ansibleCfg = path.join(scratch, 'ansible.cfg');
  writeFileSync(
    ansibleCfg,
    [
      '[defaults]',
      'host_key_checking = True',
      'interpreter_python = /usr/bin/python3',
      'gathering = explicit',
      'stdout_callback = default',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -o ControlMaster=auto -o ControlPersist=120s`,
      `control_path_dir = ${scratch}/ansible-cp`,
      '',
    ].join('\n'),
  );

  const taskQueue = `bench-${process.pid}`;
  const log = openSync(path.join(scratch, 'worker.log'), 'a');
  const worker = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/clusterflow.js'), 'worker'], {
    env: { ...process.env, CLUSTERFLOW_TASK_QUEUE: taskQueue },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  try {
    await waitForWorker({ ...temporalSettings(), taskQueue });
    const results = [];
    const order: Contender[] = ['clusterflow', 'ansible', 'floor'];
    for (const n of SIZES) {
      const hosts = all.slice(0, n);
      const times: Record<Contender, { first: number[]; second: number[] }> = {
        clusterflow: { first: [], second: [] },
        ansible: { first: [], second: [] },
        floor: { first: [], second: [] },
      };
      // One untimed round each warms connections (ControlPersist, the worker's pool) and caches.
      for (const who of order) await runOnce(who, hosts, ansible, ansibleCfg, taskQueue);
      for (let run = 0; run < RUNS; run++) {
        for (const who of order.map((_, i) => order[(i + run) % order.length])) {
          await onAll(hosts, () => ['rm', '-f', '/etc/cfbench.conf', '/etc/cfbench.limits']);
          times[who].first.push(await runOnce(who, hosts, ansible, ansibleCfg, taskQueue));
          times[who].second.push(await runOnce(who, hosts, ansible, ansibleCfg, taskQueue));
        }
      }
      const med = Object.fromEntries(
        order.map((w) => [w, { firstMs: median(times[w].first), secondMs: median(times[w].second) }]),
      ) as Record<Contender, { firstMs: number; secondMs: number }>;
      const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
      const row = {
        hosts: n,
        ...med,
        ratios: {
          clusterflowVsAnsible: {
            first: ratio(med.clusterflow.firstMs, med.ansible.firstMs),
            second: ratio(med.clusterflow.secondMs, med.ansible.secondMs),
          },
          clusterflowVsFloor: {
            first: ratio(med.clusterflow.firstMs, med.floor.firstMs),
            second: ratio(med.clusterflow.secondMs, med.floor.secondMs),
          },
        },
        samples: times,
      };
      results.push(row);
      console.log(
        `N=${n}: clusterflow ${med.clusterflow.firstMs}/${med.clusterflow.secondMs} ms, ansible ${med.ansible.firstMs}/${med.ansible.secondMs} ms, floor ${med.floor.firstMs}/${med.floor.secondMs} ms (first/second run); clusterflow/ansible ${row.ratios.clusterflowVsAnsible.first}/${row.ratios.clusterflowVsAnsible.second}, clusterflow/floor ${row.ratios.clusterflowVsFloor.first}/${row.ratios.clusterflowVsFloor.second}`,
      );
    }
    mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      path.join(REPO_ROOT, 'bench/results/fanout.json'),
      `${JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, runs: RUNS, ansible: ansibleVersion, results }, null, 2)}\n`,
    );
  } finally {
    worker.kill('SIGTERM');
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
