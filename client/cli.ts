import { innermostCause } from '../common/errors';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { FactsInputSchema, type FactsResult } from '../common/facts';
import { SshPool } from '../activities/ssh/pool';
import { createWorker } from '../worker';
import {
  BadConnectionSettings,
  connectClient,
  connectionOptions,
  startOperation,
  temporalSettings,
  TemporalUnreachable,
  workflowUiLink,
  type TemporalSettings,
} from './connection';
import { renderFactsTable, startFacts } from './facts';
import { clusterNameOf, InventoryError, loadInventory, resolveTargets } from './inventory';
import { loadPlaybook, PlaybookError } from './play';
import { ExtraVarsError, parseExtraVars, repeatable, skipTagged, tagList } from './playbook-flags';
import { renderDbResult, renderTopology, startDbOperation, type DbCommand } from './db';
import { databaseInput, loadSpec, requireMember, SpecError } from './spec';
import type { Topology } from '../common/db';
import type { DbOperationResult } from '../workflows/db';
import { renderRecap, renderTasks } from './play-output';
import {
  buildNodeOperation,
  NODE_OPERATIONS,
  type NodeOperation,
  type NodeOperationOptions,
  type StartableOperation,
} from './nodes';
import { buildStorageOperation, STORAGE_OPERATIONS, type StorageOperation } from './storage';
import { validateSpec } from './validate';
import { buildClusterSetup } from './cluster';
import { renderResult, resultFailed } from './results';
import { watchWorkflow } from './watch';
import { listWorkflows, renderList, renderStatus, workflowStatus } from './observe';
import { createCodecServer } from './codec-server';
import { AesGcmCodec, loadCodecKey } from '../worker/codec';
import { buildLicenseOperation, LICENSE_OPERATIONS, type LicenseOperation } from './license';
import { createSchedule, listSchedules, renderSchedule, renderSchedules, summarize } from './schedule';
import type { PlayResult } from '../common/play';

/** Exit codes an operator's scripts can rely on. */
export const ExitCode = { ok: 0, operationFailed: 1, badInput: 2, temporalUnreachable: 3 } as const;

class BadInput extends Error {}

interface ConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  uiUrl?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKeyFile?: string;
  codecKey?: string;
}

function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--address <host:port>', 'Temporal frontend').env('TEMPORAL_ADDRESS'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace').env('TEMPORAL_NAMESPACE'))
    .addOption(
      new Option('--task-queue <name>', 'task queue of the clusterflow workers').env(
        'CLUSTERFLOW_TASK_QUEUE',
      ),
    )
    .addOption(new Option('--ui-url <url>', 'Temporal Web UI base URL, for links').env('CLUSTERFLOW_UI_URL'))
    .addOption(new Option('--tls', 'connect with TLS (implied by the options below)'))
    .addOption(new Option('--tls-cert-path <file>', 'client certificate for mTLS').env('TEMPORAL_TLS_CERT'))
    .addOption(new Option('--tls-key-path <file>', 'client private key for mTLS').env('TEMPORAL_TLS_KEY'))
    .addOption(
      new Option('--tls-ca-path <file>', 'CA that signed the server certificate').env('TEMPORAL_TLS_CA'),
    )
    .addOption(
      new Option('--tls-server-name <name>', 'server name to verify instead of the address host').env(
        'TEMPORAL_TLS_SERVER_NAME',
      ),
    )
    .addOption(
      new Option(
        '--api-key-file <file>',
        'a file holding the API key (or TEMPORAL_API_KEY); never the key itself on the command line',
      ),
    )
    .addOption(
      new Option(
        '--codec-key <ref>',
        'encrypt payloads (AES-GCM) with the key at env:NAME or file:/path',
      ).env('CLUSTERFLOW_CODEC_KEY'),
    );
}

const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

