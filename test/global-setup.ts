import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../lab/devserver';
import { status, up } from '../lab/hosts';
import { TEST_HOSTS, saveStackRecord } from './stack';

/** Integration tests run against a real dev server and real lab hosts; this brings both up. */
export default async function globalSetup(): Promise<void> {
  // Every lab host created from here on, by any suite or process of this run, carries the tag
  // (test workers and their children inherit it), so teardown can remove exactly the run's hosts.
  const owner = `test-run-${process.pid}-${Date.now().toString(36)}`;
  process.env.CLUSTERFLOW_LAB_OWNER = owner;
  // The workflow code is bundled once for the run: every suite's workers load this file instead
  // of bundling again (seconds each, a hundred times over).
  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: quiet,
  });
  const bundle = path.join(tmpdir(), `cf-test-workflows-${process.pid}.js`);
  writeFileSync(bundle, code);
  process.env.CLUSTERFLOW_TEST_BUNDLE = bundle;
  const server = await startDevServer();
  const hostsBefore = status().map((h) => h.name);
  await up(TEST_HOSTS);
  saveStackRecord({ serverStarted: server.started, owner, hostsBefore });
}
