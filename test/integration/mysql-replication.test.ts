import type { Client } from '@temporalio/client';
import { down, hostAddress, up } from '../../lab/hosts';
import type { PlayResult } from '../../common/play';
import { shellQuote } from '../../activities/ssh/quote';
import { onHost, testSettings, withWorker } from './helpers';
import { changedCount, runPlaybook } from './play-helpers';

// mysql_user and mysql_replication as geerlingguy.mysql's replication tasks use them: a
// replication account on the primary, then on the replica getreplica, getprimary delegated to
// the primary, changeprimary with its File and Position, startreplica. Two MariaDB lab hosts of
// their own, removed after the file; the servers are configured by hand (server_id, binary log),
// everything replication needs goes through the modules.

const settings = testSettings();
const PRIMARY = 'mrepl1';
const REPLICA = 'mrepl2';
const REPL_PW = "r3pl-'Pa55'";

const sql = (host: string, statement: string) => onHost(host, `mariadb -N -B -e ${shellQuote(statement)}`);

// The role's own conditions, as it reads getreplica's result.
const NOT_REPLICA =
  '(slave.Is_Slave is defined and not slave.Is_Slave) or (slave.Is_Replica is defined and not slave.Is_Replica) or ' +
  '(slave.Is_Slave is not defined and slave.Is_Replica is not defined and slave is failed)';

const converge = () => [
  {
    hosts: PRIMARY,
    tasks: [
      {
        name: 'replication account',
        mysql_user: {
          name: 'repl',
          host: '%',
          password: '{{ repl_pw }}',
          priv: '*.*:REPLICATION SLAVE,REPLICATION CLIENT',
          update_password: 'always',
          tls_requires: '{{ repl_tls | default({}) }}',
          state: 'present',
        },
      },
    ],
  },
  {
    hosts: REPLICA,
    tasks: [
      {
        name: 'getreplica',
        mysql_replication: { mode: 'getreplica' },
        register: 'slave',
        ignore_errors: true,
      },
      {
        name: 'getprimary on the primary',
        'community.mysql.mysql_replication': { mode: 'getprimary' },
        delegate_to: PRIMARY,
        register: 'master',
        when: NOT_REPLICA,
      },
      {
        name: 'changeprimary',
        mysql_replication: {
          mode: 'changeprimary',
          master_host: hostAddress(PRIMARY),
          master_user: 'repl',
          master_password: '{{ repl_pw }}',
          master_log_file: '{{ master.File }}',
          master_log_pos: '{{ master.Position }}',
        },
        register: 'changed_primary',
        when: NOT_REPLICA,
      },
      { name: 'startreplica', mysql_replication: { mode: 'startslave' } },
      {
        name: 'replicating',
        mysql_replication: { mode: 'getslave' },
        register: 'status',
        when: 'not ansible_check_mode',
        until: "status.Slave_IO_Running == 'Yes' and status.Slave_SQL_Running == 'Yes'",
        retries: 30,
        delay: 1,
      },
    ],
  },
];
const vars = { repl_pw: REPL_PW };
const withVars = (plays: ReturnType<typeof converge>) => plays.map((p) => ({ ...p, vars }));

const resultOf = (r: PlayResult, task: string, host = REPLICA) =>
  r.tasks.find((t) => t.task === task)?.hosts.find((h) => h.host === host)?.result;
const failures = (r: PlayResult) =>
  r.tasks.flatMap((t) => t.hosts.filter((h) => h.result?.failed).map((h) => `${t.task}: ${h.result?.msg}`));

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
    up([PRIMARY, REPLICA]),
  ]);
  client = ready;
  // The server side of the role's my.cnf: an id each, the primary's binary log, a network listener;
  // root logs in over the socket through ~/.my.cnf, as the role's root does.
  for (const [host, extra] of [
    [PRIMARY, 'server_id = 1\nlog_bin = mysql-bin\n'],
    [REPLICA, 'server_id = 2\n'],
  ])
    onHost(
      host,
      `printf '[mysqld]\\n${extra}bind_address = 0.0.0.0\\n' > /etc/mysql/mariadb.conf.d/60-cf-repl.cnf && ` +
        "printf '[client]\\nsocket = /run/mysqld/mysqld.sock\\n' > /root/.my.cnf && systemctl restart mariadb",
    );
}, 120_000);