const program = new Command('clusterflow')
  .description('Durable, agentless operations for clustered servers, run as Temporal workflows')
  .version(version, '-V, --version', 'print the clusterflow version')
  // Before any subcommand exists: commander copies this into each one as it is added, so a usage
  // error anywhere reaches main() and exits 2 instead of commander's own exit 1.
  .exitOverride()
  .addHelpText(
    'after',
    `
Flags: \`play\` takes ansible-playbook's (-i -l -t --skip-tags -C -D -f/--forks -e); every
command that reads a cluster spec takes it with -f/--file.
Exit codes: 0 success, 1 the operation failed on some host, 2 bad input or usage, 3 Temporal unreachable.`,
  );

withConnectionOptions(
  program
    .command('worker')
    .description(
      'run a worker: executes clusterflow workflows and the SSH/SQL activities (Ctrl-C stops it cleanly)',
    ),
).action(async (flags: ConnectionFlags) => {
  const settings = temporalSettings(flags);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(settings));
  } catch (err) {
    throw new TemporalUnreachable(settings.address, err);
  }
  const pool = new SshPool();
  const temporal = await connectClient(settings);
  const worker = await createWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    deps: { pool, temporal },
    codecKey: settings.codecKey,
  });
  console.log(
    `worker: polling task queue "${settings.taskQueue}" on ${settings.address} (namespace ${settings.namespace})`,
  );
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished.
  await worker.run();
  await pool.close();
  await temporal.connection.close();
  await connection.close();
  console.log('worker: stopped');
});

withConnectionOptions(
  program
    .command('facts')
    .description(
      'gather facts (OS, kernel, CPUs, memory, addresses, installed services) from inventory hosts',
    )
    .option('-i, --inventory <file>', 'Ansible YAML or INI inventory')
    .option('-f, --file <spec.yml>', 'cluster spec: its inventory and cluster name')
    .option('-l, --limit <pattern>', 'Ansible host pattern, e.g. "db:&eu" or "all:!app3"')
    .option('--forks <n>', 'hosts gathered at once', '20')
    .option('--json', 'print the result as JSON')
    .option('--no-wait', 'print the workflow ID and return'),
).action(
  async (
    flags: ConnectionFlags & {
      inventory?: string;
      file?: string;
      limit?: string;
      forks: string;
      json?: boolean;
      wait: boolean;
    },
  ) => {
    if (!flags.inventory && !flags.file) throw new BadInput('give an inventory (-i) or a cluster spec (-f)');
    const spec = flags.file ? loadSpec(flags.file, { inventory: flags.inventory }) : undefined;
    const inventory = spec?.inventory ?? loadInventory(flags.inventory as string);
    const parsed = FactsInputSchema.safeParse({
      cluster: spec?.spec.cluster ?? clusterNameOf(inventory),
      hosts: resolveTargets(inventory, flags.limit),
      forks: Number(flags.forks),
    });
    if (!parsed.success) {
      throw new BadInput(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'),
      );
    }
    const settings = temporalSettings(flags);
    const client = await connectClient(settings);
    const handle = await startFacts(client, settings, parsed.data);
    const link = workflowUiLink(settings, handle.workflowId, handle.firstExecutionRunId);
    if (!flags.json) console.log(`workflow ${handle.workflowId}\n${link}`);
    if (!flags.wait) {
      if (flags.json)
        console.log(
          JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, link }),
        );
      return;
    }
    const result: FactsResult = await handle.result();
    console.log(
      flags.json
        ? JSON.stringify({ workflowId: handle.workflowId, link, ...result }, null, 2)
        : renderFactsTable(result),
    );
    if (result.summary.ok !== result.hosts.length) process.exitCode = ExitCode.operationFailed;
  },
);

