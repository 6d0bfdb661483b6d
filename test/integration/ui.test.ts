import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Page } from 'playwright-core';
import { devServerStatus } from '../../lab/devserver';
import { hostAddress, labFiles, up } from '../../lab/hosts';
import { REPO_ROOT } from '../../lab/paths';
import type { RollingResult } from '../../workflows/node-operations';
import { setupLabLb } from '../fixtures/lb/lab-lb';
import {
  launchChromium,
  listShows,
  showsPendingActivity,
  showsSearchAttributes,
  showsUserMetadata,
  showsWorkflow,
} from './browser';
import { onHost, testSettings, withWorker } from './helpers';
import { APPS, installApps, waitForProgress } from './rolling-suite';

// What an operator sees in the Temporal Web UI while a rolling maintenance runs: a real run behind
// HAProxy on lab hosts, started with the CLI, held at app1's health gate (the action breaks app1
// until the test repairs it), looked at with headless chromium through the link the CLI printed.
// Screenshots go to artifacts/ui/ (git-ignored).

const settings = testSettings();
const LB = 'lb1';
const cluster = `ui-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-ui-'));
const shots = path.join(REPO_ROOT, 'artifacts', 'ui');

const spec = path.join(dir, 'spec.yml');
writeFileSync(
  spec,
  `cluster: ${cluster}
inventory: ${labFiles.inventory}
loadBalancer:
  kind: haproxy
  hosts: ${LB}
  backend: app
  pollSeconds: 0.5
nodes:
  hosts: [${APPS.join(', ')}]
  service: cfapp
  port: 8080
  # the gate waits for app1 as long as the test looks at the UI; the test repairs app1 long before
  health: { http: { path: /check.txt }, successes: 2, intervalSeconds: 0.5, timeoutSeconds: 300 }
  maintenance:
    serial: 1
    drainTimeoutSeconds: 30
`,
);
const action = path.join(dir, 'break-app1.yml');
writeFileSync(
  action,
  `- hosts: app1
  tasks:
    - name: app1 answers 503 on /check.txt until the test repairs it
      file: { path: /etc/cfapp/unhealthy, state: touch }
`,
);

/** What the UI must show while app1 waits at its health gate. */
const PHASE = `batch 1/${APPS.length}: app1 health-gate`;
const GATE = { type: 'putBack', summary: 'app1: health gate, enable in every LB' };

function cli(uiUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/clusterflow.js'), ...args, '--task-queue', settings.taskQueue],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: settings.address, CLUSTERFLOW_UI_URL: uiUrl },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Until Temporal itself (not only the worker's query) has the Phase and the pending gate. */
async function heldAtGate(client: Client, workflowId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await client.workflow.getHandle(workflowId).describe();
    const pending = d.raw.pendingActivities ?? [];
    if (String(d.searchAttributes.Phase) === PHASE && pending.some((a) => a.activityType?.name === GATE.type))
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${workflowId}: never saw Phase "${PHASE}" with a pending ${GATE.type}`);
}

describe('the Temporal Web UI', () => {
  beforeAll(async () => {
    await up([LB, ...APPS]);
    await installApps(settings);
    setupLabLb(
      'haproxy',
      LB,
      APPS.map((name) => ({ name, address: hostAddress(name) })),
    );
    mkdirSync(shots, { recursive: true });
  });

  afterAll(() => {
    for (const app of APPS) onHost(app, 'rm -f /etc/cfapp/unhealthy');
  });

  it('shows a running rolling maintenance: the workflow, its search attributes, the pending health gate of app1 and the per-node progress', async () => {
    const { uiUrl } = await devServerStatus();
    const browser = await launchChromium();
    try {
      const result = await withWorker(settings, async (client) => {
        const started = await cli(
          uiUrl,
          'run',
          'rolling-maintenance',
          '-f',
          spec,
          '--play',
          action,
          '--json',
        );
        expect(started.code).toBe(0);
        const { workflowId, link } = JSON.parse(started.stdout) as { workflowId: string; link: string };
        expect(link.startsWith(`${uiUrl}/namespaces/`)).toBe(true);
        expect(link).toMatch(/\/history$/);
        const handle = client.workflow.getHandle(workflowId);

        // Whatever the UI shows, app1 is repaired and the run is awaited, so no node stays out of the LB.
        let failure: unknown;
        let page: Page | undefined;
        try {
          await waitForProgress(
            handle,
            (p) => p.nodes[0]?.phase === 'health-gate',
            'app1 at its health gate',
          );
          await heldAtGate(client, workflowId);

          page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
          page.setDefaultTimeout(20_000);
          await showsWorkflow(page, link, {
            workflowId,
            workflowType: 'rollingMaintenance',
            status: 'Running',
          });
          await showsSearchAttributes(page, {
            ClusterName: cluster,
            Operation: 'rolling-maintenance',
            TargetHosts: APPS,
            Phase: PHASE,
          });
          await showsPendingActivity(page, GATE); // ends on the History tab, its events loaded
          await page.screenshot({ path: path.join(shots, 'rolling-maintenance.png'), fullPage: true });
          await showsUserMetadata(page, {
            summary: `rolling maintenance of ${APPS.length} node(s) behind haproxy running break-app1.yml`,
            eventSummary: GATE.summary,
            currentDetailsRow: ['app1', '1', 'health-gate'],
          });
          await page.screenshot({
            path: path.join(shots, 'rolling-maintenance-details.png'),
            fullPage: true,
          });
          await listShows(
            page,
            { uiUrl, namespace: settings.namespace },
            `ClusterName = "${cluster}" AND Operation = "rolling-maintenance" AND ExecutionStatus = "Running"`,
            workflowId,
          );
          await page.screenshot({ path: path.join(shots, 'rolling-maintenance-list.png'), fullPage: true });
        } catch (err) {
          failure = err;
          // what the page showed when an expectation failed
          await page
            ?.screenshot({ path: path.join(shots, 'rolling-maintenance-failed.png'), fullPage: true })
            .catch(() => undefined);
        } finally {
          onHost('app1', 'rm -f /etc/cfapp/unhealthy');
        }
        const r = (await handle.result()) as RollingResult;
        if (failure) throw failure;
        return r;
      });
      expect(result.nodes.map((n) => [n.node, n.outcome])).toEqual(APPS.map((a) => [a, 'done']));
      expect(result.leftDrained).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
