import { hostAddress } from '../../lab/hosts';
import type { ClusterSetupResult } from '../../workflows/cluster';
import type { NodeOperationResult } from '../../workflows/node-operations';
import type { StorageResult } from '../../workflows/storage';
import { exampleSuite } from './example-suite';
import { onHost } from './helpers';

// examples/open-xchange (seed 002) through the CLI on its own lab hosts: the NFS filestore up to
// this kernel's line, then the rest of the cluster from the spec without it: MySQL master/slave by
// file and position, the groupware nodes (a Tomcat stand-in speaking AJP13) behind Apache
// mod_proxy_ajp with the routes their installer wrote, a rolling maintenance under load, a node
// joined and removed, drift, a switchover, a re-run that changes nothing.

const suite = exampleSuite('open-xchange');
const { run, spec: SPEC, secrets: SECRETS } = suite;
const ETC = '/opt/open-xchange/etc/groupware';

/** The spec as it runs past the kernel line: no storage section; `grow` adds oxgw3 as a node. */
const lab = (name: string, grow = false) =>
  suite.specCopy(name, (doc) => {
    delete doc.storage;
    if (grow) {
      for (const hook of doc.database?.appConfig ?? []) hook.hosts.push('oxgw3');
      doc.nodes.hosts.push('oxgw3');
    }
  });
const withoutStorage = lab('without-storage');
const grown = lab('grown', true);

const prop = (host: string, file: string, key: string) =>
  onHost(host, `sed -n 's/^${key.replace(/\./g, '\\.')}=//p' ${ETC}/${file}`);
const members = () =>
  [
    ...onHost('oxweb1', 'cat /etc/apache2/conf-available/proxy_ajp.conf').matchAll(
      /^\s*BalancerMember (.*)$/gm,
    ),
  ].map((m) => m[1]);
const session = (n: number) =>
  onHost(
    'oxweb1',
    `rm -f /tmp/jar; for i in $(seq ${n}); do curl -s -b /tmp/jar -c /tmp/jar http://127.0.0.1/ajax/ | grep -E '^(route|session.requests)=' | tr '\\n' ' '; echo; done`,
  ).split('\n');
const sql = (host: string, query: string) => onHost(host, `mariadb -N -e ${JSON.stringify(query)}`);