withConnectionOptions(
  program
    .command('play <playbook>')
    .description(
      "run an Ansible-style playbook (modules, serial batches, handlers) as a durable workflow; the flags are ansible-playbook's, so here -f is --forks, not a spec file",
    )
    .requiredOption('-i, --inventory <file>', 'Ansible YAML or INI inventory')
    .option('-l, --limit <pattern>', 'further limit the hosts of every play')
    .option('-C, --check', 'report what would change; change nothing')
    .option('-D, --diff', 'show before/after of changed files')
    .option('-t, --tags <tags>', 'only tasks with these tags (comma-separated, repeatable)', repeatable)
    .option('--skip-tags <tags>', 'leave out tasks with these tags (comma-separated, repeatable)', repeatable)
    .option(
      '-e, --extra-vars <vars>',
      'key=value pairs, a JSON/YAML mapping, or @file; above every other variable (repeatable, later wins)',
      repeatable,
    )
    .option('-f, --forks <n>', 'hosts worked on at once', '50')
    .option('--json', 'print the result as JSON'),
).action(
  async (
    playbook: string,
    flags: ConnectionFlags & {
      inventory: string;
      limit?: string;
      check?: boolean;
      diff?: boolean;
      tags?: string[];
      skipTags?: string[];
      extraVars?: string[];
      forks: string;
      json?: boolean;
    },
  ) => {
    const forks = Number(flags.forks);
    if (!Number.isInteger(forks) || forks < 1)
      throw new BadInput(`--forks: "${flags.forks}" is not a whole number of hosts, 1 or more`);
    const extraVars = parseExtraVars(flags.extraVars ?? []);
    const inventory = loadInventory(flags.inventory);
    const loaded = loadPlaybook(playbook, inventory, {
      limit: flags.limit,
      check: Boolean(flags.check),
      diff: Boolean(flags.diff),
      tags: tagList(flags.tags ?? []),
      forks,
      cluster: clusterNameOf(inventory),
      extraVars,
    });
    const input = skipTagged(loaded, tagList(flags.skipTags ?? []));
    const settings = temporalSettings(flags);
    const client = await connectClient(settings);
    const hosts = [...new Set(input.plays.flatMap((p) => p.hosts.map((h) => h.target.name)))];
    const handle = await startOperation(client, settings, {
      operation: 'play',
      workflowType: 'play',
      cluster: input.cluster,
      hosts,
      input,
      summary: `play ${input.source}${input.check ? ' (check mode)' : ''}: ${hosts.length} host(s)`,
    });

    const link = workflowUiLink(settings, handle.workflowId, handle.firstExecutionRunId);
    if (!flags.json) console.log(`workflow ${handle.workflowId}\n${link}`);
    const result: PlayResult = await handle.result();
    if (flags.json) console.log(JSON.stringify({ workflowId: handle.workflowId, link, ...result }, null, 2));
    else console.log(`${renderTasks(result.tasks, Boolean(flags.diff))}\n${renderRecap(result)}`);
    const bad = Object.values(result.recap).some((r) => r.failed || r.unreachable) || result.aborted;
    if (bad) process.exitCode = ExitCode.operationFailed;
  },
);

const db = program
  .command('db')
  .description('database replication: bootstrap, status, switchover, failover, rejoin');

interface DbFlags extends ConnectionFlags {
  file: string;
  inventory?: string;
  json?: boolean;
  wait: boolean;
  to?: string;
  canary?: boolean;
}

function dbCommand(name: DbCommand, description: string, extra: (cmd: Command) => Command = (c) => c) {
  return extra(
    withConnectionOptions(
      db
        .command(name)
        .description(description)
        .requiredOption('-f, --file <spec.yml>', 'cluster spec file')
        .option('-i, --inventory <file>', "inventory (overrides the spec's `inventory`)")
        .option('--json', 'print the result as JSON')
        .option('--no-wait', 'print the workflow ID and return'),
    ),
  );
}

async function runDb(command: DbCommand, flags: DbFlags, extra: Record<string, unknown> = {}): Promise<void> {
  const input = { ...databaseInput(loadSpec(flags.file, { inventory: flags.inventory })), ...extra };
  if (typeof extra.candidate === 'string') requireMember(input, extra.candidate, '--to');
  if (typeof extra.member === 'string') requireMember(input, extra.member, 'member');
  const settings = temporalSettings(flags);
  const client = await connectClient(settings);
  const handle = await startDbOperation(client, settings, command, input);
  const link = workflowUiLink(settings, handle.workflowId, handle.firstExecutionRunId);
  if (!flags.json) console.error(`workflow ${handle.workflowId}\n${link}`);
  if (!flags.wait) {
    if (flags.json) console.log(JSON.stringify({ workflowId: handle.workflowId, link }));
    return;
  }
  const result = (await handle.result()) as DbOperationResult | Topology;
  if (flags.json) console.log(JSON.stringify({ workflowId: handle.workflowId, link, ...result }, null, 2));
  else if (command === 'status') console.log(renderTopology(result as Topology));
  else console.log(renderDbResult(result as DbOperationResult));
  if (command === 'status' && (result as Topology).problems.length)
    process.exitCode = ExitCode.operationFailed;
}

