import type { DbEndpoint } from '../../common/db';
import { Remote } from '../remote';
import { shellQuote } from '../ssh/quote';
import { asRoot, type DbContext } from './context';

/** A lost primary kept from ever taking writes again. */
export function fencingActivities({ pool, hooks, withMember, withinDeadline }: DbContext) {
  return {
    /**
     * Makes sure a lost primary can never take writes again: stop and disable mysqld, or force
     * read_only (the config file already starts it read-only). An unreachable host is reported,
     * not retried forever: its config keeps it read-only when it returns.
     */
    async dbFence(input: {
      endpoint: DbEndpoint;
      mode: 'stop' | 'read_only';
      service: string;
    }): Promise<{ fenced: boolean; how: string }> {
      const remote = new Remote(pool, input.endpoint.target, hooks());
      try {
        // A host that is gone must not hold up the failover: a second to answer, or it is down.
        await withinDeadline(input.endpoint.target, 1000, remote.run('true'));
        if (input.mode === 'stop') {
          await remote.must(
            asRoot(input.endpoint.target, `systemctl disable --now ${shellQuote(input.service)}`),
            'stop and disable mysqld',
            { timeoutMs: 60_000 },
          );
          return { fenced: true, how: `${input.service} stopped and disabled` };
        }
        await withMember(input.endpoint, (sql) => sql.execAll(sql.dialect.setReadOnly(true)));
        return { fenced: true, how: 'read_only at runtime and in its config' };
      } catch (err) {
        return {
          fenced: false,
          how: `not reachable (${(err as Error).message.split('\n')[0]}); its config starts it read-only`,
        };
      }
    },
  };
}
