import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startOperation } from '../../client/connection';
import { buildLicenseOperation, type LicenseOperation } from '../../client/license';
import { loadSpec } from '../../client/spec';
import { down, labFiles, up } from '../../lab/hosts';
import { CFAPP_LICENSE_COMMANDS, installLicenseTool, licenseService } from '../fixtures/license/service';
import type { LicenseResult } from '../../workflows/license';
import { historyText, onHost, startPausedWorker, testSettings, withWorker } from './helpers';

// license-activation, -status and -deactivate through the dev server on 20 lab nodes against a real
// licensing service (test/fixtures/license/licsrv.py, on the lab bridge). The service is stopped for
// 30 s in the middle of a run (several backed-off retries of every waiting node, across a worker
// restart) and the worker is SIGKILLed once; afterwards every node is active,
// seats used == nodes, no node was activated twice, and no history holds the key.

const OUTAGE_MS = 30_000;
const NODES = Array.from({ length: 20 }, (_, i) => `lic${String(i + 1).padStart(2, '0')}`);
const HTTP_NODES = NODES.slice(0, 4);
const settings = testSettings();
const cluster = `license-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-license-'));
// The keys: only the worker's environment holds them; the spec names them.
const KEY = `CFAPP-${randomBytes(12).toString('hex')}`;
const HTTP_KEY = `CFAPP-HTTP-${randomBytes(12).toString('hex')}`;
process.env.CF_TEST_LICENSE_KEY = KEY;
process.env.CF_TEST_HTTP_LICENSE_KEY = HTTP_KEY;
const licensing = licenseService(dir, { [KEY]: NODES.length, [HTTP_KEY]: 3 });
const seats = (key: string) => licensing.seats(key);
const SERVICE = licensing.url;

function spec(name: string, body: string): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, `cluster: ${cluster}\ninventory: ${labFiles.inventory}\nlicense:\n${body}`);
  return file;
}
const commandSpec = spec(
  'command',
  `  hosts: [${NODES.join(', ')}]
  driver: command
  command:
    ${CFAPP_LICENSE_COMMANDS}
  key: env:CF_TEST_LICENSE_KEY
  concurrency: 5
  expiryWarningDays: 30
  maxRetryIntervalSeconds: 5
`,
);
const httpSpec = (from: 'node' | 'worker') =>
  spec(
    `http-${from}`,
    `  hosts: [${HTTP_NODES.join(', ')}]
  driver: http
  http: { endpoint: '${SERVICE}', from: ${from} }
  key: env:CF_TEST_HTTP_LICENSE_KEY
  concurrency: 4
  expiryWarningDays: 5000
  retryForHours: 0.01