dbCommand('bootstrap', 'configure primary and replicas, accounts, initial copy, verify (idempotent)', (c) =>
  c.option('--canary', 'run the create/drop canary even when nothing changed'),
).action((flags: DbFlags) => runDb('bootstrap', flags, flags.canary ? { canary: 'always' } : {}));
dbCommand('status', 'who is primary, replicas, lag, GTID positions, read_only, errant transactions').action(
  (flags: DbFlags) => runDb('status', flags),
);
dbCommand(
  'switchover',
  'planned switchover to a replica (pre-checks, optional approval, rollback on failure)',
  (c) => c.option('--to <member>', 'the replica to promote (default: the healthiest)'),
).action((flags: DbFlags) => runDb('switchover', flags, flags.to ? { candidate: flags.to } : {}));
dbCommand(
  'failover',
  'unplanned failover: confirm the primary is down, promote the most advanced replica',
  (c) => c.option('--to <member>', 'prefer this replica (refused if it lacks transactions another has)'),
).action((flags: DbFlags) => runDb('failover', flags, flags.to ? { candidate: flags.to } : {}));
withConnectionOptions(
  db
    .command('rejoin <member>')
    .description('bring a former primary back as a replica (refused if it has errant transactions)')
    .requiredOption('-f, --file <spec.yml>', 'cluster spec file')
    .option('-i, --inventory <file>', "inventory (overrides the spec's `inventory`)")
    .option('--json', 'print the result as JSON')
    .option('--no-wait', 'print the workflow ID and return'),
).action((member: string, flags: DbFlags) => runDb('rejoin', flags, { member }));

/** What a command that only sends something prints: a line, or with --json the same as an object. */
function acknowledged(flags: { json?: boolean }, what: Record<string, unknown>, line: string): void {
  console.log(flags.json ? JSON.stringify(what) : line);
}

/** `<name> <workflowId>`: sends the signal of that name to a running workflow. */
function signalCommand(parent: Command, name: string, what: string): void {
  withConnectionOptions(
    parent.command(`${name} <workflowId>`).description(what).option('--json', 'print JSON'),
  ).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
    const client = await connectClient(temporalSettings(flags));
    await client.workflow.getHandle(workflowId).signal(name);
    acknowledged(flags, { workflowId, sent: name }, `${workflowId}: ${name} sent`);
  });
}

signalCommand(db, 'approve', 'approve a switchover waiting for approval');
signalCommand(db, 'acknowledge', 'let a failover refused by anti-flapping go ahead');

interface NodeFlags extends ConnectionFlags {
  file: string;
  inventory?: string;
  json?: boolean;
  wait: boolean;
  play?: string;
  only?: string;
  fix?: boolean;
}

function specCommand(cmd: Command): Command {
  return withConnectionOptions(
    cmd
      .requiredOption(
        '-f, --file <spec.yml>',
        'cluster spec file (-f is always the spec; only play has --forks)',
      )
      .option('-i, --inventory <file>', "inventory (overrides the spec's `inventory`)")
      .option('--json', 'print the result as JSON')
      .option('--no-wait', 'print the workflow ID and return'),
  );
}

const csv = (v?: string) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function nodeOptions(flags: NodeFlags, node?: string): NodeOperationOptions {
  return { play: flags.play, only: csv(flags.only), fix: flags.fix, node };
}

function runNodeOperation(operation: NodeOperation, flags: NodeFlags, node?: string): Promise<void> {
  const loaded = loadSpec(flags.file, { inventory: flags.inventory });
  return runOperation(buildNodeOperation(loaded, operation, nodeOptions(flags, node)), flags);
}

