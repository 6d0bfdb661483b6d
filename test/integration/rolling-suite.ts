import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startOperation } from '../../client/connection';
import { buildNodeOperation } from '../../client/nodes';
import { loadPlaybook } from '../../client/play';
import { loadSpec } from '../../client/spec';
import type { LbKind } from '../../common/lb';
import type { PlayResult } from '../../common/play';
import { createLbActivities } from '../../activities/lb';
import { nodeRequestsCommand } from '../../activities/lb/stale-busy';
import { SshPool } from '../../activities/ssh/pool';
import { labFiles, hostAddress, netnsOf, up } from '../../lab/hosts';
import type {
  NodeOutcome,
  RollingInput,
  RollingProgress,
  RollingResult,
} from '../../workflows/node-operations';
import type { rollingMaintenance } from '../../workflows/rolling-maintenance';
import { setupLabLb, LB_CONFIG } from '../fixtures/lb/lab-lb';
import { steadyLoad } from '../fixtures/http-load';
import { labInventory, onHost, startPausedWorker, testSettings, withWorker } from './helpers';

// One suite, run against each load balancer (rolling-haproxy/nginx/apache.test.ts): real LB,
// real app nodes, the workflow through the dev server, traffic through the LB the whole time.

export const APPS = ['app1', 'app2', 'app3'];

/**
 * The LBs the worker-kill and health-gate cases run behind. What they prove (a new worker finishes
 * the run and puts the drained node back; a node failing its gate goes back or, by policy, stays
 * out) is the workflow's, not the LB driver's, whose drain, disable and enable every other case
 * exercises; so the suite runs them behind HAProxy only, and
 * `CLUSTERFLOW_ROLLING_ALL=1 npx jest test/integration/rolling-` behind every LB.
 */
const WORKFLOW_CASES_BEHIND = process.env.CLUSTERFLOW_ROLLING_ALL
  ? ['haproxy', 'nginx', 'apache']
  : ['haproxy'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { onHost };

const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-rolling-'));

/** The maintenance action: a new version and a restart; app nodes named in `unhealthy` break. */
export function actionPlaybook(version: string, extra = ''): string {
  const file = path.join(dir, `action-${version}.yml`);
  writeFileSync(
    file,
    `- hosts: all
  tasks:
    - name: new version
      copy: { content: "${version}\\n", dest: /etc/cfapp/version }
      notify: restart cfapp
${extra}
  handlers:
    - name: restart cfapp
      service: { name: cfapp, state: restarted }
`,
  );
  return file;
}

export function writeSpec(kind: Exclude<LbKind, 'lvs'>, lbHost: string, cluster: string, extra = ''): string {
  const file = path.join(dir, `${cluster}.yml`);
  writeFileSync(
    file,
    `cluster: ${cluster}
inventory: ${labFiles.inventory}
loadBalancer:
  kind: ${kind}
  hosts: ${lbHost}
  backend: app
${kind === 'haproxy' ? '' : `  config: ${LB_CONFIG[kind]}\n`}  pollSeconds: 0.5
nodes:
  hosts: [${APPS.join(', ')}]
  service: cfapp
  port: 8080
  health: { http: { path: /check.txt }, successes: 2, intervalSeconds: 0.5, timeoutSeconds: 15 }
  maintenance:
    serial: 1
    drainTimeoutSeconds: 30
${extra}`,
  );
  return file;
}

export function rollingInput(spec: string, play?: string): RollingInput {
  return buildNodeOperation(loadSpec(spec), 'rolling-maintenance', { play }).input as RollingInput;
}

export async function startRolling(
  client: Client,
  settings: ReturnType<typeof testSettings>,
  input: RollingInput,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof rollingMaintenance>> {
  return startOperation(client, settings, {
    operation: 'rolling-maintenance',
    workflowType: 'rollingMaintenance',
    cluster: input.cluster,
    hosts: input.nodes.map((n) => n.name),
    input,
    summary: 'test',
  }) as Promise<WorkflowHandleWithFirstExecutionRunId<typeof rollingMaintenance>>;
}

/**
 * The workflow's result, or after `ms` an error that says where it stands (status, pending
 * activities with their last failure, the progress query): a hang then explains itself in CI.
 */
export async function resultOrExplain<T>(
  handle: { workflowId: string; result(): Promise<T> } & Parameters<typeof whereItStands>[0],
  ms = 120_000,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    const first = await Promise.race([handle.result(), late]);
    if (first !== 'late') return first;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${handle.workflowId} has no result after ${ms} ms: ${await whereItStands(handle)}`);
}

async function whereItStands(handle: {
  describe: WorkflowHandleWithFirstExecutionRunId['describe'];
  query: (q: string) => Promise<unknown>;
}): Promise<string> {
  const desc = await handle.describe().catch((e: Error) => e);
  const progress = await handle.query('progress').catch((e: Error) => e.message);
  if (desc instanceof Error) return `describe failed: ${desc.message}`;
  const pending = (desc.raw.pendingActivities ?? []).map((a) => ({
    activity: a.activityType?.name,
    state: a.state,
    attempt: a.attempt,
    lastFailure: a.lastFailure?.message,
  }));
  return JSON.stringify({ status: desc.status.name, pending, progress });
}

/**
 * Each node's outcome as expected; when one differs, the error carries every node's reason and
 * sessions left, so a failure in CI says why (a drain timeout, a health gate, an LB refusal).
 */
export function expectOutcomes(result: RollingResult, expected: [string, NodeOutcome][]): void {
  const got = result.nodes.map((n) => [n.node, n.outcome]);
  if (JSON.stringify(got) === JSON.stringify(expected)) return;
  const why = result.nodes.map(
    (n) => `${n.node} ${n.outcome}: ${n.reason ?? '-'} (sessions left ${n.sessionsLeft ?? '-'})`,
  );
  throw new Error(`outcomes ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}\n${why.join('\n')}`);
}

/** Polls the workflow's progress query until `ready` holds. */
export async function waitForProgress(
  handle: { query: (q: string) => Promise<unknown> },
  ready: (p: RollingProgress) => boolean,
  what: string,
): Promise<RollingProgress> {
  for (let i = 0; i < 600; i++) {
    const p = (await handle.query('progress').catch(() => undefined)) as RollingProgress | undefined;
    if (p && ready(p)) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never saw: ${what}`);
}

