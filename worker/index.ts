import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { AesGcmCodec, loadCodecKey } from './codec';

export interface ClusterflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps?: ActivityDeps;
  /** A pre-built workflow bundle (tests build it once); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload encryption key reference (env:NAME / file:/path); off when absent. */
  codecKey?: string;
}

/** One worker serves every clusterflow workflow and activity on one task queue. */
export function createWorker(options: ClusterflowWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.codecKey
      ? {
          dataConverter: {
            payloadCodecs: [new AesGcmCodec(loadCodecKey(options.codecKey))],
            failureConverterPath: require.resolve('./failure-converter'),
          },
        }
      : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
}