specCommand(
  program
    .command('rolling-maintenance')
    .description(
      'drain, maintain, health-gate and re-enable the nodes behind the load balancer, batch by batch',
    )
    .option('--play <playbook>', 'the maintenance action (default: nodes.maintenance.play)')
    .option('--only <nodes>', 'only these nodes (comma-separated)'),
).action((flags: NodeFlags) => runNodeOperation('rolling-maintenance', flags));

const nodeCmd = program.command('node').description('add a node to the cluster or remove one');
specCommand(
  nodeCmd
    .command('join <node>')
    .description('add a node: pre-checks, install, config from the reference node, then into the LB'),
).action((node: string, flags: NodeFlags) => runNodeOperation('node-join', flags, node));
specCommand(
  nodeCmd.command('remove <node>').description('drain, disable, stop, remove from every LB'),
).action((node: string, flags: NodeFlags) => runNodeOperation('node-remove', flags, node));
specCommand(
  program
    .command('config-drift')
    .description(
      'compare the server config of every node with the reference node (node-specific keys ignored)',
    )
    .option('--fix', 'converge drifted keys to the reference'),
).action((flags: NodeFlags) => runNodeOperation('config-drift', flags));

/** Starts a built operation, prints its link, waits unless --no-wait, renders, sets the exit code. */
async function runOperation(op: StartableOperation, flags: NodeFlags): Promise<void> {
  const settings = temporalSettings(flags);
  const client = await connectClient(settings);
  const handle = await startOperation(client, settings, op);
  const link = workflowUiLink(settings, handle.workflowId, handle.firstExecutionRunId);
  if (!flags.json) console.error(`workflow ${handle.workflowId}\n${link}`);
  if (!flags.wait) {
    if (flags.json) console.log(JSON.stringify({ workflowId: handle.workflowId, link }));
    return;
  }
  const result = (await handle.result()) as object;
  console.log(
    flags.json
      ? JSON.stringify({ workflowId: handle.workflowId, link, ...result }, null, 2)
      : renderResult(op.operation, result),
  );
  if (resultFailed(op.operation, result)) process.exitCode = ExitCode.operationFailed;
}

program
  .command('validate')
  .description('check a cluster spec: every error with the path of its field, before anything runs (exit 2)')
  .requiredOption('-f, --file <spec.yml>', 'cluster spec file')
  .option('-i, --inventory <file>', "inventory (overrides the spec's `inventory`)")
  .option('--json', 'print the result as JSON')
  .action((flags: { file: string; inventory?: string; json?: boolean }) => {
    const v = validateSpec(flags.file, { inventory: flags.inventory });
    if (flags.json) console.log(JSON.stringify(v, null, 2));
    else if (v.valid) console.log(`${v.file}: valid (${v.sections.join(', ') || 'no sections'})`);
    else console.error(`${v.file}: ${v.problems.length} problem(s)\n  ${v.problems.join('\n  ')}`);
    if (!v.valid) process.exitCode = ExitCode.badInput;
  });

program
  .command('codec-server')
  .description(
    "decode encrypted payloads for the Temporal Web UI with the operator's key (--ui-codec-endpoint)",
  )
  .requiredOption('--codec-key <ref>', 'the key at env:NAME or file:/path (the same as the workers)')
  .option('--port <n>', 'listen port', '8888')
  .option('--bind <address>', 'listen address', '127.0.0.1')
  .option('--ui-origin <url>', 'the Web UI origin allowed to call it', 'http://127.0.0.1:8233')
  .action(async (flags: { codecKey: string; port: string; bind: string; uiOrigin: string }) => {
    let key: Buffer;
    try {
      key = loadCodecKey(flags.codecKey);
    } catch (err) {
      throw new BadInput((err as Error).message);
    }
    const server = createCodecServer(new AesGcmCodec(key), { uiOrigin: flags.uiOrigin });
    await new Promise<void>((resolve) => server.listen(Number(flags.port), flags.bind, resolve));
    console.log(`codec server: http://${flags.bind}:${flags.port} for the UI at ${flags.uiOrigin}`);
    await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
    server.close();
  });