export async function installApps(settings: ReturnType<typeof testSettings>): Promise<void> {
  // The app may be running from something else (the demo uses the same hosts): usermod refuses a
  // user with running processes, so stop it first; the end of this function starts it again.
  for (const app of APPS) onHost(app, 'systemctl stop cfapp 2>/dev/null; true');
  const input = loadPlaybook(path.join(__dirname, '../fixtures/app/install.yml'), labInventory(), {
    check: false,
    diff: false,
    tags: [],
    forks: 10,
    cluster: 'lab',
    limit: APPS.join(':'),
  });
  const result = await withWorker(settings, async (client) =>
    (
      await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-install/${Date.now()}`,
        args: [input],
      })
    ).result(),
  );
  for (const app of APPS)
    expect((result as PlayResult).recap[app]).toMatchObject({ failed: 0, unreachable: 0 });
  for (const app of APPS) onHost(app, 'rm -f /etc/cfapp/unhealthy; systemctl restart cfapp');
}

/** A cookie that makes the LB send a request to app1 (nginx open source has no cookie stickiness). */
const STICKY: Record<Exclude<LbKind, 'lvs'>, string> = {
  haproxy: 'SERVERID=app1',
  apache: 'ROUTEID=.app1',
  nginx: '',
};

export function rollingSuite(kind: Exclude<LbKind, 'lvs'>, lbHost: string): void {
  const settings = testSettings();
  const cluster = `roll-${kind}-${Date.now().toString(36)}`;
  const lbUrl = () => `http://${hostAddress(lbHost)}/`;
  let spec: string;

  /** How the LB itself lists the members, read straight from it (not through our driver). */
  const memberStates = (): Record<string, string> => {
    const members = APPS.map((name) => ({ name, address: hostAddress(name) }));
    if (kind === 'haproxy') {
      const out = onHost(
        lbHost,
        `echo 'show servers state app' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`,
      );
      return Object.fromEntries(
        out
          .split('\n')
          .filter((l) => /^\d+ app /.test(l))
          .map((l) => l.split(/\s+/))
          // bit 4 only records a `disabled` in the config that the runtime API has since overridden
          .map((f) => [f[3], (Number(f[6]) & ~4) === 0 ? 'ready' : Number(f[6]) & 8 ? 'drain' : 'disabled']),
      );
    }
    if (kind === 'nginx') {
      const conf = onHost(lbHost, `cat ${LB_CONFIG.nginx}`);
      return Object.fromEntries(
        members.map((m) => [
          m.name,
          new RegExp(`server ${m.address}:8080 down;`).test(conf) ? 'disabled' : 'ready',
        ]),
      );
    }
    const html = onHost(lbHost, 'curl -s http://127.0.0.1/balancer-manager');
    return Object.fromEntries(
      members.map((m) => {
        const row = html.split('<tr>').find((r) => r.includes(`>http://${m.address}:8080<`)) ?? '';
        return [m.name, /Dis|Stop/.test(row) ? 'disabled' : /Drn/.test(row) ? 'drain' : 'ready'];
      }),
    );
  };
  const allReady = () => Object.fromEntries(APPS.map((a) => [a, 'ready']));
  const version = (app: string) => onHost(app, 'cat /etc/cfapp/version 2>/dev/null || echo 1');

  beforeAll(async () => {
    await up([lbHost, ...APPS]);
    await installApps(settings);
    setupLabLb(
      kind,
      lbHost,
      APPS.map((name) => ({ name, address: hostAddress(name) })),
    );
    spec = writeSpec(kind, lbHost, cluster);
  });

  afterEach(() => {
    for (const app of APPS) onHost(app, 'rm -f /etc/cfapp/unhealthy');
  });

  it('upgrades every node one at a time behind the LB with no failed request, and waits for a held request', async () => {
    const v = `v${Date.now()}`;
    const input = rollingInput(spec, actionPlaybook(v));
    const load = steadyLoad(lbUrl());
    let held: Promise<Response> | undefined;
    const result = await withWorker(settings, async (client) => {
      // A slow request held on app1 through the LB (its sticky cookie): the drain must wait for it.
      held = fetch(`${lbUrl()}slow?ms=2500`, { headers: { cookie: STICKY[kind] } });
      return (await startRolling(client, settings, input)).result();
    });
    const traffic = await load.stop();
    expect((await held)?.status).toBe(200);
    if (kind !== 'nginx') expect(result.nodes[0].timings.drainMs).toBeGreaterThan(1000);
    expectOutcomes(
      result,
      APPS.map((a) => [a, 'done']),
    );
    expect(result.aborted).toBeUndefined();
    for (const app of APPS) expect(version(app)).toBe(v);
    expect(memberStates()).toEqual(allReady());
    expect(traffic.failures).toEqual([]);
    expect(traffic.requests).toBeGreaterThan(100);
    // every node served traffic during the run
    for (const app of APPS) expect(traffic.byNode[app]).toBeGreaterThan(0);
    for (const n of result.nodes) {
      expect(n.changes.join('\n')).toMatch(new RegExp(`drain on ${lbHost}`));
      expect(n.changes.join('\n')).toMatch(new RegExp(`ready on ${lbHost}`));
    }
  });

  if (WORKFLOW_CASES_BEHIND.includes(kind))
    it('puts a node that fails its health gate back and goes on within the failure budget; leave-drained keeps it out and says so', async () => {
      const breakApp2 = actionPlaybook(`b${Date.now()}`).replace(/\.yml$/, '-break.yml');
      writeFileSync(
        breakApp2,
        `- hosts: all\n  tasks:\n    - name: touch\n      file: { path: /etc/cfapp/touched, state: touch }\n- hosts: app2\n  tasks:\n    - name: break app2\n      file: { path: /etc/cfapp/unhealthy, state: touch }\n`,
      );
      const input = rollingInput(spec, breakApp2);
      input.settings.maintenance.maxFailPercentage = 50;
      input.settings.health.timeoutSeconds = 3;
      const result = await withWorker(settings, async (client) =>
        (await startRolling(client, settings, input)).result(),
      );
      expectOutcomes(result, [
        ['app1', 'done'],
        ['app2', 'failed'],
        ['app3', 'done'],
      ]);
      expect(result.nodes[1].reason).toMatch(/health gate: GET .*check.txt: HTTP 503/);
      expect(memberStates().app2).toBe('ready'); // policy enable: back in; the LB's own checks keep users off it

      onHost('app2', 'rm -f /etc/cfapp/unhealthy'); // healthy before, broken by the action again
      input.settings.maintenance.onFailure = 'leave-drained';
      input.settings.maintenance.maxFailPercentage = 0;
      const second = await withWorker(settings, async (client) => {
        const handle = await startRolling(client, settings, input);
        const r = await handle.result();
        const desc = await handle.describe();
        return { r, phase: desc.searchAttributes?.Phase };
      });
      expectOutcomes(second.r, [
        ['app1', 'done'],
        ['app2', 'left-drained'],
        ['app3', 'not-run'],
      ]);
      expect(second.r.leftDrained).toEqual(['app2']);
      expect(second.r.aborted).toMatch(/over the failure budget/);
      expect(String(second.phase)).toMatch(/LEFT DRAINED: app2/);
      expect(memberStates()).toEqual({ ...allReady(), app2: 'disabled' });

      // the operator repairs app2 and runs again: it comes back
      onHost('app2', 'rm -f /etc/cfapp/unhealthy');
      const third = await withWorker(settings, async (client) =>
        (await startRolling(client, settings, rollingInput(spec))).result(),
      );
      expect(third.nodes.every((n) => n.outcome === 'done')).toBe(true);
      expect(memberStates()).toEqual(allReady());
    });

  it('abort finishes the node in hand and leaves no node out of the LB', async () => {
    const slowAction = path.join(dir, 'slow.yml');
    writeFileSync(
      slowAction,
      `- hosts: all\n  tasks:\n    - name: slow work\n      command: { cmd: sleep 2 }\n`,
    );
    const input = rollingInput(spec, slowAction);
    const result = await withWorker(settings, async (client) => {
      const handle = await startRolling(client, settings, input);
      await waitForProgress(
        handle,
        (p) => p.nodes.some((n) => n.node === 'app1' && n.phase === 'maintenance'),
        'app1 in maintenance',
      );
      await handle.signal('abort', 'test');
      return resultOrExplain(handle);
    });
    expectOutcomes(result, [
      ['app1', 'done'],
      ['app2', 'not-run'],
      ['app3', 'not-run'],
    ]);
    expect(result.aborted).toBe('aborted by operator');
    expect(memberStates()).toEqual(allReady());
  });

  if (WORKFLOW_CASES_BEHIND.includes(kind)) {
    it('a worker killed with SIGKILL while a node is drained is replaced and the node goes back into the LB', async () => {
      const v = `k${Date.now()}`;
      const input = rollingInput(spec, actionPlaybook(v));
      input.nodes = input.nodes.slice(0, 2);
      // the action held before its first task: app1 is drained and disabled when the worker dies
      const child = await startPausedWorker(settings, 'runTask');
      try {
        const { Client: TemporalClient, Connection } = await import('@temporalio/client');
        const connection = await Connection.connect({ address: settings.address });
        const client = new TemporalClient({ connection, namespace: settings.namespace });
        const handle = await startRolling(client, settings, input);
        for (let i = 0; ; i++) {
          const action = client.workflow.getHandle(`${handle.workflowId}/app1/action-1`);
          const pending = (await action.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
          if (pending.some((a) => a.activityType?.name === 'runTask' && Number(a.state) === 2)) break;
          if (i > 600) throw new Error(`the action never started: ${await whereItStands(handle)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(memberStates().app1).not.toBe('ready');
        child.kill('SIGKILL');
        await new Promise((r) => child.on('exit', r));
        const result = await withWorker(settings, () => resultOrExplain(handle));
        await connection.close();
        expectOutcomes(result, [
          ['app1', 'done'],
          ['app2', 'done'],
        ]);
        expect(version('app1')).toBe(v);
        expect(memberStates()).toEqual(allReady());
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }

  if (kind === 'haproxy') {
    it('a HAProxy reload in the middle of a drain does not put the node back: the drain is re-asserted', async () => {
      const input = rollingInput(spec);
      input.nodes = input.nodes.slice(0, 1);
      let held: Promise<Response> | undefined;
      const result = await withWorker(settings, async (client) => {
        // a request held on app1 through the LB keeps the drain waiting
        held = fetch(`${lbUrl()}slow?ms=5000`, { headers: { cookie: STICKY.haproxy } });
        await new Promise((r) => setTimeout(r, 300));
        const handle = await startRolling(client, settings, input);
        await waitForProgress(
          handle,
          (p) => p.nodes[0]?.phase === 'draining' && (p.nodes[0].sessionsLeft ?? 0) > 0,
          'app1 draining with a session',
        );
        expect(memberStates().app1).toBe('drain');
        onHost(lbHost, 'systemctl reload haproxy');
        return handle.result();
      });
      expect((await held)?.status).toBe(200);
      expect(result.nodes[0].outcome).toBe('done');
      expect(result.nodes[0].changes.join('\n')).toMatch(/drain re-asserted on lb/);
      expect(memberStates()).toEqual(allReady());
    });
  }

  if (kind === 'apache') {
    it("takes Apache's Busy count as stale when the node is in no request behind it, and believes one the node is serving", async () => {
      const { loadBalancer: lb, nodes } = rollingInput(spec);
      if (!lb) throw new Error('the spec has a load balancer');
      const app3 = nodes[2];
      const pool = new SshPool();
      const lbActs = createLbActivities(pool, () => ({}));
      const poll = () => lbActs.drainPoll({ lb, member: app3.member, node: app3.target });
      const onNode = () => Number(onHost('app3', nodeRequestsCommand(8080)));
      const busy = async () =>
        (await lbActs.lbMemberViews({ lb, member: app3.member }))[0].status?.sessions ?? 0;
      const blackhole = ['-n', netnsOf('app3'), 'route', '%s', 'blackhole', `${hostAddress(lbHost)}/32`];
      const route = (op: 'add' | 'del') =>
        execFileSync(
          'ip',
          blackhole.map((a) => (a === '%s' ? op : a)),
        );
      const lost = new AbortController();
      let routed = false;
      try {
        // no request of earlier tests still on app3
        for (let i = 0; onNode() > 0 || (await busy()) > 0; i++) {
          if (i > 120) throw new Error('app3 kept a request or a Busy count from earlier tests');
          await sleep(500);
        }
        // a held request: the count has its connection on the node, and is believed
        const held = fetch(`${lbUrl()}slow?ms=3000`, {
          headers: { cookie: STICKY.apache.replace('app1', 'app3') },
        });
        await sleep(700);
        const believed = await poll();
        expect(believed.stale).toEqual([]);
        expect(believed.total).toBeGreaterThan(0);
        expect((await held).status).toBe(200);

        // Apache counts a request to app3 that never reaches it: app3 drops its keep-alive
        // connections (a restart) and its answers to the LB go nowhere, so Apache is still
        // connecting — the same view a stuck counter gives: Busy 1, nothing on the node
        onHost(
          'app3',
          'systemctl restart cfapp && until curl -fs -o /dev/null localhost:8080/check.txt; do sleep 0.1; done',
        );
        route('add');
        routed = true;
        void fetch(lbUrl(), {
          headers: { cookie: STICKY.apache.replace('app1', 'app3') },
          signal: lost.signal,
        }).catch(() => undefined);
        for (let i = 0; (await busy()) === 0; i++) {
          if (i > 40) throw new Error('Apache never counted the request to app3');
          await sleep(250);
        }
        const stale = await poll();
        expect(stale.stale).toEqual([{ lb: lbHost, counted: expect.any(Number) }]);
        expect(stale.sessions[lbHost]).toBe(0);
        expect(stale.total).toBe(0);
      } finally {
        if (routed) route('del');
        lost.abort();
        await lbActs.lbSetState({ lb, member: app3.member, state: 'ready' });
        await pool.close();
      }
      expect(memberStates()).toEqual(allReady());
    });
  }
}
