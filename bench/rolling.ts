/**
 * Rolling maintenance benchmark on real lab hosts, through Temporal:
 *   lb        for HAProxy, nginx and Apache in turn: 4 app nodes behind the LB, a steady HTTP load
 *             through it (4 clients, sticky cookies, keep-alive) during a rolling run whose action
 *             bumps the version and restarts the app. Requests and failed requests; per node the
 *             engine overhead, from the workflow history: wall time minus drain polls and waits,
 *             the action (child workflow) and health checks; LB changes shown apart.
 *   scale     50 nodes behind one HAProxy, no action: history events and bytes per node, worker
 *             memory (RSS of this process, which runs the worker).
 *   npm run bench:rolling [-- --only lb,scale] [--kinds haproxy,nginx,apache]
 * Writes bench/results/rolling.json. Figures are printed as they come.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startOperation, temporalSettings } from '../client/connection';
import { loadInventory } from '../client/inventory';
import { buildNodeOperation } from '../client/nodes';
import { loadPlaybook } from '../client/play';
import { loadSpec } from '../client/spec';
import type { LbKind } from '../common/lb';
import { startDevServer, stopDevServer } from '../lab/devserver';
import { hostAddress, labFiles, up } from '../lab/hosts';
import { REPO_ROOT } from '../lab/paths';
import { startBenchWorker } from './worker';
import type { RollingInput, RollingResult } from '../workflows/node-operations';
import { steadyLoad } from '../test/fixtures/http-load';
import { LB_CONFIG, runOnLb, setupLabLb } from '../test/fixtures/lb/lab-lb';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ONLY = arg('only', 'lb,scale').split(',');
const KINDS = arg('kinds', 'haproxy,nginx,apache').split(',') as Exclude<LbKind, 'lvs'>[];
const APPS = ['rapp1', 'rapp2', 'rapp3', 'rapp4'];
const LBS: Record<Exclude<LbKind, 'lvs'>, string> = { haproxy: 'rlb1', nginx: 'rlb2', apache: 'rlb3' };
const SCALE = Array.from({ length: 50 }, (_, i) => `rn${i + 1}`);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-bench-rolling-'));

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

/** Milliseconds of a history spent in each kind of wait, from the events' own timestamps. */
function historyTimes(history: History) {
  const events = history.events ?? [];
  const at = (e: (typeof events)[number]) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const scheduled = new Map<string, { type: string; at: number }>();
  const timers = new Map<string, number>();
  const children = new Map<string, number>();
  const spent: Record<string, number> = {};
  const add = (k: string, ms: number) => (spent[k] = (spent[k] ?? 0) + ms);
  let wft = 0;
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes)
      scheduled.set(id, {
        type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?',
        at: at(e),
      });
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (done) {
      const s = scheduled.get(String(done.scheduledEventId));
      if (s) add(s.type, at(e) - s.at);
    }
    if (e.activityTaskStartedEventAttributes) {
      const s = scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (s) add('(activity queue)', at(e) - s.at);
    }
    if (e.workflowTaskScheduledEventAttributes) wft = at(e);
    if (e.workflowTaskCompletedEventAttributes) add('(workflow tasks)', at(e) - wft);
    if (e.timerStartedEventAttributes) timers.set(e.timerStartedEventAttributes.timerId ?? '', at(e));
    if (e.timerFiredEventAttributes)
      add('timer', at(e) - (timers.get(e.timerFiredEventAttributes.timerId ?? '') ?? at(e)));
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) children.set(id, at(e));
    const child = e.childWorkflowExecutionCompletedEventAttributes;
    if (child && /^play/.test(child.workflowType?.name ?? ''))
      add('action', at(e) - (children.get(String(child.initiatedEventId)) ?? at(e)));
  }
  const wall = events.length ? at(events[events.length - 1]) - at(events[0]) : 0;
  return { wall, spent, events: events.length };
}

