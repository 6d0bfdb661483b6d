import { Command, Option } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { FactsInputSchema, type FactsResult } from '../common/facts';
import { SshPool } from '../activities/ssh/pool';
import { createWorker } from '../worker';
import {
  connectClient,
  startOperation,
  temporalSettings,
  TemporalUnreachable,
  workflowUiLink,
  type TemporalSettings,
} from './connection';
import { renderFactsTable, startFacts } from './facts';
import { clusterNameOf, InventoryError, loadInventory, resolveTargets } from './inventory';
import { loadPlaybook, PlaybookError } from './play';
import { renderDbResult, renderTopology, startDbOperation, type DbCommand } from './db';
import { databaseInput, loadSpec, requireMember, SpecError } from './spec';
import type { Topology } from '../common/db';
import type { DbOperationResult } from '../workflows/db';
import { renderRecap, renderTasks } from './play-output';
import type { PlayResult } from '../common/play';

/** Exit codes an operator's scripts can rely on. */
export const ExitCode = { ok: 0, operationFailed: 1, badInput: 2, temporalUnreachable: 3 } as const;

class BadInput extends Error {}

interface ConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  uiUrl?: string;
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
    .addOption(new Option('--ui-url <url>', 'Temporal Web UI base URL, for links').env('CLUSTERFLOW_UI_URL'));
}

const program = new Command('clusterflow').description(
  'Durable, agentless operations for clustered servers, run as Temporal workflows',
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
    connection = await NativeConnection.connect({ address: settings.address });
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
    .description('run an Ansible-style playbook (modules, serial batches, handlers) as a durable workflow')
    .requiredOption('-i, --inventory <file>', 'Ansible YAML inventory')
    .option('-l, --limit <pattern>', 'further limit the hosts of every play')
    .option('-C, --check', 'report what would change; change nothing')
    .option('-D, --diff', 'show before/after of changed files')
    .option('-t, --tags <tags>', 'only tasks with these tags (comma-separated)')
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
      tags?: string;
      forks: string;
      json?: boolean;
    },
  ) => {
    const inventory = loadInventory(flags.inventory);
    const input = loadPlaybook(playbook, inventory, {
      limit: flags.limit,
      check: Boolean(flags.check),
      diff: Boolean(flags.diff),
      tags: (flags.tags ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      forks: Number(flags.forks),
      cluster: clusterNameOf(inventory),
    });
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

for (const [name, signal, what] of [
  ['approve', 'approve', 'approve a switchover waiting for approval'],
  ['acknowledge', 'acknowledge', 'let a failover refused by anti-flapping go ahead'],
] as const) {
  withConnectionOptions(db.command(`${name} <workflowId>`).description(what)).action(
    async (workflowId: string, flags: ConnectionFlags) => {
      const settings = temporalSettings(flags);
      const client = await connectClient(settings);
      await client.workflow.getHandle(workflowId).signal(signal);
      console.log(`${workflowId}: ${signal} sent`);
    },
  );
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (
      err instanceof InventoryError ||
      err instanceof BadInput ||
      err instanceof PlaybookError ||
      err instanceof SpecError
    ) {
      console.error(`clusterflow: bad input: ${err.message}`);
      process.exitCode = ExitCode.badInput;
    } else if (err instanceof TemporalUnreachable) {
      console.error(`clusterflow: ${err.message}`);
      process.exitCode = ExitCode.temporalUnreachable;
    } else if (err instanceof WorkflowFailedError) {
      // The operator wants the reason, which Temporal keeps in the cause chain.
      let cause: Error | undefined = err;
      while (cause && (cause as { cause?: Error }).cause) cause = (cause as { cause?: Error }).cause;
      console.error(`clusterflow: operation failed: ${cause?.message ?? err.message}`);
      process.exitCode = ExitCode.operationFailed;
    } else {
      console.error(`clusterflow: ${(err as Error).message}`);
      process.exitCode = ExitCode.operationFailed;
    }
  }
}

export type { TemporalSettings };

if (require.main === module) void main();
