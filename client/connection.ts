import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import {
  Client,
  Connection,
  type TLSConfig,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { clientDataConverter } from '../worker/codec';
import { ClusterName, Operation, Phase, TargetHosts } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUE } from '../common/task-queue';

/** Where Temporal is, from flags first and then the environment variables the temporal CLI uses. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  /** TLS to the frontend: on by itself, or implied by a client certificate, a CA or an API key. */
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  /** Temporal Cloud style API key; sent as a bearer token. Read from a file or the environment. */
  apiKey?: string;
  /** Payload encryption key reference (env:NAME / file:/path): the same on clients and workers. */
  codecKey?: string;
}

const env = (name: string) => process.env[name] || undefined;

export function temporalSettings(
  flags: Partial<TemporalSettings> & { apiKeyFile?: string } = {},
): TemporalSettings {
  let apiKey = flags.apiKey ?? env('TEMPORAL_API_KEY');
  if (flags.apiKeyFile) {
    try {
      apiKey = readFileSync(flags.apiKeyFile, 'utf8').trim();
    } catch (err) {
      throw new BadConnectionSettings(
        `--api-key-file: cannot read ${flags.apiKeyFile} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  return {
    address: flags.address ?? env('TEMPORAL_ADDRESS') ?? '127.0.0.1:7233',
    namespace: flags.namespace ?? env('TEMPORAL_NAMESPACE') ?? 'default',
    taskQueue: flags.taskQueue ?? env('CLUSTERFLOW_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    uiUrl: (flags.uiUrl ?? env('CLUSTERFLOW_UI_URL') ?? 'http://127.0.0.1:8233').replace(/\/$/, ''),
    tls: flags.tls ?? (env('TEMPORAL_TLS') ? env('TEMPORAL_TLS') === 'true' : undefined),
    tlsCertPath: flags.tlsCertPath ?? env('TEMPORAL_TLS_CERT'),
    tlsKeyPath: flags.tlsKeyPath ?? env('TEMPORAL_TLS_KEY'),
    tlsCaPath: flags.tlsCaPath ?? env('TEMPORAL_TLS_CA'),
    tlsServerName: flags.tlsServerName ?? env('TEMPORAL_TLS_SERVER_NAME'),
    apiKey,
    codecKey: flags.codecKey ?? env('CLUSTERFLOW_CODEC_KEY'),
  };
}

/**
 * The connection options for the client and the worker alike, as the temporal CLI reads them:
 * a client certificate and key (mTLS), a CA, a server name, or an API key (which implies TLS).
 */
export function connectionOptions(settings: TemporalSettings): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
} {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new BadConnectionSettings(
        `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  };
  if (Boolean(settings.tlsCertPath) !== Boolean(settings.tlsKeyPath))
    throw new BadConnectionSettings('--tls-cert-path and --tls-key-path go together (mTLS needs both)');
  const wantsTls =
    settings.tls ??
    Boolean(settings.tlsCertPath || settings.tlsCaPath || settings.tlsServerName || settings.apiKey);
  if (!wantsTls) return { address: settings.address, apiKey: settings.apiKey };
  const tls: TLSConfig = {};
  if (settings.tlsCertPath && settings.tlsKeyPath)
    tls.clientCertPair = {
      crt: read(settings.tlsCertPath, '--tls-cert-path'),
      key: read(settings.tlsKeyPath, '--tls-key-path'),
    };
  if (settings.tlsCaPath) tls.serverRootCACertificate = read(settings.tlsCaPath, '--tls-ca-path');
  if (settings.tlsServerName) tls.serverNameOverride = settings.tlsServerName;
  return { address: settings.address, tls: Object.keys(tls).length ? tls : true, apiKey: settings.apiKey };
}

/** Connection flags that contradict each other or name files that are not there: exit 2. */
export class BadConnectionSettings extends Error {}

export class TemporalUnreachable extends Error {
  constructor(address: string, cause: unknown) {
    super(`cannot reach Temporal at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'TemporalUnreachable';
  }
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5000 });
    return new Client({
      connection,
      namespace: settings.namespace,
      dataConverter: clientDataConverter(settings.codecKey),
    });
  } catch (err) {
    if (err instanceof BadConnectionSettings) throw err;
    throw new TemporalUnreachable(settings.address, err);
  }
}

/** The Web UI page of one workflow execution. */
export function workflowUiLink(settings: TemporalSettings, workflowId: string, runId?: string): string {
  const base = `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

/** Workflow IDs an operator can read in a list: `<operation>/<cluster>/<start time>`. */
export function workflowId(operation: string, cluster: string, at = new Date()): string {
  return `${operation}/${cluster}/${at.toISOString()}`;
}

/** Waits until some worker polls `taskQueue`, so a workflow started next is picked up at once. */
export async function waitForWorker(settings: TemporalSettings, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect(connectionOptions(settings));
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue },
      });
      if (pollers.length > 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no worker polled task queue ${settings.taskQueue} within ${timeoutMs / 1000} s`);
  } finally {
    await connection.close();
  }
}

/**
 * Starts an operation the way every CLI command does: a readable workflow ID, the search
 * attributes operators filter by, and a one-line summary for the UI.
 */
export function startOperation<A>(
  client: Client,
  settings: TemporalSettings,
  op: {
    operation: string;
    workflowType: string;
    cluster: string;
    hosts: string[];
    input: A;
    summary: string;
  },
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return client.workflow.start(op.workflowType, {
    taskQueue: settings.taskQueue,
    workflowId: workflowId(op.operation, op.cluster),
    args: [op.input],
    typedSearchAttributes: [
      { key: ClusterName, value: op.cluster },
      { key: Operation, value: op.operation },
      { key: TargetHosts, value: op.hosts },
      { key: Phase, value: 'queued' },
    ],
    staticSummary: op.summary,
    staticDetails: [
      `**${op.operation}** on cluster **${op.cluster}**`,
      `hosts: ${op.hosts.join(', ') || '(none)'}`,
      `started by ${userInfo().username}@${hostname()} with clusterflow`,
    ].join('\n\n'),
  });
}
