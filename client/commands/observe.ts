import { ScheduleNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { describeSchedule, renderSchedule } from '../schedule';
import { connectClient, temporalSettings } from '../connection';
import { renderResult, resultFailed } from '../results';
import { watchWorkflow } from '../watch';
import { listWorkflows, renderList, renderStatus, workflowStatus } from '../observe';
import { acknowledged, BadInput, ExitCode, withConnectionOptions, type ConnectionFlags } from './options';

// Watching and steering what runs: watch, list, status, cancel.

export function registerObserveCommands(program: Command): void {
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
      .description(
        'state, phase, live progress or result of one workflow; of a schedule (e.g. the sync), its runs and last synchronized times',
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
    const client = await connectClient(temporalSettings(flags));
    const schedule = await describeSchedule(client, workflowId).catch((err: Error) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
    if (schedule) {
      console.log(flags.json ? JSON.stringify(schedule, null, 2) : renderSchedule(schedule));
      return;
    }
    const s = await workflowStatus(client, workflowId);
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
}
