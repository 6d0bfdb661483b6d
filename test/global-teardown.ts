import { stopDevServer } from '../lab/devserver';
import { down } from '../lab/hosts';
import { loadStackRecord } from './stack';

/** Stops only what global setup started; CLUSTERFLOW_KEEP_STACK=1 keeps it for the next run. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.CLUSTERFLOW_KEEP_STACK === '1') return;
  const record = loadStackRecord();
  if (record.hostsAdded.length) await down(record.hostsAdded);
  if (record.serverStarted) await stopDevServer();
}
