import { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { SshPool } from '../../activities/ssh/pool';
import { createWorker } from '../../worker';
import { connectClient, connectionOptions, temporalSettings, TemporalUnreachable } from '../connection';
import { createCodecServer } from '../codec-server';
import { AesGcmCodec, loadCodecKey } from '../../worker/codec';
import { BadInput, withConnectionOptions, type ConnectionFlags } from './options';

// `worker` and `codec-server`: the processes an operator runs beside Temporal.

export function registerWorkerCommands(program: Command): void {
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
}
