import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { startFacts } from '../../client/facts';
import { resolveTargets } from '../../client/inventory';
import { FactsInputSchema, type FactsResult } from '../../common/facts';
import { ClusterName, Operation, Phase, TargetHosts } from '../../common/search-attributes';
import { labFiles, stop, up } from '../../lab/hosts';
import { REPO_ROOT } from '../../lab/paths';
import { labInventory, testSettings, withWorker } from './helpers';

const settings = testSettings();

async function runFacts(client: Client, limit: string, knownHostsFile?: string): Promise<FactsResult> {
  const hosts = resolveTargets(labInventory(), limit).map((t) =>
    knownHostsFile ? { ...t, knownHostsFile } : t,
  );
  const input = FactsInputSchema.parse({ cluster: 'lab', hosts, connectAttempts: 2 });
  const handle = await startFacts(client, settings, input);
  return handle.result();
}

describe('facts through Temporal against lab hosts', () => {
  it('gathers hostname, OS, kernel, CPUs, memory, addresses and installed services from every host', async () => {
    const result = await withWorker(settings, (client) => runFacts(client, 'node1,node2,node3'));
    expect(result.summary).toEqual({ ok: 3, unreachable: 0, failed: 0 });
    for (const [i, outcome] of result.hosts.entries()) {
      expect(outcome.host).toBe(`node${i + 1}`);
      expect(outcome.facts).toMatchObject({
        hostname: `node${i + 1}`,
        os: { id: 'debian', family: 'debian' },
        initSystem: 'systemd',
        ipv4: [outcome.address],
      });
      expect(outcome.facts!.kernel).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
      expect(outcome.facts!.cpuCount).toBeGreaterThan(0);
      // The lab installs services disabled: workflows start them as an operator would.
      expect(outcome.facts!.software['mariadb-server']).toMatchObject({
        installed: true,
        enabled: 'disabled',
        active: 'inactive',
      });
      expect(outcome.facts!.software['openssh-server']).toMatchObject({ installed: true, active: 'active' });
    }
  });

  it('reports a stopped host as unreachable while the others succeed', async () => {
    await stop(['node4']);
    try {
      const result = await withWorker(settings, (client) => runFacts(client, 'node1,node4'));
      expect(result.summary).toEqual({ ok: 1, unreachable: 1, failed: 0 });
      const node4 = result.hosts.find((h) => h.host === 'node4')!;
      expect(node4).toMatchObject({ status: 'unreachable', failureType: 'HostUnreachable' });
      expect(node4.reason).toMatch(/cannot reach 10\.77\.0\.\d+:22/);
    } finally {
      await up(['node4']);
    }
  });

  it('refuses a host whose key differs from known_hosts, and one known_hosts does not list', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-facts-'));
    const impostor = path.join(dir, 'impostor');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', impostor]);
    const impostorKey = readFileSync(`${impostor}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const lines = readFileSync(labFiles.knownHosts, 'utf8').split('\n');
    const tampered = lines
      .filter((l) => !l.startsWith('node3,'))
      .map((l) => (l.startsWith('node2,') ? `${l.split(' ')[0]} ${impostorKey}` : l));
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, tampered.join('\n'));

    const started = Date.now();
    const result = await withWorker(settings, (client) => runFacts(client, 'node1,node2,node3', knownHosts));
    expect(result.summary).toEqual({ ok: 1, unreachable: 0, failed: 2 });
    const byHost = Object.fromEntries(result.hosts.map((h) => [h.host, h]));
    expect(byHost.node2).toMatchObject({ status: 'failed', failureType: 'HostKeyChanged' });
    expect(byHost.node2.reason).toMatch(/HOST KEY MISMATCH/);
    expect(byHost.node3).toMatchObject({ status: 'failed', failureType: 'HostKeyUnknown' });
    // Key failures are not retried: no backoff was spent on them.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('tags the workflow with the search attributes operators filter by', async () => {
    await withWorker(settings, async (client) => {
      const hosts = resolveTargets(labInventory(), 'node1,node2');
      const handle = await startFacts(client, settings, FactsInputSchema.parse({ cluster: 'lab', hosts }));
      await handle.result();
      const description = await handle.describe();
      const sa = description.typedSearchAttributes;
      expect(handle.workflowId).toMatch(/^facts\/lab\/\d{4}-\d\d-\d\dT/);
      expect(sa.get(ClusterName)).toBe('lab');
      expect(sa.get(Operation)).toBe('facts');
      expect(sa.get(TargetHosts)).toEqual(['node1', 'node2']);
      expect(sa.get(Phase)).toBe('done');
    });
  });

  it('works from the CLI: prints the workflow ID and UI link, a JSON result, and exit codes', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/clusterflow.js'), ...args], {
          env: { ...process.env, CLUSTERFLOW_TASK_QUEUE: settings.taskQueue },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });

    await withWorker(settings, async () => {
      const human = await cli(['facts', '-i', labFiles.inventory, '--limit', 'node1']);
      expect(human.stderr).toBe('');
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^workflow facts\/lab\//);
      expect(human.stdout).toContain('http://127.0.0.1:8233/namespaces/default/workflows/facts%2Flab%2F');
      expect(human.stdout).toMatch(/node1.*ok.*debian 12/);

      const json = await cli(['facts', '-i', labFiles.inventory, '--limit', 'node*:!node4', '--json']);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as FactsResult;
      expect(parsed.hosts.map((h) => h.host)).toEqual(['node1', 'node2', 'node3']);
    });

    const badLimit = await cli(['facts', '-i', labFiles.inventory, '--limit', 'nosuchhost']);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/matched no hosts/);

    const noServer = await cli(['facts', '-i', labFiles.inventory, '--address', '127.0.0.1:1']);
    expect(noServer.code).toBe(3);
    expect(noServer.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});
