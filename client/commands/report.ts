import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import {
  connectClient,
  startOperation,
  temporalSettings,
  workflowUiLink,
  type TemporalSettings,
} from '../connection';
import type { StartableOperation } from '../nodes';
import { renderResult, resultFailed } from '../results';
import { ExitCode, type ConnectionFlags } from './options';

// Every command that starts an operation does the same: start it, say where to watch it, wait
// unless --no-wait, print the result (or JSON), and exit 1 when it failed somewhere.

export interface ReportFlags extends ConnectionFlags {
  json?: boolean;
  /** false with --no-wait; commands without the option always wait. */
  wait?: boolean;
}

export interface Report<R> {
  render(result: R): string;
  failed(result: R): boolean;
  /** Where the workflow's ID and UI link go in human output (facts and play keep stdout). */
  linkTo?: 'stdout' | 'stderr';
}

export async function startAndReport<R>(
  flags: ReportFlags,
  start: (client: Client, settings: TemporalSettings) => Promise<WorkflowHandleWithFirstExecutionRunId>,
  report: Report<R>,
): Promise<void> {
  const settings = temporalSettings(flags);
  const client = await connectClient(settings);
  const handle = await start(client, settings);
  const { workflowId, firstExecutionRunId: runId } = handle;
  const link = workflowUiLink(settings, workflowId, runId);
  if (!flags.json)
    (report.linkTo === 'stdout' ? console.log : console.error)(`workflow ${workflowId}\n${link}`);
  if (flags.wait === false) {
    if (flags.json) console.log(JSON.stringify({ workflowId, runId, link }));
    return;
  }
  const result = (await handle.result()) as R;
  console.log(
    flags.json ? JSON.stringify({ workflowId, link, ...(result as object) }, null, 2) : report.render(result),
  );
  if (report.failed(result)) process.exitCode = ExitCode.operationFailed;
}

/** A spec operation built by client/nodes, storage, license or cluster. */
export function runOperation(op: StartableOperation, flags: ReportFlags): Promise<void> {
  return startAndReport<object>(flags, (client, settings) => startOperation(client, settings, op), {
    render: (result) => renderResult(op.operation, result),
    failed: (result) => resultFailed(op.operation, result),
  });
}
