import { spawnSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { devServerConfig, devServerStatus, startDevServer, stopDevServer } from './devserver';
import { down, labFiles, sshArgs, status, stop, up, withLabLock } from './hosts';
import { ensureRootfs } from './rootfs';

function requireRoot(): void {
  if (process.getuid && process.getuid() !== 0) {
    console.error('clusterflow-lab needs root (network namespaces, overlay mounts, systemd-nspawn)');
    process.exit(2);
  }
}

function hostList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function printStatus(json: boolean): void {
  const hosts = status();
  if (json) {
    console.log(
      JSON.stringify({ hosts, inventory: labFiles.inventory, knownHosts: labFiles.knownHosts }, null, 2),
    );
    return;
  }
  if (hosts.length === 0) return console.log('the lab is down');
  for (const h of hosts)
    console.log(`${h.name.padEnd(12)} ${h.address.padEnd(12)} ${h.running ? 'running' : 'stopped'}`);
  console.log(`inventory:   ${labFiles.inventory}\nknown_hosts: ${labFiles.knownHosts}`);
}

const program = new Command('clusterflow-lab')
  .description(
    'Real Linux hosts on this machine (systemd-nspawn on a 10.77.0.0/24 bridge) and the Temporal dev server',
  )
  // Before any subcommand exists: commander copies this setting into each one as it is added.
  .exitOverride();

program
  .command('up')
  .description('start lab hosts (adds them if new); prints where the inventory is')
  .option('--hosts <names>', 'comma-separated host names, e.g. lb1,db1,db2,app1,app2')
  .option('--count <n>', 'N hosts named node1..nodeN')
  .option('--json', 'machine-readable output')
  .action(async (opts: { hosts?: string; count?: string; json?: boolean }) => {
    requireRoot();
    const names = opts.hosts
      ? hostList(opts.hosts)
      : Array.from({ length: Number(opts.count ?? 3) }, (_, i) => `node${i + 1}`);
    const started = Date.now();
    await up(names);
    if (!opts.json)
      console.log(`lab: ${names.length} host(s) answering on SSH after ${Date.now() - started} ms`);
    printStatus(Boolean(opts.json));
  });

program
  .command('down [hosts...]')
  .description('remove the named hosts, or with --all the whole lab')
  .option('--all', 'every host, the bridge and the state, whoever made them')
  .action(async (hosts: string[], opts: { all?: boolean }) => {
    // The lab is shared (a test run, a benchmark, a demo): a bare `down` must not take all of it.
    if (hosts.length === 0 && !opts.all)
      program.error('down: name the hosts to remove, or --all for the whole lab');
    if (hosts.length > 0 && opts.all) program.error('down: name hosts or give --all, not both');
    requireRoot();
    await down(hosts);
    console.log(hosts.length ? `lab: removed ${hosts.join(', ')}` : 'lab: down');
  });

program
  .command('stop <hosts...>')
  .description('power off hosts but keep their disks and addresses (start them again with `up --hosts`)')
  .action(async (hosts: string[]) => {
    requireRoot();
    await stop(hosts);
    console.log(`lab: stopped ${hosts.join(', ')}`);
  });

program
  .command('status')
  .option('--json', 'machine-readable output')
  .action((opts: { json?: boolean }) => printStatus(Boolean(opts.json)));

program
  .command('ssh <host>')
  .description('interactive root shell on a lab host')
  .action((host: string) => {
    process.exitCode = spawnSync('ssh', ['-t', ...sshArgs(host)], { stdio: 'inherit' }).status ?? 1;
  });

program
  .command('exec <host> <command...>')
  .description('run one command on a lab host as root')
  .action((host: string, command: string[]) => {
    process.exitCode =
      spawnSync('ssh', [...sshArgs(host), '--', command.join(' ')], { stdio: 'inherit' }).status ?? 1;
  });

program
  .command('rootfs')
  .description('build (or unpack from cache) the lab root filesystem')
  .action(async () => {
    requireRoot();
    console.log(await withLabLock(async () => ensureRootfs()));
  });

const temporal = program.command('temporal').description('the local Temporal dev server (SQLite, Web UI)');
temporal
  .command('start')
  .option(
    '--ui-codec-endpoint <url>',
    'the Web UI decodes payloads with this codec server (clusterflow codec-server)',
  )
  .action(async (flags: { uiCodecEndpoint?: string }) => {
    const s = await startDevServer({
      ...devServerConfig(),
      ...(flags.uiCodecEndpoint && { uiCodecEndpoint: flags.uiCodecEndpoint }),
    });
    console.log(`${s.started ? 'started' : 'already running'}: ${s.address}, Web UI ${s.uiUrl}`);
  });
temporal.command('stop').action(async () => {
  console.log((await stopDevServer()) ? 'stopped' : 'not started by this checkout; nothing stopped');
});
temporal.command('status').action(async () => {
  const s = await devServerStatus();
  console.log(
    s.running ? `running at ${s.address}${s.pid ? ` (pid ${s.pid})` : ''}, Web UI ${s.uiUrl}` : 'not running',
  );
  process.exitCode = s.running ? 0 : 1;
});

program.parseAsync().catch((err: Error) => {
  // Commander has printed its own message (or the help) already.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  console.error(`clusterflow-lab: ${err.message}`);
  process.exit(1);
});
