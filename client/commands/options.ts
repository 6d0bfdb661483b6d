import { Command, Option } from 'commander';
import { connectClient, temporalSettings } from '../connection';

/** Exit codes an operator's scripts can rely on. */
export const ExitCode = { ok: 0, operationFailed: 1, badInput: 2, temporalUnreachable: 3 } as const;

export class BadInput extends Error {}

export interface ConnectionFlags {
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

export function withConnectionOptions(cmd: Command): Command {
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

/** What a command that only sends something prints: a line, or with --json the same as an object. */
export function acknowledged(flags: { json?: boolean }, what: Record<string, unknown>, line: string): void {
  console.log(flags.json ? JSON.stringify(what) : line);
}

/** `<name> <workflowId>`: sends the signal of that name to a running workflow. */
export function signalCommand(parent: Command, name: string, what: string): void {
  withConnectionOptions(
    parent.command(`${name} <workflowId>`).description(what).option('--json', 'print JSON'),
  ).action(async (workflowId: string, flags: ConnectionFlags & { json?: boolean }) => {
    const client = await connectClient(temporalSettings(flags));
    await client.workflow.getHandle(workflowId).signal(name);
    acknowledged(flags, { workflowId, sent: name }, `${workflowId}: ${name} sent`);
  });
}

export interface NodeFlags extends ConnectionFlags {
  file: string;
  inventory?: string;
  json?: boolean;
  wait: boolean;
  play?: string;
  only?: string;
  fix?: boolean;
}

export function specCommand(cmd: Command): Command {
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

export const csv = (v?: string) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
