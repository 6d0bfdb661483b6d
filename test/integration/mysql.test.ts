import { spawnSync } from 'node:child_process';
import { down, sshArgs, up } from '../../lab/hosts';
import type { PlayResult } from '../../common/play';
import { nativePasswordHash } from '../../activities/modules/mysql/user';
import { shellQuote } from '../../activities/ssh/quote';
import type { Client } from '@temporalio/client';
import { testSettings, withWorker } from './helpers';
import { changedCount, runPlaybook } from './play-helpers';

// mysql_db, mysql_user and mysql_query as a play on a lab host of their own running MariaDB 10.11,
// logged in as Debian's root does it: over the socket, no password (unix_socket). The host is
// made for this file and removed after it, so nothing it creates outlives the suite.

const settings = testSettings();
const HOST = 'mysql1';
const SOCKET = '/run/mysqld/mysqld.sock';
const APP_PW = "app-'Pa55'-w0rd";
const NEW_PW = 'n3w-Pa55-w0rd';

function onHost(command: string): string {
  const r = spawnSync('ssh', [...sshArgs(HOST), '--', command], { encoding: 'utf8', timeout: 30_000 });
  return `${r.status}|${r.stdout}${r.stderr}`.trim();
}
const sqlOnHost = (sql: string) => onHost(`mariadb -N -B -e ${shellQuote(sql)}`);

const root = { login_unix_socket: SOCKET };
const play = (tasks: Record<string, unknown>[]) => [{ hosts: HOST, vars: { app_pw: APP_PW }, tasks }];
const resultOf = (r: PlayResult, task: number) => r.tasks[task].hosts[0].result;
/** The failed tasks' messages: a failure reads as what went wrong, not as a count. */
const failures = (r: PlayResult) =>
  r.tasks.flatMap((t) => t.hosts.filter((h) => h.result?.failed).map((h) => `${t.task}: ${h.result?.msg}`));

const converge = play([
  {
    name: 'databases',
    'community.mysql.mysql_db': {
      name: ['cf_app', 'cf_logs'],
      encoding: 'utf8mb4',
      collation: 'utf8mb4_bin',
      ...root,
    },
  },
  {
    name: 'app account from the network',
    'community.mysql.mysql_user': {
      name: 'cf_app',
      host: '10.77.0.%',
      password: '{{ app_pw }}',
      priv: 'cf_app.*:ALL/cf_logs.*:SELECT,INSERT',
      ...root,
    },
  },
  {
    name: 'app account on the host (dict form)',
    mysql_user: {
      name: 'cf_app',
      password: '{{ app_pw }}',
      priv: { 'cf_app.*': 'ALL', 'cf_logs.*': 'SELECT' },
      ...root,
    },
  },
  {
    name: 'schema',
    mysql_query: {
      query: 'CREATE TABLE IF NOT EXISTS cf_app.t (id INT PRIMARY KEY, v VARCHAR(20))',
      ...root,
    },
  },
  {
    name: 'a row',
    mysql_query: {
      query: [
        'INSERT IGNORE INTO cf_app.t VALUES (%s, %s)',
        'SELECT v FROM cf_app.t WHERE id = %s AND v = %s',
      ],
      positional_args: [1, "it's"],
      single_transaction: true,
      ...root,
    },
  },
]);

// One worker for the file: starting one costs seconds, and the cases run in order anyway.
let client: Client;
let stopWorker = () => {};
let worker: Promise<void> | undefined;

beforeAll(async () => {
  const [ready] = await Promise.all([
    new Promise<Client>((resolve, reject) => {
      worker = withWorker(settings, (c) => {
        resolve(c);
        return new Promise<void>((stop) => (stopWorker = stop));
      }).catch(reject);
    }),
    up([HOST]),
  ]);
  client = ready;
  expect(onHost(`systemctl start mariadb && test -S ${SOCKET} && echo up`)).toBe('0|up');
}, 120_000);

afterAll(async () => {
  stopWorker();
  await worker;
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down([HOST]);
}, 120_000);

