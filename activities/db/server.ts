import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { escape as sqlEscape } from 'mysql2';
import { type DbEndpoint, type DbSettings, type Flavour } from '../../common/db';
import { Remote } from '../remote';
import { debianLayout } from './dialect';
import { asRoot, module, secret, sleep, type DbContext } from './context';

/** mysqld running with our settings, and our admin account on it. */
export function serverActivities({ pool, hooks, withMember }: DbContext) {
  return {
    /**
     * mysqld running and enabled, and our admin account present for localhost. The account is
     * made over SSH through the server's socket as its local superuser, outside the binary log,
     * so every member has its own and nothing replicates.
     */
    async dbEnsureAdmin(input: {
      endpoint: DbEndpoint;
      service?: string;
    }): Promise<{ changed: boolean; flavour: Flavour; version: string; service: string }> {
      const { endpoint } = input;
      const remote = new Remote(pool, endpoint.target, hooks());
      let service = input.service;
      if (!service) {
        const r = await remote.must(
          'if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then echo mariadb; else echo mysql; fi',
          'detect the database service',
        );
        service = r.stdout.trim();
      }
      const started = await module(
        pool,
        endpoint.target,
        'service',
        {
          name: service,
          state: 'started',
          enabled: true,
        },
        hooks(),
      );
      const accountHosts = ['localhost', '127.0.0.1', endpoint.address];
      const tryLogin = () =>
        withMember(endpoint, async (sql) => {
          const row = await sql.one(
            'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host IN (?, ?, ?)',
            [endpoint.admin.user, ...accountHosts],
          );
          return Number(row?.n) === accountHosts.length
            ? { flavour: sql.dialect.flavour, version: sql.dialect.version.text }
            : undefined;
        });
      let changed = started.changed;
      let info: { flavour: Flavour; version: string } | undefined;
      for (let attempt = 0; attempt < 30; attempt++) {
        try {
          info = await tryLogin();
          break;
        } catch (err) {
          const type = (err as ApplicationFailure).type;
          if (type === FailureTypes.AuthenticationFailed) break;
          if (type !== FailureTypes.DatabaseUnreachable) throw err;
          hooks().onTick?.();
          await sleep(500);
        }
      }
      if (!info) {
        const password = await secret(endpoint.admin.password, 'database.admin.password');
        const user = endpoint.admin.user;
        const statements = ['SET SESSION sql_log_bin = 0;'];
        for (const host of accountHosts) {
          const account = `${sqlEscape(user)}@${sqlEscape(host)}`;
          statements.push(
            `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${sqlEscape(password)};`,
            `ALTER USER ${account} IDENTIFIED BY ${sqlEscape(password)};`,
            `GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION;`,
          );
        }
        // The password goes on stdin, never in argv where ps could see it.
        await remote.must(
          asRoot(endpoint.target, 'mysql --protocol=socket -uroot'),
          'create the admin account',
          {
            stdin: statements.join('\n') + '\n',
          },
        );
        changed = true;
        info = await tryLogin();
        if (!info)
          throw ApplicationFailure.nonRetryable(
            `${endpoint.name}: the admin account is still missing`,
            FailureTypes.CommandFailed,
          );
      }
      return { changed, service, ...info };
    },

    /**
     * The server's replication settings in our own conf.d file, restarting mysqld only if the file
     * changed. Every member starts read-only; the workflow makes the primary writable.
     */
    async dbConfigure(input: {
      endpoint: DbEndpoint;
      serverId: number;
      settings: DbSettings;
      service: string;
    }): Promise<{ changed: boolean; restarted: boolean }> {
      const { endpoint, settings } = input;
      const { dialect, readOnly } = await withMember(endpoint, async (sql) => ({
        dialect: sql.dialect,
        readOnly: Number((await sql.one('SELECT @@GLOBAL.read_only AS ro'))?.ro) === 1,
      }));
      const path = settings.config.path ?? debianLayout(dialect.flavour).configPath;
      const options = {
        ...dialect.serverConfig({
          serverId: input.serverId,
          bindAddress: endpoint.address,
          gtid: settings.replication.gtid,
          semiSync: settings.replication.semiSync,
          netTimeoutSeconds: settings.replication.netTimeoutSeconds,
        }),
        ...Object.fromEntries(
          Object.entries(settings.config.options).map(([k, v]) => [
            k,
            typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : v,
          ]),
        ),
      };
      const edit = await module(
        pool,
        endpoint.target,
        'ini',
        {
          path,
          settings: { mysqld: options },
          mode: '0644',
        },
        hooks(),
      );
      if (!edit.changed) return { changed: false, restarted: false };
      await module(pool, endpoint.target, 'service', { name: input.service, state: 'restarted' }, hooks());
      // Wait for mysqld to answer again; a primary that was writable before is writable again,
      // because the restart alone must not change who takes writes.
      for (let attempt = 0; ; attempt++) {
        try {
          await withMember(endpoint, async (sql) => {
            if (!readOnly) await sql.execAll(sql.dialect.setReadOnly(false));
          });
          break;
        } catch (err) {
          if (attempt > 60 || (err as ApplicationFailure).type !== FailureTypes.DatabaseUnreachable)
            throw err;
          hooks().onTick?.();
          await sleep(500);
        }
      }
      return { changed: true, restarted: true };
    },
  };
}