specCommand(
  program
    .command('run <operation>')
    .description(
      `start any spec operation (${['cluster-setup', ...Object.keys(NODE_OPERATIONS), ...Object.keys(STORAGE_OPERATIONS), ...Object.keys(LICENSE_OPERATIONS)].join(', ')}); prints its ID and UI link`,
    )
    .option('--wait', 'wait for the result and print it (default: return at once)')
    .option('--node <name>', 'node-join / node-remove: the node')
    .option('--only <nodes>', 'rolling-maintenance / license-*: only these nodes')
    .option('--play <playbook>', 'rolling-maintenance: the action')
    .option('--fix', 'config-drift: converge')
    .option('--force', 'license-activation: activate again where already active'),
).action((operation: string, flags: NodeFlags & { wait?: boolean; node?: string; force?: boolean }) => {
  const loaded = loadSpec(flags.file, { inventory: flags.inventory });
  const wait = { ...flags, wait: Boolean(flags.wait) };
  if (operation in NODE_OPERATIONS) return runNodeOperation(operation as NodeOperation, wait, flags.node);
  if (operation in STORAGE_OPERATIONS)
    return runOperation(buildStorageOperation(loaded, operation as StorageOperation), wait);
  if (operation === 'cluster-setup') return runOperation(buildClusterSetup(loaded), wait);
  if (operation in LICENSE_OPERATIONS)
    return runOperation(
      buildLicenseOperation(loaded, operation as LicenseOperation, {
        only: csv(flags.only),
        force: flags.force,
      }),
      wait,
    );
  throw new BadInput(`run: unknown operation "${operation}"`);
});

withConnectionOptions(
  program
    .command('watch <workflowId>')
    .description('live progress per host and phase, a progress bar, then the result')
    .option('--json', 'print the result as JSON at the end'),
).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
  const client = await connectClient(temporalSettings(flags));
  const w = await watchWorkflow(client, workflowId, {
    tty: Boolean(process.stderr.isTTY) && !flags.json,
    write: (line) => console.error(line),
  });
  if (flags.json) console.log(JSON.stringify({ workflowId, ...w }, null, 2));
  else if (w.result !== undefined) console.log(renderResult(w.operation, w.result));
  else console.log(`${workflowId}: ${w.status}`);
  if (w.status !== 'COMPLETED' || resultFailed(w.operation, w.result))
    process.exitCode = ExitCode.operationFailed;
});
withConnectionOptions(
  program
    .command('list')
    .description('clusterflow workflows from Temporal visibility, newest first')
    .option('--cluster <name>', 'only this cluster (ClusterName)')
    .option('--operation <op>', 'only this operation (Operation)')
    .option('--running', 'only running workflows')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the result as JSON'),
).action(
  async (
    flags: ConnectionFlags & {
      cluster?: string;
      operation?: string;
      running?: boolean;
      limit: string;
      json?: boolean;
    },
  ) => {
    let rows;
    try {
      rows = await listWorkflows(await connectClient(temporalSettings(flags)), {
        ...flags,
        limit: Number(flags.limit),
      });
    } catch (err) {
      if ((err as Error).message.startsWith('--')) throw new BadInput((err as Error).message);
      throw err;
    }
    console.log(flags.json ? JSON.stringify(rows, null, 2) : renderList(rows));
  },
);
withConnectionOptions(
  program
    .command('status <workflowId>')
    .description('state, phase, live progress or result of one workflow')
    .option('--json', 'print the result as JSON'),
).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
  const s = await workflowStatus(await connectClient(temporalSettings(flags)), workflowId);
  console.log(flags.json ? JSON.stringify(s, null, 2) : renderStatus(s));
  if (s.status === 'FAILED' || s.status === 'TERMINATED' || s.status === 'TIMED_OUT')
    process.exitCode = ExitCode.operationFailed;
});
withConnectionOptions(
  program
    .command('cancel <workflowId>')
    .description('cancel a workflow: it compensates (puts nodes back, releases locks) before it ends')
    .option('--json', 'print JSON'),
).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
  await (await connectClient(temporalSettings(flags))).workflow.getHandle(workflowId).cancel();
  acknowledged(flags, { workflowId, sent: 'cancel' }, `${workflowId}: cancellation requested`);
});

