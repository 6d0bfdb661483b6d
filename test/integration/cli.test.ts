import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { labFiles } from '../../lab/hosts';
import { testSettings, withWorker } from './helpers';

// The operator's loop through the real CLI against the dev server: `run` an operation, follow it
// with `status`, `watch` and `list` (visibility on the search attributes), `cancel` one that hangs.

const settings = testSettings();
const cluster = `cli-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-cli-'));
process.env.CF_CLI_TEST_KEY = 'CFAPP-CLI-TEST';

function spec(name: string, activate: string): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `cluster: ${cluster}
inventory: ${labFiles.inventory}
license:
  hosts: [node1, node2]
  driver: command
  command:
    check: test -f /tmp/${cluster} && echo active until 2099-01-31 || exit 3
    activate: '${activate}'
    deactivate: rm -f /tmp/${cluster}
  key: env:CF_CLI_TEST_KEY
`,
  );
  return file;
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['bin/clusterflow.js', ...args, '--task-queue', settings.taskQueue],
      { env: { ...process.env, TEMPORAL_ADDRESS: settings.address }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

async function statusOf(id: string, until: (s: { status: string; phase?: string }) => boolean) {
  for (let i = 0; ; i++) {
    const s = JSON.parse((await cli('status', id, '--json')).stdout);
    if (until(s) || i > 60) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('runs an operation, shows its status and result, watches one to its end, lists them by cluster, and cancels a hanging one', async () => {
  await withWorker(settings, async (client) => {
    const started = await cli('run', 'license-status', '-f', spec('status', 'true'), '--json');
    expect(started.code).toBe(0);
    const { workflowId, link } = JSON.parse(started.stdout);
    expect(workflowId).toMatch(new RegExp(`^license-status/${cluster}/`));
    expect(link).toContain(encodeURIComponent(workflowId));

    const done = await statusOf(workflowId, (s) => s.status !== 'RUNNING');
    expect(done).toMatchObject({
      status: 'COMPLETED',
      cluster,
      operation: 'license-status',
      hosts: ['node1', 'node2'],
    });
    expect(done.result.nodes.map((n: { outcome: string }) => n.outcome)).toEqual([
      'not-active',
      'not-active',
    ]);
    const human = await cli('status', workflowId);
    expect(human.stdout).toMatch(/status: {2}COMPLETED, phase 2 not-active/);

    // watch: follows a run to its end and prints the operation's own result table
    const activation = JSON.parse(
      (await cli('run', 'license-activation', '-f', spec('fast', `sleep 1; touch /tmp/${cluster}`), '--json'))
        .stdout,
    ).workflowId;
    const watched = await cli('watch', activation);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toMatch(/^phase: /m);
    expect(watched.stdout).toMatch(/license-activation: 2 activated/);
    expect(watched.stdout).toMatch(/node1.*ACTIVATED.*2099-01-31/);

    // What the Web UI shows: static summary and details, an activity summary naming host and step,
    // current details with the per-node table.
    const ui = client.workflow.getHandle(activation);
    const described = await ui.describe();
    expect(await described.staticSummary()).toBe('activate the license of 2 node(s) (command driver)');
    expect(await described.staticDetails()).toContain(`**license-activation** on cluster **${cluster}**`);
    const scheduled = (await ui.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes);
    const summaries = await Promise.all(
      scheduled.map(
        async (e) => (await defaultPayloadConverter.fromPayload(e.userMetadata!.summary!)) as string,
      ),
    );
    expect(summaries.sort()).toEqual([
      'node1: license check, activate, verify',
      'node2: license check, activate, verify',
    ]);
    const meta = await ui.query(workflowMetadataQuery);
    expect(meta.currentDetails).toMatch(/\*\*2 activated\*\*[\s\S]*\| node1 \| activated \| 2099-01-31 \|/);

    const hanging = JSON.parse(
      // --force: the nodes are active now; activate again, and hang doing it
      (await cli('run', 'license-activation', '-f', spec('slow', 'sleep 300'), '--force', '--json')).stdout,
    ).workflowId;
    const running = await statusOf(hanging, (s) => s.status === 'RUNNING' && s.phase !== 'queued');
    expect(running.status).toBe('RUNNING');

    const listed = JSON.parse((await cli('list', '--cluster', cluster, '--json')).stdout);
    expect(listed.map((r: { workflowId: string }) => r.workflowId).sort()).toEqual(
      [workflowId, activation, hanging].sort(),
    );
    const runningOnly = JSON.parse((await cli('list', '--cluster', cluster, '--running', '--json')).stdout);
    expect(runningOnly.map((r: { workflowId: string }) => r.workflowId)).toEqual([hanging]);

    expect(JSON.parse((await cli('cancel', hanging, '--json')).stdout)).toEqual({
      workflowId: hanging,
      sent: 'cancel',
    });
    const cancelled = await statusOf(hanging, (s) => s.status !== 'RUNNING');
    expect(cancelled.status).toBe('CANCELLED');
    expect((await cli('list', '--cluster', 'bad"name')).code).toBe(2);
  });
}, 120_000);