describe('the Open-Xchange example (seed 002)', () => {
  it('validates as shipped', async () => {
    expect(await suite.cli('validate', '-f', SPEC)).toMatchObject({ code: 0, stderr: '' });
  });

  it('exports the filestore with all_squash to the uid of open-xchange; the nodes stop at the mount, as this kernel has no NFS client', async () => {
    const r = await run<StorageResult>('run', 'storage-export', '-f', SPEC, '--wait');
    expect(r.ok).toBe(false);
    for (const gw of ['oxgw1', 'oxgw2'])
      expect(r.clients[gw]).toEqual({
        mounted: false,
        reason: expect.stringMatching(/kernel has no NFS client/),
      });
    expect(onHost('oxgw1', 'grep -w nfs4 /proc/filesystems || echo none')).toBe('none');
    const ganesha = onHost('oxdb1', 'cat /etc/ganesha/ganesha.conf');
    expect(ganesha).toMatch(/Path = "?\/var\/opt\/filestore"?;/);
    expect(ganesha).toMatch(/Squash = "?all(_squash)?"?;/i);
    expect(ganesha).toMatch(/Anonymous_Uid = 1600;/);
    expect(ganesha).toMatch(/Anonymous_Gid = 1600;/);
    expect(onHost('oxdb1', 'stat -c %u:%g /var/opt/filestore; id -u open-xchange')).toBe('1600:1600\n1600');
    // The export answers over the wire from a groupware node (libnfs; no kernel client needed).
    expect(
      onHost('oxgw1', `nfs-ls 'nfs://${hostAddress('oxdb1')}/var/opt/filestore?version=4' && echo listed`),
    ).toMatch(/listed$/);
    expect(onHost('oxgw1', 'grep /var/opt/filestore /etc/fstab')).toMatch(
      /^\S+:\/var\/opt\/filestore \/var\/opt\/filestore nfs /,
    );
  }, 300_000);

  it('sets up the rest by the guide: master/slave by file and position, the groupware nodes, Apache AJP members with their installer routes', async () => {
    const r = await run<ClusterSetupResult>('run', 'cluster-setup', '-f', withoutStorage, '--wait');
    expect(r.failures).toEqual([]);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['replication bootstrap', 'changed'],
      ['first node', 'changed'],
      ['further nodes', 'changed'],
      ['load balancer members', 'changed'],
      ['verification', 'ok'],
    ]);
    // server-id, log_bin, file/position replication (no GTID), both threads running.
    expect(sql('oxdb1', 'SELECT @@server_id, @@log_bin')).toBe('1\t1');
    expect(sql('oxdb2', 'SELECT @@server_id')).toBe('2');
    const slave = onHost('oxdb2', `mariadb -e 'SHOW SLAVE STATUS\\G'`);
    expect(slave).toMatch(/Slave_IO_Running: Yes/);
    expect(slave).toMatch(/Slave_SQL_Running: Yes/);
    expect(slave).toMatch(/Using_Gtid: No/);
    expect(slave).toMatch(/Master_User: replication/);
    // GRANT ALL PRIVILEGES ON *.* to openexchange from each groupware node.
    expect(sql('oxdb1', `SHOW GRANTS FOR 'openexchange'@'${hostAddress('oxgw2')}'`)).toMatch(
      /GRANT ALL PRIVILEGES ON \*\.\* TO `openexchange`@`[\d.]+`/,
    );
    // Each node's route is what its oxinstaller wrote (--jkroute), the member carries the guide's parameters.
    expect(prop('oxgw1', 'server.properties', 'AJP_JVM_ROUTE')).toBe('OX-1');
    expect(prop('oxgw2', 'server.properties', 'AJP_JVM_ROUTE')).toBe('OX-2');
    expect(members()).toEqual([
      `"ajp://${hostAddress('oxgw1')}:8009" smax=0 ttl=60 retry=5 loadfactor=50 route=OX-1`,
      `"ajp://${hostAddress('oxgw2')}:8009" smax=0 ttl=60 retry=5 loadfactor=50 route=OX-2`,
    ]);
    // A session sticks to its node: JSESSIONID ends in .OX-n.
    const seen = session(4);
    expect(new Set(seen.map((l) => l.split(' ')[0])).size).toBe(1);
    expect(seen.map((l) => l.split(' ')[1])).toEqual([1, 2, 3, 4].map((n) => `session.requests=${n}`));
    expect(onHost('oxweb1', `curl -s -c - -o /dev/null http://127.0.0.1/ajax/ | grep JSESSIONID`)).toMatch(
      /\.OX-[12]$/,
    );
    expect(prop('oxgw2', 'configdb.properties', 'writeUrl')).toBe(
      `jdbc:mysql://${hostAddress('oxdb1')}/configdb`,
    );
    const history = await suite.history(r.workflowId);
    for (const secret of Object.values(SECRETS)) expect(history).not.toContain(secret);
  }, 600_000);

  it('rolls a maintenance through both groupware nodes under steady load through Apache with no failed request', async () => {
    await suite.rollsUnderLoad(`http://${hostAddress('oxweb1')}/ajax/`, withoutStorage, ['oxgw1', 'oxgw2']);
  }, 300_000);

  it('joins a third groupware node: its installer writes OX-3, Apache gets that route', async () => {
    const joined = await run<NodeOperationResult>('node', 'join', 'oxgw3', '-f', withoutStorage);
    expect(joined.changes.join('\n')).toMatch(/install play: \d+ task\(s\) changed/);
    // The role's cache.ccf is oxgw1's already, so deriving it from oxgw1 changes nothing.
    const md5 = (h: string) => onHost(h, `md5sum < ${ETC}/cache.ccf`);
    expect(md5('oxgw3')).toBe(md5('oxgw1'));
    expect(prop('oxgw3', 'server.properties', 'AJP_JVM_ROUTE')).toBe('OX-3');
    expect(members()[2]).toBe(
      `"ajp://${hostAddress('oxgw3')}:8009" smax=0 ttl=60 retry=5 loadfactor=50 route=OX-3`,
    );
  }, 300_000);

  it("finds a node whose cache.ccf lost the guide's discovery settings, and fixes it", async () => {
    onHost('oxgw2', `sed -i 's/UdpDiscoveryEnabled=true/UdpDiscoveryEnabled=false/' ${ETC}/cache.ccf`);
    const found = await run<{ drift: Record<string, { key: string }[]> }>(
      'run',
      'config-drift',
      '-f',
      grown,
      '--wait',
    );
    expect(found.drift.oxgw2.map((d) => d.key)).toEqual([
      'jcs.auxiliary.LTCP.attributes.UdpDiscoveryEnabled',
    ]);
    expect(found.drift.oxgw3).toEqual([]);
    await run('run', 'config-drift', '-f', grown, '--wait', '--fix');
    expect(prop('oxgw2', 'cache.ccf', 'jcs.auxiliary.LTCP.attributes.UdpDiscoveryEnabled')).toBe('true');
  }, 300_000);

  it("switches the master over: every node's configdb points at the new master, and the groupware still serves", async () => {
    const r = await suite.cli('db', 'switchover', '--to', 'oxdb2', '-f', grown);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/oxdb2\s+changed=1/)]);
    const url = `jdbc:mysql://${hostAddress('oxdb2')}/configdb`;
    for (const gw of ['oxgw1', 'oxgw2', 'oxgw3']) {
      expect(prop(gw, 'configdb.properties', 'writeUrl')).toBe(url);
      expect(prop(gw, 'configdb.properties', 'readUrl')).toBe(url);
    }
    expect(onHost('oxweb1', 'curl -s -f http://127.0.0.1/ajax/')).toContain(`writeUrl=${url}`);
  }, 300_000);

  it('re-runs the whole setup on the converged cluster: no change, verified on the master of now', async () => {
    const r = await suite.setupChangesNothing(grown);
    expect(r.verification.map((v) => [v.check, v.ok])).toEqual([
      ['HTTP through oxweb1', true],
      ['replication', true],
    ]);
    expect(r.verification[1].detail).toMatch(/^written on oxdb2/);
  }, 600_000);

  it('removes a groupware node: out of Apache first, then stopped', async () => {
    const removed = await run<NodeOperationResult>('node', 'remove', 'oxgw3', '-f', grown);
    expect(removed.changes.join('\n')).toMatch(/removed from the LB on oxweb1/);
    expect(members().map((m) => m.replace(/.* route=/, ''))).toEqual(['OX-1', 'OX-2']);
    expect(onHost('oxgw3', 'systemctl is-active open-xchange-groupware || true')).not.toBe('active');
  }, 300_000);
});
