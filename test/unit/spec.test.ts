import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { databaseInput, loadSpec, requireMember, SpecError } from '../../client/spec';

const dir = mkdtempSync(path.join(tmpdir(), 'cf-spec-'));
writeFileSync(
  path.join(dir, 'hosts.ini'),
  [
    '[db]',
    'db1 ansible_host=10.1.0.1',
    'db2 ansible_host=10.1.0.2',
    'db3 ansible_host=10.1.0.3',
    '',
    '[app]',
    'app1 ansible_host=10.1.0.21',
    'app2 ansible_host=10.1.0.22',
    '',
  ].join('\n'),
);

function spec(doc: Record<string, unknown>): string {
  const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify({ cluster: 'ox', inventory: 'hosts.ini', ...doc }));
  return file;
}

const db = (over: Record<string, unknown> = {}) => ({
  primary: 'db1',
  replicas: 'db',
  admin: { password: 'env:A' },
  replication: { password: 'env:R' },
  ...over,
});

function problems(file: string): string[] {
  try {
    databaseInput(loadSpec(file));
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  return [];
}

describe('cluster spec', () => {
  it('expands a replica group without the primary and numbers server-ids around the ones given', () => {
    const input = databaseInput(loadSpec(spec({ database: db({ serverIds: { db3: 1 } }) })));
    expect(input.members.map((m) => [m.name, m.address, m.serverId])).toEqual([
      ['db1', '10.1.0.1', 2],
      ['db2', '10.1.0.2', 3],
      ['db3', '10.1.0.3', 1],
    ]);
    expect(input.settings.replication).toMatchObject({
      user: 'replication',
      gtid: true,
      netTimeoutSeconds: 3,
    });
    expect(input.settings.admin.password).toBe('env:A'); // still a reference
  });

  it('resolves application sources to addresses and keeps literal addresses and patterns', () => {
    const input = databaseInput(
      loadSpec(
        spec({
          database: db({
            applications: [
              { user: 'ox', password: 'env:P', database: 'oxdb', from: ['app', '10.9.0.%', '192.0.2.7'] },
            ],
          }),
        }),
      ),
    );
    expect(input.applications[0].from).toEqual(['10.1.0.21', '10.1.0.22', '10.9.0.%', '192.0.2.7']);
    expect(input.applications[0].privileges).toBe('ALL PRIVILEGES');
  });

  it('reports every bad reference at once, each with the path of its field', () => {
    expect(
      problems(
        spec({
          database: db({
            primary: 'app',
            replicas: ['db2', 'db3', 'db9'],
            serverIds: { db2: 5, db3: 5, web1: 2 },
            applications: [{ user: 'ox', password: 'env:P', database: 'oxdb', from: ['nosuch'] }],
            appConfig: [{ hosts: 'appz', path: '/etc/x.properties', key: 'db.host' }],
          }),
        }),
      ),
    ).toEqual([
      'database.primary: "app" is a group of 2 hosts; name one host',
      'database.replicas[2]: unknown host or group "db9"',
      "database.serverIds.db3: server-id 5 is also db2's",
      'database.serverIds.web1: not a database member',
      'database.applications[0].from[0]: unknown host or group "nosuch"',
      'database.appConfig[0].hosts[0]: unknown host or group "appz"',
    ]);
  });

  it('rejects secret values, unknown keys and bad names by path before resolving anything', () => {
    let err: unknown;
    try {
      loadSpec(spec({ databse: {}, database: db({ admin: { password: 'hunter2' }, port: 0 }) }));
    } catch (e) {
      err = e;
    }
    expect((err as SpecError).problems).toEqual([
      'database.port: Too small: expected number to be >=1',
      'database.admin.password: must be a reference like env:NAME or file:/absolute/path',
      '(top): Unrecognized key: "databse"',
    ]);
  });

  it('needs an inventory, from the spec or the command line', () => {
    const file = path.join(dir, 'noinv.yml');
    writeFileSync(file, stringify({ cluster: 'ox', database: db() }));
    expect(() => loadSpec(file)).toThrow(/inventory: give the inventory here or with -i/);
    expect(loadSpec(file, { inventory: path.join(dir, 'hosts.ini') }).spec.cluster).toBe('ox');
  });

  it('refuses an operation target that is not a member', () => {
    const input = databaseInput(loadSpec(spec({ database: db() })));
    expect(() => requireMember(input, 'app1', '--to')).toThrow(
      /--to: "app1" is not a database member \(db1, db2, db3\)/,
    );
    expect(() => requireMember(input, 'db2', '--to')).not.toThrow();
  });
});
