import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { labFiles } from '../../lab/hosts';
import type { RollingResult } from '../../workflows/node-operations';
import type { ScheduleSummary } from '../../client/schedule';
import { testSettings, withWorker } from './helpers';

// `clusterflow schedule ...` as an operator types it, against the dev server: a Sunday-night
// rolling maintenance in Berlin time, paused with a note, triggered by hand, deleted.

const settings = testSettings();
const cluster = `sched-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-schedule-'));
const spec = path.join(dir, 'spec.yml');
writeFileSync(
  spec,
  `cluster: ${cluster}
inventory: ${labFiles.inventory}
nodes:
  hosts: [node1, node2]
  service: ssh
  port: 22
  health: { tcp: {}, successes: 1, intervalSeconds: 0.2, timeoutSeconds: 5 }
`,
);
const id = `rolling-maintenance/${cluster}`;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/clusterflow.js', ...args, '--task-queue', settings.taskQueue], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TEMPORAL_ADDRESS: settings.address },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => {
  cli('schedule', 'delete', id);
});

describe('clusterflow schedule', () => {
  it('creates a rolling maintenance schedule with the cron line in its time zone, skip-overlap and pause-on-failure', async () => {
    const created = cli(
      'schedule',
      'create',
      'rolling-maintenance',
      '-f',
      spec,
      '--cron',
      '0 3 * * SUN',
      '--timezone',
      'Europe/Berlin',
      '--note',
      'weekly patching',
      '--json',
    );
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const summary = JSON.parse(created.stdout) as ScheduleSummary;
    expect(summary).toMatchObject({
      id,
      operation: 'rolling-maintenance',
      cluster,
      paused: false,
      note: 'weekly patching',
      cron: '0 3 * * SUN',
      timezone: 'Europe/Berlin',
    });
    // the next run is a Sunday at 03:00 Berlin time
    const next = new Date(summary.next as string);
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }).format(next);
    expect(berlin).toBe('Sun 03:00');

    const { Client, Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: settings.address });
    const d = await new Client({ connection }).schedule.getHandle(id).describe();
    expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(d.policies.pauseOnFailure).toBe(true);
    expect(d.policies.catchupWindow).toBe(3_600_000);
    await connection.close();

    expect(cli('schedule', 'list').stdout).toContain(id);
  });

  it('pauses and unpauses with a note, and describe shows it', () => {
    expect(cli('schedule', 'pause', id, '--note', 'change freeze').status).toBe(0);
    let d = JSON.parse(cli('schedule', 'describe', id, '--json').stdout) as ScheduleSummary;
    expect(d).toMatchObject({ paused: true, note: 'change freeze' });
    expect(cli('schedule', 'unpause', id, '--note', 'freeze over').status).toBe(0);
    d = JSON.parse(cli('schedule', 'describe', id, '--json').stdout) as ScheduleSummary;
    expect(d).toMatchObject({ paused: false, note: 'freeze over' });
  });

  it('triggers a run now that a worker completes', async () => {
    expect(cli('schedule', 'trigger', id).status).toBe(0);
    let recent: ScheduleSummary['recent'] = [];
    for (let i = 0; i < 100 && !recent.length; i++) {
      recent = (JSON.parse(cli('schedule', 'describe', id, '--json').stdout) as ScheduleSummary).recent;
      if (!recent.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recent[0].workflowId).toMatch(new RegExp(`^${id}-`));
    const result = (await withWorker(settings, (client) =>
      client.workflow.getHandle(recent[0].workflowId).result(),
    )) as RollingResult;
    expect(result.nodes.map((n) => `${n.node}:${n.outcome}`)).toEqual(['node1:done', 'node2:done']);
  });

  it('refuses a bad time zone and an unknown operation as bad input, then deletes', () => {
    const tz = cli(
      'schedule',
      'create',
      'rolling-maintenance',
      '-f',
      spec,
      '--cron',
      '0 3 * * SUN',
      '--timezone',
      'Mars/Olympus',
    );
    expect(tz.status).toBe(2);
    expect(tz.stderr).toMatch(/--timezone: "Mars\/Olympus" is not an IANA time zone/);
    const op = cli('schedule', 'create', 'db-failover', '-f', spec, '--cron', '0 3 * * SUN');
    expect(op.status).toBe(2);
    expect(cli('schedule', 'delete', id).status).toBe(0);
    expect(cli('schedule', 'list').stdout).not.toContain(id);
  });
});
