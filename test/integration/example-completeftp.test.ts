import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostAddress, labFiles, netnsOf } from '../../lab/hosts';
import type { ScheduleSummary } from '../../client/schedule';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { NodeOperationResult, RollingResult } from '../../workflows/node-operations';
import { EXAMPLES_DIR } from '../fixtures/examples';
import { steadyTransfers, transferOnce, type TransferTarget } from '../fixtures/ftp-load';
import { steadyLoad } from '../fixtures/http-load';
import { exampleSuite } from './example-suite';
import { onHost } from './helpers';

// examples/completeftp (seed 004) through the CLI on its own lab hosts: a primary and a secondary
// (vsftpd, OpenSSH SFTP and nginx standing in for CompleteFTP's sites), HAProxy balancing FTP and
// SFTP in TCP mode and HTTP sticky on a cookie; a rolling maintenance under FTP, SFTP and HTTP
// load, a secondary added, the 60 s sync as a Temporal Schedule bringing a hand-changed secondary
// back, a re-run that changes nothing, a secondary removed.

const suite = exampleSuite('completeftp');
const { run, spec: SPEC } = suite;
const grown = suite.specCopy('grown', (doc) => {
  doc.nodes.hosts.push('cftp3');
});

const POOLS = ['cftp-ftp', 'cftp-sftp', 'cftp-pasv', 'cftp-http'];
const lb = () => hostAddress('cftplb1');
const target = (): TransferTarget => ({
  host: lb(),
  sftpPort: 2222,
  payload: {
    path: 'payload.txt',
    content: readFileSync(path.join(EXAMPLES_DIR, 'completeftp/roles/completeftp/files/payload.txt')),
  },
  sftp: { username: 'ftp', privateKey: readFileSync(labFiles.key) },
});

/** pool -> server -> HAProxy's status and check result (`UP L4OK`), from `show stat`. */
function poolStatus(): Record<string, Record<string, string>> {
  const csv = onHost('cftplb1', `echo 'show stat' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`);
  const out: Record<string, Record<string, string>> = {};
  for (const line of csv.split('\n').slice(1)) {
    const f = line.split(',');
    if (!POOLS.includes(f[0]) || f[1] === 'BACKEND') continue;
    (out[f[0]] ??= {})[f[1]] = `${f[17]} ${f[36]}`;
  }
  return out;
}

