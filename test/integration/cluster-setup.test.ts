import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { buildClusterSetup } from '../../client/cluster';
import { startOperation } from '../../client/connection';
import { storageInput, loadSpec } from '../../client/spec';
import { Phase } from '../../common/search-attributes';
import { down, up } from '../../lab/hosts';
import type { ClusterSetupResult } from '../../workflows/cluster';
import { DEMO_HOSTS, demoSpecOn, type DemoSpec } from '../fixtures/demo/spec';
import { installLicenseTool, licenseService } from '../fixtures/license/service';
import { historyText, onHost, startPausedWorker, testSettings, withWorker } from './helpers';

// cluster-setup of the demo spec (examples/demo/cluster.yml, hosts renamed to this suite's own) on
// fresh lab hosts, with a license section added: GlusterFS on two servers mounted by three app
// nodes, MariaDB primary + replica, the stand-in app, HAProxy, licenses. The worker is SIGKILLed
// in the middle of the cold run; a new one finishes it. A re-run changes nothing.

const PREFIX = 'cs';
const HOSTS = DEMO_HOSTS.map((h) => `${PREFIX}${h}`);
const APPS = ['csapp1', 'csapp2', 'csapp3'];
const settings = testSettings();
const cluster = `cs-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-setup-'));
const SECRETS = {
  CF_DEMO_DB_ADMIN: `adm-${randomBytes(8).toString('hex')}`,
  CF_DEMO_DB_REPL: `repl-${randomBytes(8).toString('hex')}`,
  CF_DEMO_DB_APP: `app-${randomBytes(8).toString('hex')}`,
  CF_CS_LICENSE_KEY: `CFAPP-CS-${randomBytes(8).toString('hex')}`,
};
Object.assign(process.env, SECRETS);
const licensing = licenseService(dir, { [SECRETS.CF_CS_LICENSE_KEY]: 3 });

/** The demo spec on this suite's hosts, with licenses; `edit` drops or changes sections. */
function demoSpec(name: string, edit: (doc: DemoSpec) => void = () => {}): string {
  return demoSpecOn(PREFIX, {
    dir,
    name,
    cluster,
    edit: (doc) => {
      doc.license = {
        hosts: APPS,
        driver: 'command',
        command: {
          check: '/usr/local/bin/cfapp-license check',
          activate: '/usr/local/bin/cfapp-license activate',
          deactivate: '/usr/local/bin/cfapp-license deactivate',
        },
        key: 'env:CF_CS_LICENSE_KEY',
      };
      edit(doc);
    },
  });
}

const haproxyServers = () =>
  onHost('cslb1', `echo 'show servers state app' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`)
    .split('\n')
    .filter((l) => /^\d+ app /.test(l))
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[3]}:${(Number(f[6]) & ~4) === 0 ? 'ready' : 'out'}`)
    .sort();

const activateRequests = async () =>
  Object.values((await licensing.seats(SECRETS.CF_CS_LICENSE_KEY)).activations).reduce((a, b) => a + b, 0);

