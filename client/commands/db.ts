import { Command } from 'commander';
import { renderDbResult, renderTopology, startDbOperation, type DbCommand } from '../db';
import { databaseInput, loadSpec, requireMember } from '../spec';
import type { Topology } from '../../common/db';
import type { DbOperationResult } from '../../workflows/db';
import { signalCommand, type ConnectionFlags, specCommand } from './options';
import { startAndReport } from './report';

// `db ...`: replication operations from the spec's database section.

interface DbFlags extends ConnectionFlags {
  file: string;
  inventory?: string;
  json?: boolean;
  wait: boolean;
  to?: string;
  canary?: boolean;
}

function dbCommand(
  db: Command,
  name: DbCommand,
  description: string,
  extra: (cmd: Command) => Command = (c) => c,
) {
  return extra(specCommand(db.command(name).description(description)));
}

async function runDb(command: DbCommand, flags: DbFlags, extra: Record<string, unknown> = {}): Promise<void> {
  const input = { ...databaseInput(loadSpec(flags.file, { inventory: flags.inventory })), ...extra };
  if (typeof extra.candidate === 'string') requireMember(input, extra.candidate, '--to');
  if (typeof extra.member === 'string') requireMember(input, extra.member, 'member');
  await startAndReport<DbOperationResult | Topology>(
    flags,
    (client, settings) => startDbOperation(client, settings, command, input),
    command === 'status'
      ? {
          render: (r) => renderTopology(r as Topology),
          failed: (r) => (r as Topology).problems.length > 0,
        }
      : { render: (r) => renderDbResult(r as DbOperationResult), failed: () => false },
  );
}

export function registerDbCommands(program: Command): void {
  const db = program
    .command('db')
    .description('database replication: bootstrap, status, switchover, failover, rejoin');

  dbCommand(
    db,
    'bootstrap',
    'configure primary and replicas, accounts, initial copy, verify (idempotent)',
    (c) => c.option('--canary', 'run the create/drop canary even when nothing changed'),
  ).action((flags: DbFlags) => runDb('bootstrap', flags, flags.canary ? { canary: 'always' } : {}));

  dbCommand(
    db,
    'status',
    'who is primary, replicas, lag, GTID positions, read_only, errant transactions',
  ).action((flags: DbFlags) => runDb('status', flags));

  dbCommand(
    db,
    'switchover',
    'planned switchover to a replica (pre-checks, optional approval, rollback on failure)',
    (c) => c.option('--to <member>', 'the replica to promote (default: the healthiest)'),
  ).action((flags: DbFlags) => runDb('switchover', flags, flags.to ? { candidate: flags.to } : {}));

  dbCommand(
    db,
    'failover',
    'unplanned failover: confirm the primary is down, promote the most advanced replica',
    (c) => c.option('--to <member>', 'prefer this replica (refused if it lacks transactions another has)'),
  ).action((flags: DbFlags) => runDb('failover', flags, flags.to ? { candidate: flags.to } : {}));

  specCommand(
    db
      .command('rejoin <member>')
      .description('bring a former primary back as a replica (refused if it has errant transactions)'),
  ).action((member: string, flags: DbFlags) => runDb('rejoin', flags, { member }));

  signalCommand(db, 'approve', 'approve a switchover waiting for approval');

  signalCommand(db, 'acknowledge', 'let a failover refused by anti-flapping go ahead');
}
