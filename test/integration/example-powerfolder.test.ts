import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { hostAddress } from '../../lab/hosts';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { NodeOperationResult } from '../../workflows/node-operations';
import { EXAMPLES_DIR, type ExampleSpec } from '../fixtures/examples';
import { exampleSuite } from './example-suite';
import { onHost } from './helpers';

// examples/powerfolder (seed 000) as a PowerFolder administrator runs it, through the CLI, on its
// own lab hosts: set up from scratch, a rolling maintenance under steady HTTP load through Apache,
// a node joined, drift found and fixed, a database switchover, the whole setup re-run, a node
// removed. The server is the lab's stand-in (Tomcat 10 with the example's web app).

const suite = exampleSuite('powerfolder');
const { run, spec: SPEC, secrets: SECRETS } = suite;
const CONFIG = '/opt/powerfolder/PowerFolder.config';

/** The README's way to grow: pfnode3 mounts the folders and gets database.url, then joins; afterwards it is a node. */
const growing = suite.specCopy('growing', (doc) => {
  doc.storage?.clients.hosts.push('pfnode3');
  doc.database?.appConfig?.[0].hosts.push('pfnode3');
});
const grown = suite.specCopy('grown', (doc) => {
  doc.storage?.clients.hosts.push('pfnode3');
  doc.database?.appConfig?.[0].hosts.push('pfnode3');
  doc.nodes.hosts.push('pfnode3');
});

const config = (node: string, key: string) =>
  onHost(node, `sed -n 's/^${key.replace(/\./g, '\\.')}=//p' ${CONFIG}`);
/** BalancerMember lines of balancer://pfcluster as address -> route. */
const members = () =>
  Object.fromEntries(
    [
      ...onHost('pflb1', 'cat /etc/apache2/conf-available/pfcluster.conf').matchAll(
        /BalancerMember "http:\/\/([\d.]+):8080" route=(\S+)/g,
      ),
    ].map((m) => [m[1], m[2]]),
  );
/** n requests through Apache with one cookie jar: which node answered each, and the session's count. */
const session = (n: number) =>
  onHost(
    'pflb1',
    `rm -f /tmp/jar; for i in $(seq ${n}); do curl -s -b /tmp/jar -c /tmp/jar http://127.0.0.1/ | grep -E '^(nick|session.requests)=' | tr '\\n' ' '; echo; done`,
  ).split('\n');

/** The nodeid pfnode3 wrote at its first start: a re-run must keep it (it is its Apache route). */
let joinedId = '';