describe('mysql modules through Temporal on a MariaDB lab host', () => {
  it('creates databases, accounts with privileges and a table; re-applying and check mode change nothing', async () => {
    const grants = () =>
      sqlOnHost("SHOW GRANTS FOR 'cf_app'@'10.77.0.%'; SHOW GRANTS FOR 'cf_app'@'localhost'");
    const before = grants();
    const checked = await runPlaybook(client, settings, converge, { check: true });
    expect(checked.recap[HOST]).toMatchObject({ failed: 0, changed: 3, skipped: 2 });
    expect(resultOf(checked, 1)?.msg).toMatch(/^would create 'cf_app'@'10.77.0.%'/);
    expect(grants()).toBe(before);

    const applied = await runPlaybook(client, settings, converge, { diff: true });
    expect(failures(applied)).toEqual([]);
    expect(applied.recap[HOST]).toMatchObject({ failed: 0, unreachable: 0 });
    expect(changedCount(applied, HOST)).toBe(5);
    expect(resultOf(applied, 0)?.data).toMatchObject({
      db_list: ['cf_app', 'cf_logs'],
      executed_commands: [
        "CREATE DATABASE `cf_app` CHARACTER SET 'utf8mb4' COLLATE 'utf8mb4_bin'",
        "CREATE DATABASE `cf_logs` CHARACTER SET 'utf8mb4' COLLATE 'utf8mb4_bin'",
      ],
    });
    expect(resultOf(applied, 4)?.data).toMatchObject({
      rowcount: [1, 1],
      query_result: [[], [{ v: "it's" }]],
      executed_queries: [
        "INSERT IGNORE INTO cf_app.t VALUES (1, 'it\\'s')",
        "SELECT v FROM cf_app.t WHERE id = 1 AND v = 'it\\'s'",
      ],
    });
    expect(resultOf(applied, 1)?.diff).toEqual({
      before: 'cf_app@10.77.0.%: absent\n',
      after: 'cf_app@10.77.0.%: present\nprivileges: cf_app.*:ALL/cf_logs.*:SELECT,INSERT\n',
    });
    // The password is in no result, message or diff: only the hash went to the server.
    expect(JSON.stringify(applied)).not.toContain('Pa55');

    const again = await runPlaybook(client, settings, converge);
    expect(again.recap[HOST]).toMatchObject({ changed: 0, failed: 0 });
    const checkedAgain = await runPlaybook(client, settings, converge, { check: true });
    expect(checkedAgain.recap[HOST]).toMatchObject({ changed: 0, failed: 0 });
    const hash = nativePasswordHash(APP_PW);
    expect(grants().split('\n')).toEqual([
      `0|GRANT USAGE ON *.* TO \`cf_app\`@\`10.77.0.%\` IDENTIFIED BY PASSWORD '${hash}'`,
      'GRANT ALL PRIVILEGES ON `cf_app`.* TO `cf_app`@`10.77.0.%`',
      'GRANT SELECT, INSERT ON `cf_logs`.* TO `cf_app`@`10.77.0.%`',
      `GRANT USAGE ON *.* TO \`cf_app\`@\`localhost\` IDENTIFIED BY PASSWORD '${hash}'`,
      'GRANT ALL PRIVILEGES ON `cf_app`.* TO `cf_app`@`localhost`',
      'GRANT SELECT ON `cf_logs`.* TO `cf_app`@`localhost`',
    ]);
    expect(
      sqlOnHost(
        "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'cf_app'",
      ),
    ).toBe('0|utf8mb4_bin');
  });

  it('changes a password and takes privileges away, logs in with it over TCP, then removes everything', async () => {
    const asApp = (password: string) => ({
      login_user: 'cf_app',
      login_password: password,
      login_host: '127.0.0.1',
      query: 'SELECT CURRENT_USER() AS u',
    });
    const tighten = play([
      { mysql_user: { name: 'cf_app', password: NEW_PW, priv: 'cf_app.*:SELECT', ...root } },
      { mysql_query: asApp(NEW_PW) },
      { mysql_query: asApp(APP_PW), ignore_errors: true },
      { mysql_db: { name: 'x', login_unix_socket: '/run/nowhere.sock' }, ignore_errors: true },
    ]);
    // Option file, implicit admin: the other ways roles log in as root.
    onHost(`printf '[client]\\nsocket = ${SOCKET}\\n' > /root/.my.cnf`);
    const remove = play([
      { mysql_user: { name: 'cf_app', host_all: true, state: 'absent' } },
      {
        mysql_db: {
          name: 'cf_app,cf_logs',
          state: 'absent',
          check_implicit_admin: true,
          login_user: 'nobody',
          login_password: 'wrong',
        },
      },
    ]);
    const tightened = await runPlaybook(client, settings, tighten);
    expect(resultOf(tightened, 0)).toMatchObject({
      changed: true,
      data: { msg: 'Privileges updated', password_changed: true },
    });
    expect(resultOf(tightened, 1)?.data?.query_result).toEqual([[{ u: 'cf_app@localhost' }]]);
    expect(resultOf(tightened, 2)?.failed).toBe(true);
    expect(resultOf(tightened, 2)?.msg).toMatch(
      /unable to connect to database.*Access denied for user 'cf_app'@'localhost'/,
    );
    expect(resultOf(tightened, 3)?.msg).toMatch(
      /unable to connect.*\(cannot connect to \/run\/nowhere.sock: No such file or directory\)$/,
    );
    expect(JSON.stringify(tightened)).not.toContain('Pa55');
    expect(sqlOnHost("SHOW GRANTS FOR 'cf_app'@'localhost'").split('\n').slice(1)).toEqual([
      'GRANT SELECT ON `cf_app`.* TO `cf_app`@`localhost`',
    ]);

    const keep = play([
      {
        mysql_user: {
          name: 'cf_app',
          password: 'another',
          update_password: 'on_create',
          priv: 'cf_app.*:SELECT',
          ...root,
        },
      },
    ]);
    expect((await runPlaybook(client, settings, keep)).recap[HOST]).toMatchObject({
      changed: 0,
      failed: 0,
    });

    const checked = await runPlaybook(client, settings, remove, { check: true });
    expect(failures(checked)).toEqual([]);
    expect(changedCount(checked, HOST)).toBe(2);
    expect(sqlOnHost("SELECT COUNT(*) FROM mysql.user WHERE User = 'cf_app'")).toBe('0|2');

    const removed = await runPlaybook(client, settings, remove);
    expect(failures(removed)).toEqual([]);
    expect(changedCount(removed, HOST)).toBe(2);
    expect(sqlOnHost("SELECT COUNT(*) FROM mysql.user WHERE User = 'cf_app'")).toBe('0|0');
    expect(sqlOnHost("SHOW DATABASES LIKE 'cf\\_%'")).toBe('0|');
    expect((await runPlaybook(client, settings, remove)).recap[HOST]).toMatchObject({
      changed: 0,
      failed: 0,
    });
  });
});
