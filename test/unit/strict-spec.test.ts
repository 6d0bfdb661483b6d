import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { formatPath } from '../../common/parse-strict';
import { ClusterSpecSchema, loadSpec, SpecError } from '../../client/spec';
import { validateSpec } from '../../client/validate';

// Nothing an operator writes in a cluster spec is silently dropped: a typo'd key anywhere is an
// error naming the file, the key's path and, when one is close, the key they meant.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-strict-spec-'));
const inventory = path.join(dir, 'hosts.ini');
writeFileSync(
  inventory,
  [
    '[db]',
    'db1 ansible_host=10.1.0.1',
    'db2 ansible_host=10.1.0.2',
    '[app]',
    'app1 ansible_host=10.1.0.21',
    'app2 ansible_host=10.1.0.22',
    '[lb]',
    'lb1 ansible_host=10.1.0.30',
    '',
  ].join('\n'),
);

// A spec here is free-form JSON that the tests poke into at any depth.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A spec that fills every object a section can hold, so a typo can go into any of them. */
function fullSpec(): Record<string, Json> {
  return {
    cluster: 'ox',
    inventory: 'hosts.ini',
    database: {
      primary: 'db1',
      replicas: ['db2'],
      admin: { password: 'env:A' },
      replication: { password: 'env:R' },
      config: { options: {} },
      switchover: { approval: { required: false } },
      failover: {},
      applications: [{ user: 'ox', password: 'env:P', database: 'oxdb', from: 'app' }],
      appConfig: [{ hosts: 'app', path: '/etc/x.properties', key: 'db.host' }],
    },
    storage: {
      kind: 'nfs',
      owner: { user: 'ox', uid: 1001, gid: 1001 },
      nfs: { server: 'db1', exports: [{ path: '/srv/x', clients: [{ hosts: 'app' }] }] },
      clients: { hosts: 'app', mountPoint: '/srv/x' },
    },
    loadBalancer: { kind: 'haproxy', hosts: 'lb1', backend: 'app', haproxy: {}, frontend: {} },
    nodes: {
      hosts: 'app',
      service: 'cfapp',
      user: { name: 'cfapp', uid: 1001, gid: 1001 },
      config: { path: '/etc/cfapp.properties' },
      health: { http: {}, tcp: {} },
      sessions: { command: 'cfapp sessions' },
      maintenance: { window: { timezone: 'Europe/Berlin', start: '01:00', end: '03:00' } },
    },
    license: {
      hosts: 'app',
      driver: 'command',
      command: { check: 'c', activate: 'a', deactivate: 'd' },
      key: 'env:K',
    },
  };
}

const variants: Record<string, (s: Record<string, Json>) => void> = {
  glusterfs: (s) => {
    delete s.storage.nfs;
    s.storage.kind = 'glusterfs';
    s.storage.glusterfs = { servers: ['db1', 'db2'], volume: 'data', brick: '/srv/brick' };
  },
  apache: (s) => {
    s.loadBalancer = { kind: 'apache', hosts: 'lb1', backend: 'app', config: '/etc/a.conf', apache: {} };
  },
  lvs: (s) => {
    s.loadBalancer = { kind: 'lvs', hosts: 'lb1', backend: '10.1.0.30:80', lvs: {} };
  },
  http: (s) => {
    s.license = { hosts: 'app', driver: 'http', http: { endpoint: 'http://127.0.0.1:9/' }, key: 'env:K' };
  },
};