afterAll(async () => {
  stopWorker();
  await worker;
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await down([PRIMARY, REPLICA]);
}, 120_000);

describe('mysql_replication through Temporal: a MariaDB primary and replica', () => {
  it('check mode skips the replication tasks and creates nothing', async () => {
    const checked = await runPlaybook(client, settings, withVars(converge()), { check: true });
    expect(failures(checked)).toEqual([]);
    expect(resultOf(checked, 'replication account', PRIMARY)).toMatchObject({
      changed: true,
      data: { msg: 'User added' },
    });
    expect(resultOf(checked, 'getreplica')).toMatchObject({ skipped: true });
    expect(sql(PRIMARY, "SELECT COUNT(*) FROM mysql.user WHERE User = 'repl'")).toBe('0');
    expect(sql(REPLICA, 'SHOW REPLICA STATUS')).toBe('');
  });

  it('sets up replication from getprimary, changes nothing when re-applied, and replicates', async () => {
    const applied = await runPlaybook(client, settings, withVars(converge()));
    expect(failures(applied)).toEqual([]);
    expect(resultOf(applied, 'getreplica')?.data).toMatchObject({ Is_Replica: false, Is_Slave: false });
    const primary = resultOf(applied, 'getprimary on the primary')?.data;
    expect(primary).toMatchObject({
      Is_Primary: true,
      Is_Master: true,
      File: expect.stringMatching(/^mysql-bin\.\d+$/),
    });
    expect(typeof primary?.Position).toBe('number');
    expect(resultOf(applied, 'changeprimary')).toMatchObject({
      changed: true,
      data: {
        queries: [
          `CHANGE MASTER TO MASTER_HOST='${hostAddress(PRIMARY)}',MASTER_USER='repl',` +
            `MASTER_PASSWORD='********',MASTER_LOG_FILE='${String(primary?.File)}',MASTER_LOG_POS=${String(primary?.Position)}`,
        ],
      },
    });
    expect(resultOf(applied, 'startreplica')).toMatchObject({
      changed: true,
      data: { queries: ['START REPLICA'] },
    });
    expect(resultOf(applied, 'replicating')?.data).toMatchObject({
      Is_Replica: true,
      Is_Slave: true,
      Master_Host: hostAddress(PRIMARY),
      Master_User: 'repl',
      Slave_IO_Running: 'Yes',
      Slave_SQL_Running: 'Yes',
      Last_IO_Errno: 0,
    });
    expect(changedCount(applied, PRIMARY)).toBe(1);
    expect(changedCount(applied, REPLICA)).toBe(2);
    // The replication password is in no result or message, masked in `queries`.
    expect(JSON.stringify(applied)).not.toContain('Pa55');

    // Re-applied: the replica is one, so changeprimary is skipped and START is a no-op note.
    const again = await runPlaybook(client, settings, withVars(converge()));
    expect(failures(again)).toEqual([]);
    expect(again.recap[PRIMARY]).toMatchObject({ changed: 0, failed: 0 });
    expect(again.recap[REPLICA]).toMatchObject({ changed: 0, failed: 0 });
    expect(resultOf(again, 'startreplica')?.msg).toBe('Replica already started (Or cannot be started)');
    const checked = await runPlaybook(client, settings, withVars(converge()), { check: true });
    expect(checked.recap[PRIMARY]).toMatchObject({ changed: 0, failed: 0 });
    expect(checked.recap[REPLICA]).toMatchObject({ changed: 0, failed: 0 });

    // What the primary writes reaches the replica.
    sql(PRIMARY, 'CREATE DATABASE cf_repl');
    let seen = '';
    for (let i = 0; i < 50 && !seen; i++) {
      seen = sql(REPLICA, "SHOW DATABASES LIKE 'cf\\_repl'");
      if (!seen) await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toBe('cf_repl');
  });

  it('stops and resets the replica and the primary; what is already done is no change', async () => {
    // The account's TLS changes only once replication is stopped: the replica would replay them.
    const tls = (t: Record<string, unknown>) => [{ ...converge()[0], vars: { ...vars, repl_tls: t } }];
    const teardown = [
      {
        hosts: REPLICA,
        tasks: [
          { name: 'stop', mysql_replication: { mode: 'stopreplica' } },
          { name: 'stop again', mysql_replication: { mode: 'stopreplica' } },
          { name: 'reset all', mysql_replication: { mode: 'resetreplicaall' } },
          { name: 'status', mysql_replication: { mode: 'getreplica' } },
          { name: 'no binary log', mysql_replication: { mode: 'getprimary' } },
          { name: 'start nothing', mysql_replication: { mode: 'startreplica' } },
          {
            name: 'start nothing, strictly',
            mysql_replication: { mode: 'startreplica', fail_on_error: true },
            ignore_errors: true,
          },
        ],
      },
      {
        hosts: PRIMARY,
        tasks: [{ name: 'reset primary', mysql_replication: { mode: 'resetmaster' } }],
      },
    ];
    const r = await runPlaybook(client, settings, teardown);
    expect(resultOf(r, 'stop')).toMatchObject({ changed: true, data: { queries: ['STOP REPLICA'] } });
    expect(resultOf(r, 'stop again')).toMatchObject({ changed: false, msg: 'Replica already stopped' });
    expect(resultOf(r, 'reset all')).toMatchObject({
      changed: true,
      data: { queries: ['RESET REPLICA ALL'] },
    });
    expect(resultOf(r, 'status')).toMatchObject({ changed: false, data: { Is_Replica: false } });
    expect(resultOf(r, 'status')?.failed).toBeFalsy();
    expect(resultOf(r, 'no binary log')?.data).toMatchObject({ Is_Primary: false });
    expect(resultOf(r, 'start nothing')).toMatchObject({ changed: false });
    expect(resultOf(r, 'start nothing')?.failed).toBeFalsy();
    expect(resultOf(r, 'start nothing, strictly')?.failed).toBe(true);
    expect(resultOf(r, 'start nothing, strictly')?.msg).toMatch(/^START REPLICA failed: /);
    expect(resultOf(r, 'reset primary', PRIMARY)).toMatchObject({
      changed: true,
      data: { queries: ['RESET MASTER'] },
    });
    expect(failures(r)).toEqual([`start nothing, strictly: ${resultOf(r, 'start nothing, strictly')?.msg}`]);
    expect(sql(REPLICA, 'SHOW REPLICA STATUS')).toBe('');

    // A requirement added to the account is one change; the same in other words is none.
    const required = await runPlaybook(client, settings, tls({ ssl: null }));
    expect(resultOf(required, 'replication account', PRIMARY)).toMatchObject({
      changed: true,
      data: { msg: 'TLS requires updated' },
    });
    expect((await runPlaybook(client, settings, tls({ SSL: '' }))).recap[PRIMARY]).toMatchObject({
      changed: 0,
      failed: 0,
    });
    expect(sql(PRIMARY, "SELECT ssl_type FROM mysql.user WHERE User = 'repl'")).toBe('ANY');
    const specified = { subject: '/CN=replica', CIPHER: 'ECDHE-RSA-AES256-GCM-SHA384' };
    expect(changedCount(await runPlaybook(client, settings, tls(specified)), PRIMARY)).toBe(1);
    expect(changedCount(await runPlaybook(client, settings, tls(specified)), PRIMARY)).toBe(0);
    expect(
      sql(PRIMARY, "SELECT ssl_type, ssl_cipher, x509_subject FROM mysql.user WHERE User = 'repl'"),
    ).toBe('SPECIFIED\tECDHE-RSA-AES256-GCM-SHA384\t/CN=replica');
    expect(changedCount(await runPlaybook(client, settings, tls({})), PRIMARY)).toBe(1);
    expect(sql(PRIMARY, "SELECT ssl_type FROM mysql.user WHERE User = 'repl'")).toBe('');

    const gone = [{ hosts: PRIMARY, tasks: [{ mysql_user: { name: 'repl', host: '%', state: 'absent' } }] }];
    expect(changedCount(await runPlaybook(client, settings, gone), PRIMARY)).toBe(1);
    expect(sql(PRIMARY, "SELECT COUNT(*) FROM mysql.user WHERE User = 'repl'")).toBe('0');
  });
});