describe('the PowerFolder example (seed 000)', () => {
  it("validates as shipped, and with the README's nginx load balancer instead of Apache", async () => {
    const r = await suite.cli('validate', '-f', SPEC);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const nginx = suite.specCopy('nginx', (doc) => {
      const readme = readFileSync(path.join(EXAMPLES_DIR, 'powerfolder/README.md'), 'utf8');
      const section = /```yaml\n(loadBalancer:[\s\S]*?)```/.exec(readme)?.[1] ?? '';
      doc.loadBalancer = (parse(section) as { loadBalancer: ExampleSpec['loadBalancer'] }).loadBalancer;
      doc.loadBalancer.install = path.join(EXAMPLES_DIR, 'powerfolder', String(doc.loadBalancer.install));
    });
    expect(await suite.cli('validate', '-f', nginx)).toMatchObject({ code: 0, stderr: '' });
  });

  it('sets up the cluster on fresh hosts: storage, database, the first node, the further node, Apache with route=<nodeid>', async () => {
    const r = await run<ClusterSetupResult>('run', 'cluster-setup', '-f', SPEC, '--wait');
    expect(r.failures).toEqual([]);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['storage export', 'changed'],
      ['replication bootstrap', 'changed'],
      ['first node', 'changed'],
      ['further nodes', 'changed'],
      ['load balancer members', 'changed'],
      ['verification', 'ok'],
    ]);
    // Each member's route is the nodeid the node wrote at its first start; they differ.
    const ids = ['pfnode1', 'pfnode2'].map((n) => config(n, 'nodeid'));
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).not.toBe(ids[0]);
    expect(members()).toEqual({ [hostAddress('pfnode1')]: ids[0], [hostAddress('pfnode2')]: ids[1] });
    // The further node is the first node's file with its own hostname and nick, and the cluster keys.
    expect(config('pfnode2', 'hostname')).toBe('pfnode2');
    expect(config('pfnode2', 'nick')).toBe('pfnode2');
    expect(config('pfnode2', 'folders.mount.dynamic')).toBe('true');
    expect(config('pfnode2', 'database.url')).toBe(config('pfnode1', 'database.url'));
    expect(config('pfnode1', 'database.url')).toMatch(
      new RegExp(
        `^jdbc:mysql://${hostAddress('pfdb1')}:3306,${hostAddress('pfdb2')}:3306/powerfolder\\?failOverReadOnly=false`,
      ),
    );
    // A session sticks to its node (the rpcid cookie ends in .<nodeid>).
    const seen = session(4);
    expect(new Set(seen.map((l) => l.split(' ')[0])).size).toBe(1);
    expect(seen.map((l) => l.split(' ')[1])).toEqual([
      'session.requests=1',
      'session.requests=2',
      'session.requests=3',
      'session.requests=4',
    ]);
    // Same storage path, same owner and ids everywhere; each node's server_maintenance folder its own.
    for (const n of ['pfnode1', 'pfnode2']) {
      expect(
        onHost(
          n,
          'findmnt -n -o FSTYPE /srv/powerfolder; stat -c %u:%g /srv/powerfolder; id -u powerfolder; id -g powerfolder',
        ),
      ).toBe('fuse.glusterfs\n1500:1500\n1500\n1500');
      expect(onHost(n, 'findmnt -n -o TARGET -T /opt/powerfolder/server_maintenance')).toBe('/');
    }
    // The database password reached the nodes' config from the worker, never the history.
    expect(config('pfnode2', 'database.password')).toBe(SECRETS.CF_PF_DB_APP);
    const history = await suite.history(r.workflowId);
    for (const secret of Object.values(SECRETS)) expect(history).not.toContain(secret);
  }, 600_000);

  it('rolls a maintenance through both nodes under steady HTTP load with no failed request', async () => {
    await suite.rollsUnderLoad(`http://${hostAddress('pflb1')}/`, SPEC, ['pfnode1', 'pfnode2']);
  }, 300_000);

  it("joins a third node from the first node's Server Configuration File, its own nodeid its route", async () => {
    const joined = await run<NodeOperationResult>('node', 'join', 'pfnode3', '-f', growing);
    expect(joined.changes.join('\n')).toMatch(/PowerFolder.config derived from pfnode1/);
    joinedId = config('pfnode3', 'nodeid');
    expect(joinedId).toMatch(/^[0-9a-f]{32}$/);
    expect(members()[hostAddress('pfnode3')]).toBe(joinedId);
    expect(config('pfnode3', 'nick')).toBe('pfnode3');
  }, 300_000);

  it('finds a hand-changed setting as drift, not the keys the guide never syncs, and fixes it', async () => {
    onHost(
      'pfnode2',
      `sed -i 's/^folder.watcher.enabled=false/folder.watcher.enabled=true/; s/^database.username=.*/database.username=pf2/' ${CONFIG}`,
    );
    const found = await run<{ drift: Record<string, { key: string }[]> }>(
      'run',
      'config-drift',
      '-f',
      grown,
      '--wait',
    );
    expect(found.drift.pfnode2.map((d) => d.key)).toEqual(['folder.watcher.enabled']);
    expect(found.drift.pfnode3).toEqual([]);
    await run('run', 'config-drift', '-f', grown, '--wait', '--fix');
    expect(config('pfnode2', 'folder.watcher.enabled')).toBe('false');
    expect(config('pfnode2', 'database.username')).toBe('pf2');
  }, 300_000);

  it("switches the database over: every node's database.url names the new primary first, and the app still serves", async () => {
    const r = await suite.cli('db', 'switchover', '--to', 'pfdb2', '-f', grown);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/pfdb2\s+changed=1/)]);
    const url = `jdbc:mysql://${hostAddress('pfdb2')}:3306,${hostAddress('pfdb1')}:3306/powerfolder?`;
    for (const n of ['pfnode1', 'pfnode2', 'pfnode3'])
      expect(config(n, 'database.url').startsWith(url)).toBe(true);
    const served = onHost('pflb1', 'curl -s -f http://127.0.0.1/');
    expect(served).toContain(`database.url=${url}`);
  }, 300_000);

  it('re-runs the whole setup on the converged cluster: no change, verified against the primary of now', async () => {
    const r = await suite.setupChangesNothing(grown);
    expect(r.verification.map((v) => [v.check, v.ok])).toEqual([
      ['HTTP through pflb1', true],
      ['replication', true],
      ['shared storage', true],
    ]);
    expect(r.verification[1].detail).toMatch(/^written on pfdb2/);
    expect(config('pfnode3', 'nodeid')).toBe(joinedId);
  }, 600_000);

  it('removes a node: out of Apache first, then stopped', async () => {
    const removed = await run<NodeOperationResult>('node', 'remove', 'pfnode3', '-f', grown);
    expect(removed.changes.join('\n')).toMatch(/removed from the LB on pflb1/);
    expect(Object.keys(members()).sort()).toEqual([hostAddress('pfnode1'), hostAddress('pfnode2')].sort());
    expect(onHost('pfnode3', 'systemctl is-active powerfolder || true')).not.toBe('active');
    expect(new Set(session(6).map((l) => l.split(' ')[0]))).not.toContain('nick=pfnode3');
  }, 300_000);
});
