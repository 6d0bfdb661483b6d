import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { startOperation } from '../../client/connection';
import { buildNodeOperation, type NodeOperation, type NodeOperationOptions } from '../../client/nodes';
import { loadSpec } from '../../client/spec';
import { down, hostAddress, labFiles, up } from '../../lab/hosts';
import type { Drift } from '../../activities/node-config';
import type { NodeOperationResult } from '../../workflows/node-operations';
import { setupLabLb } from '../fixtures/lb/lab-lb';
import { CFAPP_LICENSE_COMMANDS, installLicenseTool, licenseService } from '../fixtures/license/service';
import { testSettings, withWorker } from './helpers';
import { APPS, installApps, onHost } from './rolling-suite';

// node-join (seed 000's further node), node-remove and config-drift through the dev server, on a
// redundant pair of real HAProxy hosts in front of the stand-in app: every change lands on both.

const LB = 'lb1';
const LB2 = 'lb4';
const NEW = 'app4';
const settings = testSettings();
const cluster = `nodes-${Date.now().toString(36)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-nodes-'));
const fixture = (f: string) => path.join(__dirname, '../fixtures/app', f);
// The joining node's license: activated by node-join, its seat freed by node-remove.
process.env.CF_NODES_LICENSE_KEY = `CFAPP-NODES-${Date.now()}`;
const licensing = licenseService(dir, { [process.env.CF_NODES_LICENSE_KEY]: 1 });

/** Installs the program only: a further node's config comes from the reference node, not from here. */
function programPlaybook(): string {
  const file = path.join(dir, 'program.yml');
  writeFileSync(
    file,
    `- hosts: all
  tasks:
    - { name: program folder, file: { path: /opt/cfapp, state: directory } }
    - { name: config folder, file: { path: /etc/cfapp, state: directory } }
    - { name: program, copy: { src: ${fixture('cfapp.py')}, dest: /opt/cfapp/cfapp.py, mode: '0755' } }
    - { name: unit, copy: { src: ${fixture('cfapp.service')}, dest: /etc/systemd/system/cfapp.service }, notify: reload units }
  handlers:
    - { name: reload units, command: { cmd: systemctl daemon-reload } }
`,
  );
  return file;
}

function spec(hosts: string[]): string {
  const file = path.join(dir, `spec-${hosts.length}.yml`);
  writeFileSync(
    file,
    `cluster: ${cluster}
inventory: ${labFiles.inventory}
loadBalancer: { kind: haproxy, hosts: [${LB}, ${LB2}], backend: app, pollSeconds: 0.5 }
nodes:
  hosts: [${hosts.join(', ')}]
  reference: app1
  service: cfapp
  port: 8080
  user: { name: cfapp, uid: 1001, gid: 1001 }
  packages: [python3]
  install: ${programPlaybook()}
  config:
    path: /etc/cfapp/server.properties
    nodeSpecific: [hostname, nick, nodeid]
    set: { hostname: '{{ inventory_hostname }}', nick: '{{ inventory_hostname }}' }
    delete: [nodeid]
  health: { http: { path: /check.txt }, successes: 2, intervalSeconds: 0.5, timeoutSeconds: 15 }
license:
  hosts: [${NEW}]
  driver: command
  command:
    ${CFAPP_LICENSE_COMMANDS}
  key: env:CF_NODES_LICENSE_KEY