async function main(): Promise<void> {
  const settings = temporalSettings({ taskQueue: `bench-rolling-${process.pid}` });
  const server = await startDevServer();
  const { client, stop: stopWorker } = await startBenchWorker(settings);
  const results: Record<string, unknown> = { measuredAt: new Date().toISOString() };
  const runRolling = async (input: RollingInput) => {
    const handle = await startOperation(client, settings, {
      operation: 'rolling-maintenance',
      workflowType: 'rollingMaintenance',
      cluster: input.cluster,
      hosts: input.nodes.map((n) => n.name),
      input,
      summary: 'benchmark',
    });
    const result = (await handle.result()) as RollingResult;
    return { result, history: await handle.fetchHistory() };
  };
  try {
    if (ONLY.includes('lb')) {
      await up([...Object.values(LBS), ...APPS]);
      const install = loadPlaybook(
        path.join(REPO_ROOT, 'test/fixtures/app/install.yml'),
        loadInventory(labFiles.inventory),
        {
          check: false,
          diff: false,
          tags: [],
          forks: 10,
          cluster: 'bench',
          limit: APPS.join(':'),
        },
      );
      await (
        await client.workflow.start('play', {
          taskQueue: settings.taskQueue,
          workflowId: `bench-install/${Date.now()}`,
          args: [install],
        })
      ).result();
      const perKind: Record<string, unknown> = {};
      for (const kind of KINDS) {
        const lb = LBS[kind];
        setupLabLb(
          kind,
          lb,
          APPS.map((name) => ({ name, address: hostAddress(name) })),
        );
        const spec = path.join(scratch, `${kind}.yml`);
        writeFileSync(
          spec,
          `cluster: bench-${kind}\ninventory: ${labFiles.inventory}\nloadBalancer: { kind: ${kind}, hosts: ${lb}, backend: app${kind === 'haproxy' ? '' : `, config: ${LB_CONFIG[kind]}`}, pollSeconds: 0.5 }\nnodes:\n  hosts: [${APPS.join(', ')}]\n  service: cfapp\n  health: { http: { path: /check.txt }, successes: 2, intervalSeconds: 0.5 }\n  maintenance: { serial: 1 }\n`,
        );
        const action = path.join(scratch, 'action.yml');
        writeFileSync(
          action,
          `- hosts: all\n  tasks:\n    - name: new version\n      copy: { content: "${Date.now()}\\n", dest: /etc/cfapp/version }\n      notify: restart\n  handlers:\n    - name: restart\n      service: { name: cfapp, state: restarted }\n`,
        );
        const input = buildNodeOperation(loadSpec(spec), 'rolling-maintenance', { play: action })
          .input as RollingInput;
        const load = steadyLoad(`http://${hostAddress(lb)}/`);
        await new Promise((r) => setTimeout(r, 1000));
        const { result, history } = await runRolling(input);
        const traffic = await load.stop();
        const t = historyTimes(history);
        const s = t.spent;
        // Engine overhead: the part of the wall time in no activity, timer or child workflow,
        // i.e. Temporal and workflow code between the steps (the run is sequential: serial 1).
        const inSteps = Object.entries(s)
          .filter(([k]) => !k.startsWith('('))
          .reduce((a, [, v]) => a + v, 0);
        const n = input.nodes.length;
        const lbMs = result.nodes.reduce((a, x) => a + x.timings.lbMs, 0);
        const figures = {
          nodes: n,
          outcomes: result.nodes.map((x) => x.outcome),
          requests: traffic.requests,
          failed: traffic.failed,
          resentOnClosedKeepAlive: traffic.resent,
          failures: traffic.failures,
          wallMs: t.wall,
          msPerNode: Math.round(t.wall / n),
          engineOverheadMsPerNode: Math.round((t.wall - inSteps) / n),
          lbChangesMsPerNode: Math.round(lbMs / n),
          drainMsPerNode: Math.round(result.nodes.reduce((a, x) => a + x.timings.drainMs, 0) / n),
          actionMsPerNode: Math.round(result.nodes.reduce((a, x) => a + x.timings.actionMs, 0) / n),
          healthMsPerNode: Math.round(result.nodes.reduce((a, x) => a + x.timings.healthMs, 0) / n),
          historyEvents: t.events,
          spentMs: s,
        };
        perKind[kind] = figures;
        console.log(`${kind}: ${JSON.stringify(figures)}`);
        runOnLb(
          lb,
          kind === 'haproxy'
            ? 'systemctl stop haproxy'
            : kind === 'nginx'
              ? 'systemctl stop nginx'
              : 'systemctl stop apache2',
        );
      }
      results.lb = perKind;
    }
    if (ONLY.includes('scale')) {
      await up(['rlb1', ...SCALE]);
      // 50 members without HTTP checks: the nodes run no app, their SSH port is the health check.
      const members = SCALE.map((name) => `    server ${name} ${hostAddress(name)}:22`).join('\n');
      runOnLb(
        'rlb1',
        `cat > /etc/haproxy/haproxy.cfg <<'EOF'\nglobal\n    stats socket /run/haproxy/admin.sock mode 660 level admin\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\nbackend app\n${members}\nEOF\nsystemctl restart haproxy`,
      );
      const spec = path.join(scratch, 'scale.yml');
      writeFileSync(
        spec,
        `cluster: bench-scale\ninventory: ${labFiles.inventory}\nloadBalancer: { kind: haproxy, hosts: rlb1, backend: app, pollSeconds: 0.5 }\nnodes:\n  hosts: [${SCALE.join(', ')}]\n  service: ssh\n  port: 22\n  health: { tcp: {}, successes: 1, intervalSeconds: 0.2 }\n  maintenance: { serial: 10 }\n`,
      );
      const input = buildNodeOperation(loadSpec(spec), 'rolling-maintenance').input as RollingInput;
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
      const rssBefore = process.memoryUsage().rss;
      const { result, history } = await runRolling(input);
      clearInterval(sampler);
      const t = historyTimes(history);
      const bytes = Buffer.byteLength(JSON.stringify(history));
      const figures = {
        nodes: SCALE.length,
        serial: 10,
        done: result.nodes.filter((x) => x.outcome === 'done').length,
        wallMs: t.wall,
        msPerNode: Math.round(t.wall / SCALE.length),
        historyEvents: t.events,
        historyEventsPerNode: Math.round((t.events / SCALE.length) * 10) / 10,
        historyBytes: bytes,
        historyBytesPerNode: Math.round(bytes / SCALE.length),
        workerRssBeforeMb: Math.round(rssBefore / 1048576),
        workerRssPeakMb: Math.round(peakRss / 1048576),
      };
      results.scale = figures;
      console.log(`scale: ${JSON.stringify(figures)}`);
      runOnLb('rlb1', 'systemctl stop haproxy');
    }
  } finally {
    await stopWorker();
    if (server.started) await stopDevServer();
  }
  if (ONLY.length < 2 || KINDS.length < 3) {
    console.log(JSON.stringify(results, null, 2));
    return; // a partial run does not replace the recorded figures
  }
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench/results/rolling.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
