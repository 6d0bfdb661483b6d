import { Command } from 'commander';
import { connectClient, temporalSettings } from '../connection';
import { loadSpec } from '../spec';
import { buildNodeOperation, type NodeOperation, type NodeOperationOptions } from '../nodes';
import {
  acknowledged,
  csv,
  signalCommand,
  specCommand,
  withConnectionOptions,
  type ConnectionFlags,
  type NodeFlags,
} from './options';
import { runOperation } from './report';

// Nodes behind the load balancer: rolling maintenance and its signals, join, remove, config drift.

export function nodeOptions(flags: NodeFlags, node?: string): NodeOperationOptions {
  return { play: flags.play, only: csv(flags.only), fix: flags.fix, node };
}

export function runNodeOperation(operation: NodeOperation, flags: NodeFlags, node?: string): Promise<void> {
  const loaded = loadSpec(flags.file, { inventory: flags.inventory });
  return runOperation(buildNodeOperation(loaded, operation, nodeOptions(flags, node)), flags);
}

export function registerNodeCommands(program: Command): void {
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
}