const storageCmd = program
  .command('storage')
  .description('shared storage: NFS exports or a GlusterFS volume');
specCommand(
  storageCmd
    .command('export')
    .description('service user with fixed ids, the export or volume, client mounts, the cross-node test'),
).action((flags: NodeFlags) =>
  runOperation(
    buildStorageOperation(loadSpec(flags.file, { inventory: flags.inventory }), 'storage-export'),
    flags,
  ),
);
specCommand(
  storageCmd
    .command('expand')
    .description('GlusterFS: servers added to the spec join the pool and the volume; rebalance and heal'),
).action((flags: NodeFlags) =>
  runOperation(
    buildStorageOperation(loadSpec(flags.file, { inventory: flags.inventory }), 'storage-expand'),
    flags,
  ),
);

const licenseCmd = program.command('license').description('per-node license activation');
for (const [name, operation, what] of [
  [
    'activate',
    'license-activation',
    'check, activate and verify each node (already active nodes are skipped)',
  ],
  ['deactivate', 'license-deactivate', "free each node's seat"],
  ['status', 'license-status', 'active or not, expiry, a warning when it is near (exit 1 then)'],
] as const) {
  const cmd = specCommand(licenseCmd.command(name).description(what)).option(
    '--only <nodes>',
    'only these nodes (comma-separated)',
  );
  if (name === 'activate') cmd.option('--force', 'activate again even where already active');
  cmd.action((flags: NodeFlags & { force?: boolean }) =>
    runOperation(
      buildLicenseOperation(loadSpec(flags.file, { inventory: flags.inventory }), operation, {
        only: csv(flags.only),
        force: flags.force,
      }),
      flags,
    ),
  );
}

signalCommand(program, 'pause', 'pause a rolling maintenance before its next node');
signalCommand(program, 'resume', 'resume a paused rolling maintenance');
signalCommand(
  program,
  'approve',
  'approve the next batch of a rolling maintenance (or a waiting switchover)',
);
withConnectionOptions(
  program
    .command('abort <workflowId>')
    .description('stop a rolling maintenance after the nodes in hand (none is left out of the LB)')
    .option('--reason <text>')
    .option('--json', 'print JSON'),
).action(async (workflowId: string, flags: ConnectionFlags & { reason?: string; json?: boolean }) => {
  const client = await connectClient(temporalSettings(flags));
  await client.workflow.getHandle(workflowId).signal('abort', flags.reason);
  acknowledged(flags, { workflowId, sent: 'abort', reason: flags.reason }, `${workflowId}: abort sent`);
});
withConnectionOptions(
  program
    .command('skip <workflowId> <node>')
    .description('leave a node out of a running rolling maintenance')
    .option('--json', 'print JSON'),
).action(async (workflowId: string, node: string, flags: ConnectionFlags & { json?: boolean }) => {
  const client = await connectClient(temporalSettings(flags));
  await client.workflow.getHandle(workflowId).signal('skip', node);
  acknowledged(flags, { workflowId, sent: 'skip', node }, `${workflowId}: skip ${node} sent`);
});