/** Polls the Phase search attribute (what the UI shows) until `done` accepts it; returns it. */
async function untilPhase(handle: WorkflowHandle, done: (phase: string) => boolean): Promise<string> {
  for (;;) {
    const phase = (await handle.describe()).typedSearchAttributes.get(Phase);
    if (phase !== undefined && done(phase)) return phase;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function plainClient(): Promise<Client> {
  return new Client({
    connection: await Connection.connect({ address: settings.address }),
    namespace: settings.namespace,
  });
}

async function setup(file: string): Promise<ClusterSetupResult & { seconds: number }> {
  const started = Date.now();
  const result = await withWorker(settings, async (client) => {
    const handle = await startOperation(client, settings, buildClusterSetup(loadSpec(file)));
    return (await handle.result()) as ClusterSetupResult;
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(`cluster-setup ${path.basename(file)}: ${seconds.toFixed(1)} s, changed ${result.changed}`);
  return { ...result, seconds };
}

beforeAll(async () => {
  licensing.start();
  // Fresh hosts: cold means nothing of an earlier run is left.
  await down(HOSTS);
  await up(HOSTS);
  installLicenseTool(APPS, licensing.url);
}, 300_000);

afterAll(async () => {
  licensing.stop();
  // The run leaves the machine as it found it; CLUSTERFLOW_KEEP_STACK keeps the hosts for the next.
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down(HOSTS);
}, 180_000);

describe('cluster-setup', () => {
  it('sets up the whole demo cluster from one spec, finishing after the worker is killed mid-run, and checks it end to end', async () => {
    const file = demoSpec('full');
    const started = Date.now();
    const worker = await startPausedWorker(settings, '');
    const client = await plainClient();
    let killedIn: string;
    const handle = await startOperation(client, settings, buildClusterSetup(loadSpec(file)));
    try {
      // Kill the worker while the further nodes are joining: children and activities in flight.
      killedIn = await untilPhase(handle, (p) => p === 'further nodes' || p.startsWith('failed'));
    } finally {
      worker.kill('SIGKILL');
    }
    expect(killedIn).toBe('further nodes');
    // A new worker picks the run up where it was.
    const result = await withWorker(settings, async () => (await handle.result()) as ClusterSetupResult);
    console.log(`cluster-setup cold, worker killed once: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      ['storage export', 'changed'],
      ['replication bootstrap', 'changed'],
      ['first node', 'changed'],
      ['further nodes', 'changed'],
      ['load balancer members', 'changed'],
      ['license activation', 'changed'],
      ['verification', 'ok'],
    ]);
    expect(result.verification.map((v) => [v.check, v.ok])).toEqual([
      ['HTTP through cslb1', true],
      ['replication', true],
      ['shared storage', true],
    ]);
    expect(result.verification[0].detail).toMatch(/csapp1 ×\d+, csapp2 ×\d+, csapp3 ×\d+/);
    expect(Object.keys(result.recap).sort()).toEqual([...HOSTS].sort());
    for (const h of HOSTS) expect(result.recap[h]).toMatchObject({ failed: 0, unreachable: 0 });
    for (const h of HOSTS) expect(result.recap[h].changed).toBeGreaterThan(0);

    // The cluster as the test itself sees it, not as the workflow reports it.
    expect(haproxyServers()).toEqual(['csapp1:ready', 'csapp2:ready', 'csapp3:ready']);
    const nodesSeen = new Set(
      Array.from({ length: 9 }, () =>
        onHost('cslb1', `curl -s -D - -o /dev/null http://127.0.0.1/ | grep -i '^x-node'`),
      ),
    );
    expect([...nodesSeen].map((l) => l.split(':')[1].trim()).sort()).toEqual(APPS);
    expect(
      onHost(
        'csdb2',
        `mariadb -e 'SHOW SLAVE STATUS\\G' | grep -E 'Slave_(IO|SQL)_Running:' | awk '{print $2}'`,
      ),
    ).toBe('Yes\nYes');
    onHost('csdb1', `mariadb -e "CREATE DATABASE IF NOT EXISTS cs_probe"`);
    expect(
      onHost(
        'csdb2',
        `for i in $(seq 50); do mariadb -N -e "SHOW DATABASES LIKE 'cs_probe'" | grep . && break; sleep 0.1; done`,
      ),
    ).toBe('cs_probe');
    onHost('csdb1', `mariadb -e "DROP DATABASE cs_probe"`);
    for (const app of APPS) expect(onHost(app, 'findmnt -n -o FSTYPE /srv/cfdata')).toBe('fuse.glusterfs');
    onHost('csapp3', `runuser -u cfapp -- sh -c 'echo shared > /srv/cfdata/probe.txt'`);
    expect(onHost('csapp1', 'cat /srv/cfdata/probe.txt && stat -c %U /srv/cfdata/probe.txt')).toBe(
      'shared\ncfapp',
    );
    // further nodes carry their own node-specific keys, derived from the first node's config
    expect(onHost('csapp2', 'grep -E "^(hostname|nodeid)=" /etc/cfapp/server.properties')).toBe(
      'hostname=csapp2',
    );
    const seats = await licensing.seats(SECRETS.CF_CS_LICENSE_KEY);
    expect(seats.used).toBe(3);
    expect(Object.values(seats.activations)).toEqual([1, 1, 1]);

    // Secrets travelled as references only.
    const history = await historyText(client, handle.workflowId);
    expect(history).toContain('env:CF_DEMO_DB_ADMIN');
    for (const secret of Object.values(SECRETS)) expect(history).not.toContain(secret);
  }, 900_000);

  it('a re-run on the converged cluster changes nothing and still verifies it', async () => {
    const before = await activateRequests();
    const r = await setup(demoSpec('full'));
    expect(r.failures).toEqual([]);
    expect(r.changed).toBe(false);
    expect(r.steps.every((s) => s.status === 'ok')).toBe(true);
    for (const h of HOSTS) expect(r.recap[h]).toMatchObject({ changed: 0, failed: 0 });
    expect(r.verification.every((v) => v.ok)).toBe(true);
    expect(await activateRequests()).toBe(before);
    expect(haproxyServers()).toEqual(['csapp1:ready', 'csapp2:ready', 'csapp3:ready']);
  }, 600_000);

  it('a cancelled setup ends cancelled and gives the cluster lock back', async () => {
    const client = await plainClient();
    try {
      const cancelled = await withWorker(settings, async () => {
        const handle = await startOperation(client, settings, buildClusterSetup(loadSpec(demoSpec('full'))));
        await untilPhase(handle, (p) => p === 'first node');
        await handle.cancel();
        const outcome = await handle.result().catch((e: unknown) => e);
        return { outcome, status: (await handle.describe()).status.name };
      });
      expect(cancelled.outcome).toBeInstanceOf(WorkflowFailedError);
      expect(cancelled.status).toBe('CANCELLED');
      const lock = await client.workflow.getHandle(`lock/${cluster}`).describe();
      expect(lock.status.name).not.toBe('RUNNING');
    } finally {
      await client.connection.close();
    }
  }, 300_000);

  it('runs a cluster without shared storage, replicas or licenses: only the sections the spec has', async () => {
    const r = await setup(
      demoSpec('nodes-only', (doc) => {
        delete doc.storage;
        delete doc.database;
        delete doc.license;
      }),
    );
    expect(r.steps.map((s) => s.step)).toEqual([
      'first node',
      'further nodes',
      'load balancer members',
      'verification',
    ]);
    expect(r.ok).toBe(true);
    expect(r.changed).toBe(false);
    expect(r.verification.map((v) => v.check)).toEqual(['HTTP through cslb1']);
  }, 300_000);

  it('a step that fails stops the setup there, reports it, and skips what comes after', async () => {
    // A replica that already has data of its own and does not replicate: the bootstrap refuses it.
    onHost('csfs1', 'systemctl start mariadb && mariadb -e "CREATE DATABASE IF NOT EXISTS not_a_replica"');
    const r = await setup(
      demoSpec('bad-replica', (doc) => {
        (doc.database as { replicas: string[] }).replicas = ['csfs1'];
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['storage export', 'ok'],
      ['replication bootstrap', 'failed'],
      ['first node', 'skipped'],
      ['further nodes', 'skipped'],
      ['load balancer members', 'skipped'],
      ['license activation', 'skipped'],
      ['verification', 'skipped'],
    ]);
    expect(r.failures[0]).toMatch(
      /^replication bootstrap: [\s\S]*csfs1 already has databases \(not_a_replica\)/,
    );
    expect(r.verification).toEqual([]);
  }, 300_000);

  it('a step started alone cannot claim a lock its parent does not hold', async () => {
    const input = { ...storageInput(loadSpec(demoSpec('full'))), lockHeldBy: 'cluster-setup/somebody-else' };
    const err = await withWorker(settings, async (client) =>
      client.workflow
        .execute('storageExport', {
          taskQueue: settings.taskQueue,
          workflowId: `storage-export/${cluster}/claimed-${Date.now()}`,
          args: [input],
        })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(
      /lockHeldBy: cluster-setup\/somebody-else is not the workflow that started this one/,
    );
  });
});