`,
  );
  return file;
}

async function run<T>(
  operation: NodeOperation,
  file: string,
  options: NodeOperationOptions = {},
): Promise<T> {
  const op = buildNodeOperation(loadSpec(file), operation, options);
  return withWorker(
    settings,
    async (client) => (await startOperation(client, settings, op)).result() as Promise<T>,
  );
}

const haproxyServers = (lb = LB) =>
  onHost(lb, `echo 'show servers state app' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`)
    .split('\n')
    .filter((l) => /^\d+ app /.test(l))
    .map((l) => l.split(/\s+/))
    // admin state bit 4 only records a `disabled` in the config the runtime API has since overridden
    .map((f) => `${f[3]}:${(Number(f[6]) & ~4) === 0 ? 'ready' : 'out'}`);

afterAll(async () => {
  licensing.stop();
  // lb1 and app1..3 serve the rolling and UI suites too; global teardown removes them at the end.
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down([LB2, NEW]);
}, 120_000);

beforeAll(async () => {
  licensing.start();
  await up([LB, LB2, ...APPS, NEW]);
  await installApps(settings);
  for (const lb of [LB, LB2])
    setupLabLb(
      'haproxy',
      lb,
      APPS.map((name) => ({ name, address: hostAddress(name) })),
    );
  // app4 starts as a plain host: whatever an earlier run left is removed
  onHost(
    NEW,
    'systemctl disable --now cfapp 2>/dev/null; userdel cfapp 2>/dev/null; groupdel cfapp 2>/dev/null; rm -rf /opt/cfapp /etc/cfapp /etc/systemd/system/cfapp.service; true',
  );
  installLicenseTool([NEW], licensing.url);
});

describe('node-join', () => {
  it('refuses a node whose service group has another gid, reporting every problem, and changes nothing', async () => {
    onHost(NEW, 'groupadd -g 1500 cfapp && useradd -u 1600 -g cfapp -M cfapp');
    try {
      await run('node-join', spec(APPS), { node: NEW });
      throw new Error('the join went ahead');
    } catch (err) {
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message = String((err as WorkflowFailedError).cause?.message);
      expect(message).toMatch(/gid: cfapp is gid 1500 on app4, the spec says 1001/);
      expect(message).toMatch(/uid: cfapp is uid 1600 on app4, the spec says 1001/);
    }
    expect(onHost(NEW, 'test -e /opt/cfapp && echo installed || echo absent')).toBe('absent');
    expect(haproxyServers()).toEqual(['app1:ready', 'app2:ready', 'app3:ready']);
    onHost(NEW, 'userdel cfapp; groupdel cfapp 2>/dev/null; true');
  });

  it('adds a further node: program, config from the reference with its own keys, healthy, then into the LB; a re-run changes nothing', async () => {
    const joined = await run<NodeOperationResult>('node-join', spec(APPS), { node: NEW });
    expect(joined.changed).toBe(true);
    expect(joined.changes.join('\n')).toMatch(/server.properties derived from app1/);
    expect(onHost(NEW, 'id -u cfapp; id -g cfapp')).toBe('1001\n1001');
    const props = onHost(NEW, 'cat /etc/cfapp/server.properties');
    expect(props).toMatch(/^hostname=app4$/m);
    expect(props).toMatch(/^nick=app4$/m);
    expect(props).not.toMatch(/^nodeid=/m);
    expect(props).toMatch(/^port=8080$/m);
    for (const lb of [LB, LB2]) {
      expect(haproxyServers(lb)).toEqual(['app1:ready', 'app2:ready', 'app3:ready', 'app4:ready']);
      expect(onHost(lb, 'grep -c "server app4 " /etc/haproxy/haproxy.cfg')).toBe('1');
    }
    expect(joined.changes.join('\n')).toMatch(/added to the LB \(disabled\) on lb1, lb4/);
    // the LB sends a session for app4 to app4
    const res = await fetch(`http://${hostAddress(LB)}/`, { headers: { cookie: 'SERVERID=app4' } });
    expect(res.headers.get('x-node')).toBe('app4');

    const again = await run<NodeOperationResult>('node-join', spec(APPS), { node: NEW });
    expect(again.changes).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it("activates the joined node's license once it serves", async () => {
    const seats = await licensing.seats(process.env.CF_NODES_LICENSE_KEY!);
    expect(seats.fingerprints).toEqual([onHost(NEW, 'cat /etc/machine-id')]);
    // the first join activated it; the re-run above found it active and sent nothing
    expect(Object.values(seats.activations)).toEqual([1]);
  });
});

describe('config-drift', () => {
  it('reports a key that differs from the reference, ignores node-specific keys, and --fix converges it', async () => {
    onHost(
      'app2',
      "sed -i 's/^session.idle.seconds=.*/session.idle.seconds=99/' /etc/cfapp/server.properties",
    );
    const found = await run<{ drift: Record<string, Drift[]> }>('config-drift', spec([...APPS, NEW]));
    expect(found.drift).toEqual({
      app2: [{ key: 'session.idle.seconds', reference: '30', node: '99' }],
      app3: [],
      // app4 has no nodeid (the seed deletes it) and its own hostname/nick: not drift
      app4: [],
    });
    await run('config-drift', spec([...APPS, NEW]), { fix: true });
    expect(onHost('app2', 'grep ^session.idle.seconds= /etc/cfapp/server.properties')).toBe(
      'session.idle.seconds=30',
    );
    const after = await run<{ drift: Record<string, Drift[]> }>('config-drift', spec([...APPS, NEW]));
    expect(Object.values(after.drift).flat()).toEqual([]);
  });
});

describe('node-remove', () => {
  it('drains, stops and removes the node from the LB and its config; a re-run changes nothing', async () => {
    const removed = await run<NodeOperationResult>('node-remove', spec([...APPS, NEW]), { node: NEW });
    expect(removed.changes.join('\n')).toMatch(/removed from the LB on lb1, lb4/);
    expect(removed.changes).toContain('license deactivated (seat freed)');
    expect((await licensing.seats(process.env.CF_NODES_LICENSE_KEY!)).used).toBe(0);
    for (const lb of [LB, LB2]) {
      expect(haproxyServers(lb)).toEqual(['app1:ready', 'app2:ready', 'app3:ready']);
      expect(onHost(lb, 'grep -c "server app4 " /etc/haproxy/haproxy.cfg || true')).toBe('0');
    }
    expect(onHost(NEW, 'systemctl is-active cfapp || true')).toBe('inactive');
    const again = await run<NodeOperationResult>('node-remove', spec([...APPS, NEW]), { node: NEW });
    expect(again.changed).toBe(false);
  });
});