const schedule = program.command('schedule').description('recurring operations as Temporal Schedules');
specCommand(
  schedule
    .command('create <operation>')
    .description('schedule an operation (rolling-maintenance, config-drift, license-status) from a spec')
    .requiredOption('--cron <expr>', 'e.g. "0 3 * * SUN"')
    .option('--timezone <tz>', 'IANA time zone of the cron line', 'UTC')
    .option('--catchup-window <duration>', 'start a missed run this late at most', '1h')
    .option('--note <text>', 'why this schedule exists')
    .option('--id <scheduleId>', 'default: <operation>/<cluster>')
    .option('--play <playbook>', 'rolling-maintenance: the action')
    .option('--only <nodes>', 'rolling-maintenance: only these nodes'),
).action(
  async (
    operation: string,
    flags: NodeFlags & { cron: string; timezone: string; catchupWindow: string; note?: string; id?: string },
  ) => {
    if (!['rolling-maintenance', 'config-drift', 'license-status'].includes(operation))
      throw new BadInput(
        `schedule create: "${operation}" cannot be scheduled (rolling-maintenance, config-drift, license-status)`,
      );
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: flags.timezone });
    } catch {
      throw new BadInput(`--timezone: "${flags.timezone}" is not an IANA time zone like Europe/Berlin`);
    }
    if (flags.cron.trim().split(/\s+/).length !== 5)
      throw new BadInput(`--cron: "${flags.cron}" is not five cron fields`);
    const loaded = loadSpec(flags.file, { inventory: flags.inventory });
    const op =
      operation === 'license-status'
        ? buildLicenseOperation(loaded, operation, { only: csv(flags.only) })
        : buildNodeOperation(loaded, operation as NodeOperation, nodeOptions(flags));
    const settings = temporalSettings(flags);
    const client = await connectClient(settings);
    const id = await createSchedule(client, settings, op, flags);
    const d = summarize(await client.schedule.getHandle(id).describe());
    console.log(flags.json ? JSON.stringify(d, null, 2) : renderSchedule(d));
  },
);
withConnectionOptions(schedule.command('list').description('every schedule').option('--json')).action(
  async (flags: ConnectionFlags & { json?: boolean }) => {
    const list = await listSchedules(await connectClient(temporalSettings(flags)));
    console.log(flags.json ? JSON.stringify(list, null, 2) : renderSchedules(list));
  },
);
withConnectionOptions(
  schedule.command('describe <scheduleId>').description('state, next run, recent runs').option('--json'),
).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
  const d = summarize(await (await connectClient(temporalSettings(flags))).schedule.getHandle(id).describe());
  console.log(flags.json ? JSON.stringify(d, null, 2) : renderSchedule(d));
});
for (const [name, what] of [
  ['pause', 'stop starting runs (with a note saying why)'],
  ['unpause', 'start runs again'],
] as const) {
  withConnectionOptions(
    schedule
      .command(`${name} <scheduleId>`)
      .description(what)
      .option('--note <text>')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags: ConnectionFlags & { note?: string; json?: boolean }) => {
    const handle = (await connectClient(temporalSettings(flags))).schedule.getHandle(id);
    await (name === 'pause' ? handle.pause(flags.note) : handle.unpause(flags.note));
    acknowledged(flags, { scheduleId: id, done: name }, `schedule ${id}: ${name}d`);
  });
}
withConnectionOptions(
  schedule
    .command('trigger <scheduleId>')
    .description('run it now (overlap policy still applies)')
    .option('--json', 'print JSON'),
).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
  await (await connectClient(temporalSettings(flags))).schedule.getHandle(id).trigger();
  acknowledged(flags, { scheduleId: id, done: 'trigger' }, `schedule ${id}: triggered`);
});
withConnectionOptions(
  schedule
    .command('delete <scheduleId>')
    .description('delete the schedule (running workflows go on)')
    .option('--json', 'print JSON'),
).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
  await (await connectClient(temporalSettings(flags))).schedule.getHandle(id).delete();
  acknowledged(flags, { scheduleId: id, done: 'delete' }, `schedule ${id}: deleted`);
});

export async function main(argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message, the help or the version already.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    } else if (
      err instanceof ExtraVarsError ||
      err instanceof InventoryError ||
      err instanceof BadInput ||
      err instanceof PlaybookError ||
      err instanceof SpecError ||
      err instanceof BadConnectionSettings
    ) {
      console.error(`clusterflow: bad input: ${err.message}`);
      process.exitCode = ExitCode.badInput;
    } else if (err instanceof TemporalUnreachable) {
      console.error(`clusterflow: ${err.message}`);
      process.exitCode = ExitCode.temporalUnreachable;
    } else if (err instanceof WorkflowFailedError) {
      // The operator wants the reason, which Temporal keeps in the cause chain.
      console.error(`clusterflow: operation failed: ${innermostCause(err).message}`);
      process.exitCode = ExitCode.operationFailed;
    } else {
      console.error(`clusterflow: ${(err as Error).message}`);
      process.exitCode = ExitCode.operationFailed;
    }
  }
}

export type { TemporalSettings };

if (require.main === module) void main();
