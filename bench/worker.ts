import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { SshPool } from '../activities/ssh/pool';
import type { TemporalSettings } from '../client/connection';
import { createWorker } from '../worker';

/** A real worker in the benchmark's own process (so its RSS is the process's), and a client. */
export async function startBenchWorker(settings: TemporalSettings) {
  const native = await NativeConnection.connect({ address: settings.address });
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const pool = new SshPool();
  const worker = await createWorker({
    connection: native,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    deps: { pool, temporal: client },
  });
  const running = worker.run();
  return {
    client,
    /** The worker's SSH pool, for the benchmark's own checks on hosts. */
    pool,
    async stop(): Promise<void> {
      worker.shutdown();
      await running;
      await pool.close();
      await connection.close();
      await native.close();
    },
  };
}
