import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { down, up } from '../../lab/hosts';
import { EXAMPLES } from '../../scripts/examples';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { RollingResult } from '../../workflows/node-operations';
import { steadyLoad } from '../fixtures/http-load';
import {
  clusterflowCli,
  clusterflowJson,
  EXAMPLES_DIR,
  exampleSpec,
  type ExampleSpec,
} from '../fixtures/examples';
import { historyText, onHost, startPausedWorker, testSettings } from './helpers';

/**
 * One vendor-guide example's suite, as its user runs it: the example's own lab hosts fresh, its
 * secrets made up and in the worker's environment only, a worker in a process of its own, and
 * the CLI pointed at it. Registers the suite's beforeAll and afterAll.
 */
export function exampleSuite(name: string) {
  const example = EXAMPLES[name];
  const settings = testSettings();
  const dir = mkdtempSync(path.join(os.tmpdir(), `cf-${name}-`));
  const secrets = Object.fromEntries(
    example.secrets.map((n) => [n, `${n}-${randomBytes(8).toString('hex')}`]),
  );
  Object.assign(process.env, secrets);
  const env = { TEMPORAL_ADDRESS: settings.address, CLUSTERFLOW_TASK_QUEUE: settings.taskQueue };
  let worker: ChildProcess | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    await down(example.hosts);
    await up(example.hosts);
    const prepare = example.kernelLine?.prepare;
    if (prepare) onHost(prepare.host, prepare.command);
    worker = await startPausedWorker(settings, '');
    client = new Client({ connection: await Connection.connect({ address: settings.address }) });
  }, 300_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await client?.connection.close();
    // The run leaves the machine as it found it; CLUSTERFLOW_KEEP_STACK keeps the hosts for the next.
    if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(example.hosts);
  }, 180_000);

  return {
    hosts: example.hosts,
    /** The spec as shipped. */
    spec: path.join(EXAMPLES_DIR, '..', example.spec),
    secrets,
    /** A copy of the spec changed by `edit`, as the README tells an operator to change it. */
    specCopy: (copy: string, edit: (doc: ExampleSpec) => void) =>
      exampleSpec(name, { dir, name: copy, edit }),
    cli: (...args: string[]) => clusterflowCli(args, env),
    /** `clusterflow ARGS --json`, parsed. */
    run: <T>(...args: string[]) => clusterflowJson<T>(args, env),
    history: (workflowId: string) => historyText(client as Client, workflowId),
    /** A rolling maintenance under steady HTTP load through the LB: every node done, no request failed, each served some. */
    async rollsUnderLoad(url: string, specFile: string, nodes: string[]): Promise<void> {
      const load = steadyLoad(url);
      const r = await clusterflowJson<RollingResult>(
        ['run', 'rolling-maintenance', '-f', specFile, '--wait'],
        env,
      );
      const report = await load.stop();
      expect(r.nodes.map((n) => [n.node, n.outcome])).toEqual(nodes.map((n) => [n, 'done']));
      expect(report.failures).toEqual([]);
      expect(report.failed).toBe(0);
      expect(Object.keys(report.byNode).sort()).toEqual([...nodes].sort());
      console.log(`${name} rolling maintenance: ${report.requests} requests, ${report.failed} failed`);
    },
    /** cluster-setup again on a converged cluster: no failure, no host changed; the result for more checks. */
    async setupChangesNothing(specFile: string): Promise<ClusterSetupResult> {
      const r = await clusterflowJson<ClusterSetupResult>(
        ['run', 'cluster-setup', '-f', specFile, '--wait'],
        env,
      );
      expect(r.failures).toEqual([]);
      expect(r.changed).toBe(false);
      for (const h of example.hosts) expect(r.recap[h]).toMatchObject({ changed: 0, failed: 0 });
      return r;
    },
  };
}
