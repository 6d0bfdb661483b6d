import type { DbEndpoint } from '../../common/db';
import type { DbContext } from './context';

/** A switchover's role changes: writes stopped, sessions ended, a replica promoted. */
export function roleActivities({ withMember }: DbContext) {
  return {
    async dbSetReadOnly(input: { endpoint: DbEndpoint; readOnly: boolean }): Promise<{ changed: boolean }> {
      return withMember(input.endpoint, async (sql) => {
        const ro = Number((await sql.one('SELECT @@GLOBAL.read_only AS ro'))?.ro) === 1;
        if (ro === input.readOnly && (input.readOnly || sql.dialect.flavour === 'mariadb'))
          return { changed: false };
        await sql.execAll(sql.dialect.setReadOnly(input.readOnly));
        return { changed: true };
      });
    },

    /** Ends client sessions after read_only, so no open transaction commits on the old primary. */
    async dbKillClients(endpoint: DbEndpoint): Promise<{ killed: number }> {
      return withMember(endpoint, async (sql) => {
        const sessions = await sql.rows(sql.dialect.clientSessionsSql, [endpoint.admin.user]);
        let killed = 0;
        for (const s of sessions) {
          try {
            await sql.exec('KILL CONNECTION ?', [Number(s.id)]);
            killed++;
          } catch {
            // the session ended by itself meanwhile
          }
        }
        return { killed };
      });
    },

    /** Stops replicating, forgets its source and takes writes. Safe to repeat. */
    async dbPromote(endpoint: DbEndpoint): Promise<{ position: string }> {
      return withMember(endpoint, async (sql) => {
        const d = sql.dialect;
        await sql.exec(d.stopReplica);
        await sql.exec(d.resetReplicaAll);
        await sql.execAll(d.setReadOnly(false));
        const g = await sql.one(`SELECT ${d.gtidExecutedVariable} AS g`);
        return { position: String(g?.g ?? '').replace(/\s/g, '') };
      });
    },
  };
}