/** The admin site (SFTP on 14983) of `to`, asked from `from`'s own address. */
function adminLogin(from: string, to: string): string {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      netnsOf(from),
      'ssh',
      ...['-i', labFiles.key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
      ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', '14983'],
      `admin@${hostAddress(to)}`,
      'echo "in from ${SSH_CLIENT%% *}"',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return `${r.stdout}${r.stderr}`.trim();
}

/** The primary's vsftpd.conf as each secondary must have it: the same but for its own banner. */
const withoutBanner = (host: string) => onHost(host, `grep -v '^ftpd_banner=' /etc/vsftpd.conf`);

describe('the CompleteFTP example (seed 004)', () => {
  it('validates as shipped', async () => {
    expect(await suite.cli('validate', '-f', SPEC)).toMatchObject({ code: 0, stderr: '' });
  });

  it("sets up the primary, a secondary with the primary's configuration, the admin site's IP filter, and every pool", async () => {
    const r = await run<ClusterSetupResult>('run', 'cluster-setup', '-f', SPEC, '--wait');
    expect(r.failures).toEqual([]);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['first node', 'changed'],
      ['further nodes', 'changed'],
      ['load balancer members', 'changed'],
      ['verification', 'ok'],
    ]);
    // "The secondary server's configuration will be overwritten with a copy of the primary's."
    expect(withoutBanner('cftp2')).toBe(withoutBanner('cftp1'));
    expect(onHost('cftp2', `grep '^ftpd_banner=' /etc/vsftpd.conf`)).toBe('ftpd_banner=CompleteFTP (cftp2)');
    // "Add a rule that allows connections from the primary server's IP address": the primary is
    // let into the secondary's admin site, the LB host is not.
    expect(adminLogin('cftp1', 'cftp2')).toBe(`in from ${hostAddress('cftp1')}`);
    expect(adminLogin('cftplb1', 'cftp2')).toMatch(/Permission denied/);
    // Every server in every pool, each health-checked.
    const pools = poolStatus();
    for (const pool of POOLS) {
      expect(Object.keys(pools[pool]).sort()).toEqual(['cftp1', 'cftp2']);
      for (const s of Object.values(pools[pool])) expect(s).toMatch(/^UP L[47]OK$/);
    }
    // HTTP sticks on the LB's cookie; FTP (passive, through the LB) and SFTP reach both servers.
    const sticky = onHost(
      'cftplb1',
      `rm -f /tmp/jar; for i in 1 2 3 4; do curl -s -b /tmp/jar -c /tmp/jar -o /dev/null -D - http://127.0.0.1/ | grep -i '^x-node' | tr -d '\\r'; done`,
    );
    const lines = sticky.split('\n');
    expect(lines).toEqual(Array(4).fill(lines[0]));
    expect(lines[0]).toMatch(/^x-node: cftp[12]$/i);
    const seen = { ftp: new Set<string>(), sftp: new Set<string>() };
    for (let i = 0; i < 4; i++)
      for (const kind of ['ftp', 'sftp'] as const) {
        const got = await transferOnce[kind](target());
        expect(got.payload.equals(target().payload.content)).toBe(true);
        seen[kind].add(got.node);
      }
    expect([[...seen.ftp].sort(), [...seen.sftp].sort()]).toEqual([
      ['cftp1', 'cftp2'],
      ['cftp1', 'cftp2'],
    ]);
  }, 600_000);

  it('rolls a maintenance through both servers under FTP, SFTP and HTTP load with no failed transfer or request', async () => {
    const transfers = steadyTransfers(target());
    const web = steadyLoad(`http://${lb()}/`, { clients: 2 });
    const r = await run<RollingResult>('run', 'rolling-maintenance', '-f', SPEC, '--wait');
    const reports = { ...(await transfers.stop()), http: await web.stop() };
    expect(r.nodes.map((n) => [n.node, n.outcome])).toEqual([
      ['cftp1', 'done'],
      ['cftp2', 'done'],
    ]);
    for (const [kind, report] of Object.entries(reports)) {
      expect([kind, report.failures]).toEqual([kind, []]);
      expect(Object.keys(report.byNode).sort()).toEqual(['cftp1', 'cftp2']);
    }
    console.log(
      `completeftp rolling maintenance: ${Object.entries(reports)
        .map(([k, v]) => `${k} ${v.requests} (${v.failed} failed)`)
        .join(', ')}`,
    );
  }, 300_000);

  it("adds a secondary: the primary's configuration, then every pool, checked, and it serves", async () => {
    const joined = await run<NodeOperationResult>('node', 'join', 'cftp3', '-f', grown);
    expect(joined.changes.join('\n')).toMatch(/\/etc\/vsftpd.conf derived from cftp1/);
    expect(withoutBanner('cftp3')).toBe(withoutBanner('cftp1'));
    const pools = poolStatus();
    for (const pool of POOLS) expect(pools[pool].cftp3).toMatch(/^UP L[47]OK$/);
    expect(adminLogin('cftp1', 'cftp3')).toBe(`in from ${hostAddress('cftp1')}`);
    const nodes = new Set<string>();
    for (let i = 0; i < 6; i++) nodes.add((await transferOnce.ftp(target())).node);
    expect(nodes).toContain('cftp3');
  }, 300_000);

  it('syncs every 60 s as a Temporal Schedule: a hand-changed secondary is brought back, reloaded, and its last synchronized time moves on', async () => {
    // An operator turns anonymous logins off on cftp2 by hand, and reloads: FTP there refuses
    // (vsftpd then has no login at all to offer).
    onHost(
      'cftp2',
      `sed -i 's/^anonymous_enable=YES/anonymous_enable=NO/' /etc/vsftpd.conf && systemctl reload vsftpd`,
    );
    const cftp2: TransferTarget = { ...target(), host: hostAddress('cftp2') };
    await expect(transferOnce.ftp(cftp2)).rejects.toThrow(/both local and anonymous access disabled/);
    const changedAt = new Date().toISOString();
    const created = await run<ScheduleSummary>(
      'schedule',
      'create',
      'config-drift',
      '--fix',
      '--cron',
      '* * * * *',
      '-f',
      grown,
      '--note',
      'CompleteFTP sync',
    );
    try {
      expect(created).toMatchObject({ id: 'config-drift/completeftp', cron: '* * * * *', paused: false });
      // The next minute's run would do; triggering spares the test the wait.
      await run('schedule', 'trigger', 'config-drift/completeftp');
      let status: ScheduleSummary | undefined;
      for (let i = 0; i < 60; i++) {
        status = await run<ScheduleSummary>('status', 'config-drift/completeftp');
        if ((status.lastSynchronized?.cftp2 ?? '') > changedAt) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect((status?.lastSynchronized?.cftp2 ?? '') > changedAt).toBe(true);
      expect((status?.lastSynchronized?.cftp3 ?? '') > changedAt).toBe(true);
      expect(onHost('cftp2', `grep '^anonymous_enable=' /etc/vsftpd.conf`)).toBe('anonymous_enable=YES');
      // Reloaded: anonymous logins work again on cftp2 itself.
      expect((await transferOnce.ftp(cftp2)).node).toBe('cftp2');
      // The UI shows each run's last synchronized times (its memo).
      const latest = status!.recent[status!.recent.length - 1].workflowId;
      const text = await suite.history(latest);
      expect(text).toContain(`"cftp2":"${status!.lastSynchronized!.cftp2}"`);
      const shown = await suite.cli('status', 'config-drift/completeftp');
      expect(shown.stdout).toMatch(
        new RegExp(`last synchronized:\\n\\s+cftp2\\s+${status!.lastSynchronized!.cftp2}`),
      );
    } finally {
      await run('schedule', 'delete', 'config-drift/completeftp');
    }
  }, 300_000);

  it('re-runs the whole setup on the grown cluster: no change', async () => {
    await suite.setupChangesNothing(grown);
  }, 600_000);

  it('removes a secondary: out of every pool first, then stopped', async () => {
    const removed = await run<NodeOperationResult>('node', 'remove', 'cftp3', '-f', grown);
    expect(removed.changes.join('\n')).toMatch(/removed from the LB on cftplb1/);
    const pools = poolStatus();
    for (const pool of POOLS) expect(Object.keys(pools[pool]).sort()).toEqual(['cftp1', 'cftp2']);
    expect(onHost('cftplb1', `grep -c 'server cftp3' /etc/haproxy/haproxy.cfg || true`)).toBe('0');
    expect(onHost('cftp3', 'systemctl is-active vsftpd || true')).not.toBe('active');
  }, 300_000);
});
