import { rmSync } from 'node:fs';
import { stopDevServer } from '../lab/devserver';
import { forgetStackRecord, loadStackRecord, removeRunHosts } from './stack';

/**
 * Leaves the machine as the run found it: every lab host the run created goes (the shared ones
 * global setup added, and any a suite made and kept), and the run fails if one is still there.
 * CLUSTERFLOW_KEEP_STACK=1 keeps everything for the next run.
 */
export default async function globalTeardown(): Promise<void> {
  if (process.env.CLUSTERFLOW_TEST_BUNDLE) rmSync(process.env.CLUSTERFLOW_TEST_BUNDLE, { force: true });
  const record = loadStackRecord();
  forgetStackRecord();
  if (process.env.CLUSTERFLOW_KEEP_STACK === '1') return;
  try {
    await removeRunHosts(record);
  } finally {
    if (record.serverStarted) await stopDevServer();
  }
}