`,
  );

function start(client: Client, operation: LicenseOperation, file: string, force = false) {
  return startOperation(client, settings, buildLicenseOperation(loadSpec(file), operation, { force }));
}
const run = (operation: LicenseOperation, file: string) =>
  withWorker(
    settings,
    async (client) => (await start(client, operation, file)).result() as Promise<LicenseResult>,
  );

beforeAll(async () => {
  licensing.start();
  await up(NODES);
  installLicenseTool(NODES, SERVICE);
}, 180_000);

afterAll(async () => {
  licensing.stop();
  // The run leaves the machine as it found it; CLUSTERFLOW_KEEP_STACK keeps the hosts for the next.
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(NODES);
}, 180_000);

describe('license-activation with the command driver on 20 nodes', () => {
  it('survives a 30 s licensing outage and a killed worker: every node active once, seats == nodes, no key in history', async () => {
    const started = Date.now();
    let worker = await startPausedWorker(settings, '');
    const { client, close } = await clientFor();
    try {
      const handle = await start(client, 'license-activation', commandSpec);
      // Some nodes are active, the rest are not, when the service goes away.
      while ((await seats(KEY)).used < 5) await new Promise((r) => setTimeout(r, 100));
      licensing.stop();
      const outage = Date.now();
      await new Promise((r) => setTimeout(r, 10_000));
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      worker = await startPausedWorker(settings, '');
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - outage)));
      licensing.start();
      const result = (await handle.result()) as LicenseResult;
      console.log(
        `license-activation of ${NODES.length} nodes with a ${OUTAGE_MS / 1000} s outage and a worker kill: ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );

      expect(result.ok).toBe(true);
      expect(result.nodes.map((n) => n.node).sort()).toEqual(NODES);
      for (const n of result.nodes) {
        expect(['activated', 'already-active']).toContain(n.outcome);
        expect(n.expires).toBe('2027-12-31');
      }
      const s = await seats(KEY);
      const machineIds = NODES.map((n) => onHost(n, 'cat /etc/machine-id')).sort();
      expect(s.used).toBe(NODES.length);
      expect([...s.fingerprints].sort()).toEqual(machineIds);
      // The service counted every activate request it got: one per node, none twice.
      expect(Object.keys(s.activations).sort()).toEqual(machineIds);
      expect(Object.values(s.activations).every((c) => c === 1)).toBe(true);

      const text = await historyText(client, handle.workflowId);
      expect(text).toContain('env:CF_TEST_LICENSE_KEY'); // the search does see the inputs...
      expect(text).not.toContain(KEY); // ...and the key is not among them
      // the tool kept the key in a root-only file, never anywhere a non-root user can read
      expect(onHost(NODES[0], 'stat -c %a /etc/cfapp/license.key')).toBe('600');
    } finally {
      worker.kill('SIGKILL');
      await close();
    }
  }, 600_000);

  it('changes nothing when run again: every node already active, no activate request sent', async () => {
    const before = await seats(KEY);
    const result = await run('license-activation', commandSpec);
    expect(result.nodes.every((n) => n.outcome === 'already-active')).toBe(true);
    expect(result.changed).toBe(false);
    expect((await seats(KEY)).activations).toEqual(before.activations);
  });

  it('license-status reports each node active with its expiry, and warns inside the threshold', async () => {
    const ok = await run('license-status', commandSpec);
    expect(ok.ok).toBe(true);
    expect(ok.nodes.every((n) => n.outcome === 'active' && n.daysLeft! > 30 && !n.warning)).toBe(true);
    const warnSpec = path.join(dir, 'warn.yml');
    writeFileSync(
      warnSpec,
      readFileSync(commandSpec, 'utf8').replace('expiryWarningDays: 30', 'expiryWarningDays: 5000'),
    );
    const warned = await run('license-status', warnSpec);
    expect(warned.ok).toBe(false);
    expect(warned.nodes[0].warning).toMatch(/^expires in \d+ day\(s\)$/);
  });

  it('frees every seat with license-deactivate, and activates all 20 again with the service up', async () => {
    const timed = async (op: LicenseOperation) => {
      const t = Date.now();
      const r = await run(op, commandSpec);
      console.log(
        `${op} of ${NODES.length} nodes (command driver, concurrency 5): ${((Date.now() - t) / 1000).toFixed(1)} s`,
      );
      return r;
    };
    const off = await timed('license-deactivate');
    expect(off.nodes.every((n) => n.outcome === 'deactivated')).toBe(true);
    expect((await seats(KEY)).used).toBe(0);
    const on = await timed('license-activation');
    expect(on.nodes.every((n) => n.outcome === 'activated')).toBe(true);
    expect((await seats(KEY)).used).toBe(NODES.length);
  });
});

describe('license-activation with the HTTP driver', () => {
  it('activates from the node (curl) until the seats run out; the rest are refused, not retried', async () => {
    const result = await run('license-activation', httpSpec('node'));
    expect(result.ok).toBe(false);
    expect(result.nodes.filter((n) => n.outcome === 'activated')).toHaveLength(3);
    const refused = result.nodes.filter((n) => n.outcome === 'failed');
    expect(refused).toHaveLength(1);
    expect(refused[0].reason).toMatch(/refused \(HTTP 403\): all 3 seats are in use/);
    expect((await seats(HTTP_KEY)).used).toBe(3);
  });

  it('deactivates from the worker, freeing the seats, and a second deactivate changes nothing', async () => {
    const result = await run('license-deactivate', httpSpec('worker'));
    expect(result.nodes.filter((n) => n.outcome === 'deactivated')).toHaveLength(3);
    expect((await seats(HTTP_KEY)).used).toBe(0);
    expect((await run('license-deactivate', httpSpec('worker'))).changed).toBe(false);
  });
});

async function clientFor(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: settings.address });
  return {
    client: new Client({ connection, namespace: settings.namespace }),
    close: () => connection.close(),
  };
}