/** JSON is YAML too, and keeps `01:00` a string where YAML 1.1 would read a base-60 number. */
function write(doc: unknown): string {
  const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

function problemsOf(file: string): string[] {
  try {
    loadSpec(file);
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  return [];
}

describe('strict cluster spec', () => {
  it.each([undefined, ...Object.keys(variants)])('loads with every object filled in (%s)', (variant) => {
    const doc = fullSpec();
    if (variant) variants[variant](doc);
    expect(problemsOf(write(doc))).toEqual([]);
  });

  // [the object's path, the typo written there, the key it meant, the spec variant ('' for the full one)]
  const typos: [(string | number)[], string, string, string][] = [
    [[], 'databse', 'database', ''],
    [['database'], 'replcas', 'replicas', ''],
    [['database', 'admin'], 'pasword', 'password', ''],
    [['database', 'replication'], 'semisync', 'semiSync', ''],
    [['database', 'config'], 'option', 'options', ''],
    [['database', 'switchover'], 'maxLagSecs', 'maxLagSeconds', ''],
    [['database', 'switchover', 'approval'], 'require', 'required', ''],
    [['database', 'failover'], 'antiFlapingSeconds', 'antiFlappingSeconds', ''],
    [['database', 'applications', 0], 'privilege', 'privileges', ''],
    [['database', 'appConfig', 0], 'restrat', 'restart', ''],
    [['storage'], 'clinets', 'clients', ''],
    [['storage', 'owner'], 'mod', 'mode', ''],
    [['storage', 'nfs'], 'backnd', 'backend', ''],
    [['storage', 'nfs', 'exports', 0], 'paht', 'path', ''],
    [['storage', 'nfs', 'exports', 0, 'clients', 0], 'option', 'options', ''],
    [['storage', 'clients'], 'mountpoint', 'mountPoint', ''],
    [['storage', 'glusterfs'], 'replicas', 'replica', 'glusterfs'],
    [['loadBalancer'], 'backends', 'backend', ''],
    [['loadBalancer', 'haproxy'], 'sockt', 'socket', ''],
    [['loadBalancer', 'apache'], 'managerURL', 'managerUrl', 'apache'],
    [['loadBalancer', 'lvs'], 'wieght', 'weight', 'lvs'],
    [['loadBalancer', 'frontend'], 'prot', 'port', ''],
    [['nodes'], 'serivce', 'service', ''],
    [['nodes', 'user'], 'nmae', 'name', ''],
    [['nodes', 'config'], 'nodeSpecifc', 'nodeSpecific', ''],
    [['nodes', 'health'], 'succeses', 'successes', ''],
    [['nodes', 'health', 'http'], 'staus', 'status', ''],
    [['nodes', 'health', 'tcp'], 'prot', 'port', ''],
    [['nodes', 'sessions'], 'comand', 'command', ''],
    [['nodes', 'maintenance'], 'drainTimeoutSecs', 'drainTimeoutSeconds', ''],
    [['nodes', 'maintenance', 'window'], 'timeZone', 'timezone', ''],
    [['license'], 'concurency', 'concurrency', ''],
    [['license', 'command'], 'keyvia', 'keyVia', ''],
    [['license', 'http'], 'endpiont', 'endpoint', 'http'],
  ];

  it.each(typos)('refuses a typo in %j: %s, naming the path and %s', (at, typo, meant, variant) => {
    const doc = fullSpec();
    if (variant) variants[variant](doc);
    const target = at.reduce<Record<string | number, unknown>>(
      (o, k) => o[k] as Record<string | number, unknown>,
      doc,
    );
    target[typo] = 1;
    expect(problemsOf(write(doc))).toEqual([
      `${formatPath([...at, typo])}: unknown key; did you mean ${meant}?`,
    ]);
  });

  it('names the spec file in the error', () => {
    const doc = fullSpec();
    doc.nodes.maintenance.drainTimeoutSecs = 30;
    const file = write(doc);
    expect(() => loadSpec(file)).toThrow(
      `${file}:\n  nodes.maintenance.drainTimeoutSecs: unknown key; did you mean drainTimeoutSeconds?`,
    );
  });

  it('lists the keys of the object when no key is close', () => {
    const doc = fullSpec();
    doc.database.admin.certificate = 'file:/x';
    expect(problemsOf(write(doc))).toEqual([
      'database.admin.certificate: unknown key (expected one of: user, password)',
    ]);
  });

  it('reports every unknown key at once, one line each', () => {
    const doc = fullSpec();
    doc.storage.owner.mod = '0770';
    doc.storage.owner.usr = 'ox';
    doc.license.retryForHour = 2;
    expect(problemsOf(write(doc))).toEqual([
      'storage.owner.mod: unknown key; did you mean mode?',
      'storage.owner.usr: unknown key; did you mean user?',
      'license.retryForHour: unknown key; did you mean retryForHours?',
    ]);
  });

  it('refuses settings for a kind the section is not, which nothing would read', () => {
    const doc = fullSpec();
    doc.loadBalancer.apache = { managerUrl: 'http://127.0.0.1/balancer-manager' };
    doc.storage.glusterfs = { servers: ['db1', 'db2'], volume: 'data', brick: '/srv/brick' };
    doc.license.http = { endpoint: 'http://127.0.0.1:9/' };
    expect(problemsOf(write(doc))).toEqual([
      'loadBalancer.apache: settings for kind apache, but this kind is haproxy',
      'storage.glusterfs: settings for kind glusterfs, but this kind is nfs',
      'license.http: settings for driver http, but this driver is command',
    ]);
  });

  it('puts a typo in front of validate, which blocks every start', () => {
    const doc = fullSpec();
    doc.nodes.maintenance.drainTimeoutSecs = 30;
    const v = validateSpec(write(doc));
    expect(v.valid).toBe(false);
    expect(v.problems).toEqual([
      'nodes.maintenance.drainTimeoutSecs: unknown key; did you mean drainTimeoutSeconds?',
    ]);
  });

  it('has no object anywhere in the schema that would drop an unknown key', () => {
    // Walks every schema a spec can reach; an object that is not strict strips what it does not know.
    const loose: string[] = [];
    const seen = new Set<unknown>();
    const walk = (schema: z.ZodType | undefined, at: string) => {
      if (!schema || seen.has(schema)) return;
      seen.add(schema);
      const def = (schema as unknown as { _zod: { def: Record<string, Json> } })._zod.def;
      if (def.type === 'object') {
        if (def.catchall?._zod.def.type !== 'never') loose.push(at || '(top)');
        for (const [k, v] of Object.entries(def.shape)) walk(v as z.ZodType, at ? `${at}.${k}` : k);
      }
      for (const k of ['innerType', 'in', 'out', 'element', 'valueType'])
        walk(def[k], k === 'element' ? `${at}[]` : at);
      for (const o of def.options ?? []) walk(o, at);
    };
    walk(ClusterSpecSchema, '');
    expect(seen.size).toBeGreaterThan(50);
    expect(loose).toEqual([]);
  });
});
