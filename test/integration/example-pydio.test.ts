import { hostAddress } from '../../lab/hosts';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { NodeOperationResult } from '../../workflows/node-operations';
import type { StorageResult } from '../../workflows/storage';
import { exampleSuite } from './example-suite';
import { onHost } from './helpers';

// examples/pydio (seed 003) through the CLI on its own lab hosts: two GlusterFS replica-2
// volumes on the compute nodes themselves (data, and the config a new node inherits), Pydio's
// stand-in on nginx + PHP-FPM, HAProxy sticky on the Pydio cookie, a rolling maintenance under
// load, a compute node added, a storage pair added (expand), drift, a switchover, a re-run that
// changes nothing, a node removed.

const suite = exampleSuite('pydio');
const { run, spec: SPEC, secrets: SECRETS } = suite;

/** The README's way to grow: pynode3 mounts the volumes and joins; pyfs3/pyfs4 add a brick pair. */
const growing = suite.specCopy('growing', (doc) => {
  doc.storage?.clients.hosts.push('pynode3');
});
const grown = suite.specCopy('grown', (doc) => {
  doc.storage?.clients.hosts.push('pynode3');
  (doc.storage?.glusterfs as { servers: string[] }).servers.push('pyfs3', 'pyfs4');
  doc.nodes.hosts.push('pynode3');
});

/** n requests through HAProxy with one cookie jar: which node answered each, and the session's count. */
const session = (n: number) =>
  onHost(
    'pylb1',
    `rm -f /tmp/jar; for i in $(seq ${n}); do curl -s -b /tmp/jar -c /tmp/jar http://127.0.0.1/pydio/ | grep -E '^(node|session.requests)=' | tr '\\n' ' '; echo; done`,
  ).split('\n');
const bootstrapHost = () =>
  JSON.parse(onHost('pynode2', 'cat /mnt/pydio-config/bootstrap.json')).db.host as string;

