import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { Client, Connection } from '@temporalio/client';
import { hostAddress, labFiles } from '../../lab/hosts';
import { onHost, testSettings, withWorker } from './helpers';

// The operator's loop through the real CLI against the dev server: `run` an operation, follow it
// with `status`, `watch` and `list` (visibility on the search attributes), `cancel` one that hangs.

const settings = testSettings();

async function connectClient(): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address: settings.address }) });
}
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

/** The CLI as an operator types it: exactly these arguments. */
function clusterflow(
  args: string[],
  timeout = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['bin/clusterflow.js', ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: settings.address }, timeout },
      // A command killed by the timeout has no code: -1, so no expected exit code matches it.
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

const cli = (...args: string[]) => clusterflow([...args, '--task-queue', settings.taskQueue]);

/** An inventory of the lab host node1 under its own cluster name, so visibility can be asked about it alone. */
function inventory(clusterName: string, hostVars = ''): string {
  const file = path.join(dir, `${clusterName}-inventory.yml`);
  writeFileSync(
    file,
    `all:
  vars:
    cluster_name: ${clusterName}
    ansible_user: root
    ansible_ssh_private_key_file: ${labFiles.key}
    ansible_ssh_common_args: -o UserKnownHostsFile=${labFiles.knownHosts} -o StrictHostKeyChecking=yes
  hosts:
    node1:
      ansible_host: ${hostAddress('node1')}
${hostVars}`,
  );
  return file;
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

describe('the command line', () => {
  it('prints the version of package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    const r = await clusterflow(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('exits 2 on a usage error: unknown command, unknown option, missing argument or option', async () => {
    for (const args of [
      ['deploy-everything'],
      ['play', 'site.yml', '-i', 'inv.yml', '--no-such-flag'],
      ['db', 'rejoin', '-f', 'x.yml'],
      ['validate'],
      [],
    ]) {
      const r = await clusterflow(args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/error: |Usage: /);
    }
  });

  it("refuses an unknown play key and a typo'd spec key with exit 2, naming file and key, before any workflow starts", async () => {
    const refused = `${cluster}-refused`;
    const playbook = path.join(dir, 'typo-play.yml');
    writeFileSync(playbook, '- hosts: node1\n  become_usr: root\n  tasks:\n    - command: {cmd: "true"}\n');
    const specFile = path.join(dir, 'typo-spec.yml');
    writeFileSync(
      specFile,
      readFileSync(spec('typo', 'true'), 'utf8')
        .replace(`cluster: ${cluster}`, `cluster: ${refused}`)
        .replace('  key: env:CF_CLI_TEST_KEY', '  key: env:CF_CLI_TEST_KEY\n  retryForHour: 2'),
    );
    // Short timeouts: a refusal answers at once, while a started play would wait for a worker.
    const play = await clusterflow(
      ['play', playbook, '-i', inventory(refused), '--task-queue', settings.taskQueue],
      20_000,
    );
    const run = await clusterflow(
      ['run', 'license-status', '-f', specFile, '--task-queue', settings.taskQueue],
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // visibility is eventually consistent
    const listed = JSON.parse((await cli('list', '--cluster', refused, '--json')).stdout) as {
      workflowId: string;
    }[];
    const client = await connectClient();
    try {
      expect({ code: play.code, stderr: play.stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(/typo-play\.yml.*become_usr/),
      });
      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(/typo-spec\.yml[\s\S]*license\.retryForHour/),
      });
      expect(listed).toEqual([]);
    } finally {
      // If a start got through after all, it must not wait forever for a worker.
      for (const w of listed)
        await client.workflow
          .getHandle(w.workflowId)
          .terminate('test cleanup')
          .catch(() => undefined);
      await client.connection.close();
    }
  }, 90_000);

  it("plays with ansible-playbook's -e (key=value, JSON, @file; above play and host vars) and --skip-tags", async () => {
    const target = `/tmp/${cluster}-extra`;
    const playbook = path.join(dir, 'extra.yml');
    writeFileSync(
      playbook,
      `- hosts: node1
  vars: {release: from-play, build: from-play, note: from-play}
  tasks:
    - copy: {dest: ${target}, content: "{{ release }} {{ build }} {{ note }} {{ workers }}"}
    - name: slow step
      tags: [slow]
      copy: {dest: ${target}-slow, content: ran}
`,
    );
    const varsFile = path.join(dir, 'extra-vars.yml');
    writeFileSync(varsFile, 'workers: 4\nnote: from-file\n');
    onHost('node1', `rm -f ${target} ${target}-slow`);
    await withWorker(settings, async () => {
      const r = await cli(
        'play',
        playbook,
        '-i',
        inventory(`${cluster}-play`, '      release: from-host\n'),
        '-e',
        'release=v9 build="nightly 7"',
        '-e',
        `@${varsFile}`,
        '-e',
        '{"build": 8}',
        '--skip-tags',
        'slow',
        '--json',
      );
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const result = JSON.parse(r.stdout);
      expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
    });
    expect(
      onHost('node1', `cat ${target}; echo; test -e ${target}-slow && echo slow-ran || echo slow-skipped`),
    ).toBe('v9 8 from-file 4\nslow-skipped');
    const bad = await cli('play', playbook, '-i', inventory(`${cluster}-play`), '-e', 'not a pair');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-e "not a pair": "not" is not key=value');
  }, 120_000);
});
