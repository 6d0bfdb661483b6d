import type { DbEndpoint } from '../../common/db';
import { quoteIdentifier } from './dialect';
import { secret, type DbContext } from './context';

export interface AccountSpec {
  user: string;
  host: string;
  password: string;
  passwordField: string;
  privileges: string;
  on: string;
}

/** Accounts, grants and application schemas. */
export function accountActivities({ withMember }: DbContext) {
  return {
    /** Accounts and grants on one member, outside the binary log (each member gets its own). */
    async dbEnsureAccounts(input: {
      endpoint: DbEndpoint;
      accounts: Omit<AccountSpec, 'password'>[];
      passwords: Record<string, string>;
    }): Promise<{ changed: string[] }> {
      const changed: string[] = [];
      await withMember(input.endpoint, async (sql) => {
        await sql.exec('SET SESSION sql_log_bin = 0');
        for (const a of input.accounts) {
          const password = await secret(input.passwords[a.passwordField], a.passwordField);
          const label = `${a.user}@${a.host}`;
          const existing = await sql.one('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [
            a.user,
            a.host,
          ]);
          let needsPassword = Number(existing?.n) === 0;
          if (!needsPassword && sql.dialect.flavour === 'mariadb') {
            const same = await sql.one(
              'SELECT authentication_string = PASSWORD(?) AS same FROM mysql.user WHERE User = ? AND Host = ?',
              [password, a.user, a.host],
            );
            needsPassword = Number(same?.same) !== 1;
          }
          if (Number(existing?.n) === 0) {
            await sql.exec('CREATE USER ?@? IDENTIFIED BY ?', [a.user, a.host, password]);
          } else if (needsPassword) {
            await sql.exec('ALTER USER ?@? IDENTIFIED BY ?', [a.user, a.host, password]);
          }
          const grants = (await sql.rows('SHOW GRANTS FOR ?@?', [a.user, a.host])).map((r) =>
            String(Object.values(r)[0]).replace(/`/g, ''),
          );
          const wanted = `GRANT ${a.privileges} ON ${a.on.replace(/`/g, '')} TO`;
          const hasGrant = grants.some((g) => g.startsWith(wanted));
          if (!hasGrant) await sql.exec(`GRANT ${a.privileges} ON ${a.on} TO ?@?`, [a.user, a.host]);
          if (needsPassword || !hasGrant) changed.push(label);
        }
      });
      return { changed };
    },

    /** Application schemas on the primary (these do replicate). */
    async dbEnsureSchemas(input: {
      endpoint: DbEndpoint;
      schemas: string[];
    }): Promise<{ created: string[] }> {
      return withMember(input.endpoint, async (sql) => {
        const created: string[] = [];
        for (const s of input.schemas) {
          const found = await sql.one(
            'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
            [s],
          );
          if (!found) {
            await sql.exec(`CREATE DATABASE ${quoteIdentifier(s)}`);
            created.push(s);
          }
        }
        return { created };
      });
    },
  };
}