describe('the Pydio example (seed 003)', () => {
  it('validates as shipped', async () => {
    expect(await suite.cli('validate', '-f', SPEC)).toMatchObject({ code: 0, stderr: '' });
  });

  it('sets up both volumes on the compute nodes, the web tier, HAProxy sticky on the Pydio cookie', async () => {
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
    for (const volume of ['pydio-data', 'pydio-config'])
      expect(onHost('pynode1', `gluster --mode=script volume info ${volume}`)).toMatch(
        /^Type: Replicate$[\s\S]*^Number of Bricks: 1 x 2 = 2$/m,
      );
    for (const n of ['pynode1', 'pynode2']) {
      // fstab with _netdev for both, both mounted, the web user owning them.
      expect(onHost(n, `grep -c 'glusterfs .*_netdev' /etc/fstab`)).toBe('2');
      expect(onHost(n, 'findmnt -n -o FSTYPE /mnt/pydio-data; findmnt -n -o FSTYPE /mnt/pydio-config')).toBe(
        'fuse.glusterfs\nfuse.glusterfs',
      );
      expect(onHost(n, 'stat -c %U /mnt/pydio-data /mnt/pydio-config')).toBe('www-data\nwww-data');
    }
    // "Now touch a file on one node and verify it's on the other side."
    onHost('pynode1', `runuser -u www-data -- touch /mnt/pydio-data/from-pynode1`);
    expect(onHost('pynode2', 'stat -c %U /mnt/pydio-data/from-pynode1')).toBe('www-data');
    // The second node inherited the first node's configuration through the config volume.
    expect(bootstrapHost()).toBe(hostAddress('pydb1'));
    expect(onHost('pynode2', 'curl -s http://127.0.0.1/pydio/')).toContain(`db.host=${hostAddress('pydb1')}`);
    // HAProxy sticks on the application's Pydio cookie: one node answers a session throughout.
    expect(onHost('pylb1', `grep -E '^\\s+server ' /etc/haproxy/haproxy.cfg`)).toMatch(/cookie pynode1/);
    const seen = session(4);
    expect(new Set(seen.map((l) => l.split(' ')[0])).size).toBe(1);
    expect(seen.map((l) => l.split(' ')[1])).toEqual([1, 2, 3, 4].map((n) => `session.requests=${n}`));
    // The health checks on check.txt are not logged; the app's requests are.
    expect(onHost('pynode1', 'grep -c check.txt /var/log/nginx/access.log || true')).toBe('0');
    expect(Number(onHost('pynode1', 'grep -c /pydio/ /var/log/nginx/access.log || true'))).toBeGreaterThan(0);
    const history = await suite.history(r.workflowId);
    for (const secret of Object.values(SECRETS)) expect(history).not.toContain(secret);
  }, 600_000);

  it('rolls a maintenance through both nodes under steady load through HAProxy with no failed request', async () => {
    await suite.rollsUnderLoad(`http://${hostAddress('pylb1')}/pydio/`, SPEC, ['pynode1', 'pynode2']);
  }, 300_000);

  it('adds a compute node: it mounts both volumes and inherits the configuration, then serves', async () => {
    const joined = await run<NodeOperationResult>('node', 'join', 'pynode3', '-f', growing);
    expect(joined.changes.join('\n')).toMatch(/added to the LB/);
    expect(
      onHost('pynode3', 'findmnt -n -o FSTYPE /mnt/pydio-data; findmnt -n -o FSTYPE /mnt/pydio-config'),
    ).toBe('fuse.glusterfs\nfuse.glusterfs');
    expect(onHost('pynode3', 'curl -s http://127.0.0.1/pydio/')).toContain(`db.host=${hostAddress('pydb1')}`);
    expect(onHost('pynode3', 'ls /mnt/pydio-data')).toContain('from-pynode1');
  }, 300_000);

  it('adds a storage pair: the data volume becomes 2 x 2, the data stays, a re-run changes nothing', async () => {
    const r = await run<StorageResult>('run', 'storage-expand', '-f', grown, '--wait');
    expect(r.ok).toBe(true);
    expect(r.changes.join('\n')).toMatch(new RegExp(`bricks added: ${hostAddress('pyfs3')}:/mnt/ebs`));
    expect(onHost('pynode1', 'gluster --mode=script volume info pydio-data')).toMatch(
      /^Number of Bricks: 2 x 2 = 4$/m,
    );
    expect(onHost('pynode3', 'stat -c %U /mnt/pydio-data/from-pynode1')).toBe('www-data');
    expect((await run<StorageResult>('run', 'storage-expand', '-f', grown, '--wait')).changes).toEqual([]);
  }, 300_000);

  it('finds a node whose PHP-FPM pool was changed by hand, and fixes it', async () => {
    onHost(
      'pynode2',
      `sed -i 's/^pm.max_children = 8/pm.max_children = 50/' /etc/php/8.2/fpm/pool.d/www.conf`,
    );
    const found = await run<{ drift: Record<string, { key: string; node?: string }[]> }>(
      'run',
      'config-drift',
      '-f',
      grown,
      '--wait',
    );
    expect(found.drift.pynode2).toEqual([expect.objectContaining({ key: 'pm.max_children', node: '50' })]);
    expect(found.drift.pynode3).toEqual([]);
    await run('run', 'config-drift', '-f', grown, '--wait', '--fix');
    expect(onHost('pynode2', `grep '^pm.max_children' /etc/php/8.2/fpm/pool.d/www.conf`)).toBe(
      'pm.max_children = 8',
    );
  }, 300_000);

  it('switches the database over: the shared bootstrap.json names the new primary, seen by every node', async () => {
    const r = await suite.cli('db', 'switchover', '--to', 'pydb2', '-f', grown);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/pydb2\s+changed=1/)]);
    expect(bootstrapHost()).toBe(hostAddress('pydb2'));
    for (const n of ['pynode1', 'pynode2', 'pynode3'])
      expect(onHost(n, 'curl -s http://127.0.0.1/pydio/')).toContain(`db.host=${hostAddress('pydb2')}`);
  }, 300_000);

  it('re-runs the whole setup on the grown cluster: no change, verified on the primary of now', async () => {
    const r = await suite.setupChangesNothing(grown);
    expect(r.verification.map((v) => [v.check, v.ok])).toEqual([
      ['HTTP through pylb1', true],
      ['replication', true],
      ['shared storage', true],
    ]);
    expect(r.verification[1].detail).toMatch(/^written on pydb2/);
  }, 600_000);

  it('removes a compute node: out of HAProxy first, then stopped', async () => {
    const removed = await run<NodeOperationResult>('node', 'remove', 'pynode3', '-f', grown);
    expect(removed.changes.join('\n')).toMatch(/removed from the LB on pylb1/);
    expect(onHost('pylb1', `grep -c 'server pynode3' /etc/haproxy/haproxy.cfg || true`)).toBe('0');
    expect(onHost('pynode3', 'systemctl is-active nginx || true')).not.toBe('active');
  }, 300_000);
});
