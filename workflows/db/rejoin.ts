import type { DatabaseInput, MemberState } from '../../common/db';
import { analyseTopology, originOf, positionForErrantCheck } from '../../common/db-topology';
import { errantGtids } from '../../common/gtid';
import { withClusterLock } from '../lock';
import {
  acts,
  tracker,
  secretRefs,
  endpointFor,
  probeAll,
  refuse,
  precheckFailed,
  type DbOperationResult,
} from './shared';

/** The old primary comes back as a replica of the current one; refused if it has errant transactions. */
export async function dbRejoin(input: DatabaseInput & { member: string }): Promise<DbOperationResult> {
  const t = tracker('db-rejoin', input.cluster, input.members);
  return withClusterLock(input, 'db-rejoin', async () => {
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);
    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const started = await acts.dbEnsureAdmin({
      endpoint: ep(input.member),
      service: settings.config.service,
    });
    if (started.changed) t.changed(input.member, 'mysqld started (read-only)');
    const states = await probeAll(input);
    const topo = analyseTopology(
      input.cluster,
      states.filter((s) => s.name !== input.member),
    );
    if (!topo.primary || topo.writable.length !== 1)
      precheckFailed([`no single writable primary among the others (${topo.writable.join(', ') || 'none'})`]);
    const primary = topo.primary as string;
    if (primary === input.member) precheckFailed([`${input.member} is the primary`]);
    const me = states.find((s) => s.name === input.member) as MemberState;
    const them = states.find((s) => s.name === primary) as MemberState;
    const errant = errantGtids(
      me.flavour ?? 'mariadb',
      positionForErrantCheck(me),
      positionForErrantCheck(them),
      originOf(them),
    );
    if (errant.length)
      refuse(
        `refused: ${input.member} has transactions ${primary} lacks (errant): ${errant.join(', ')}; rebuild it from ${primary} or reconcile them first`,
      );
    t.result.primary = primary;
    const source = { address: ep(primary).address, port: settings.port };
    if (
      me.replica?.sourceHost === source.address &&
      me.replica.ioState === 'running' &&
      me.replica.sqlRunning
    ) {
      t.note(`${input.member} already replicates from ${primary}`);
    } else {
      t.phase('rejoin');
      if ((await acts.dbSetReadOnly({ endpoint: ep(input.member), readOnly: true })).changed)
        t.changed(input.member, 'read_only on');
      await acts.dbReplicate({
        replica: ep(input.member),
        source,
        replication: settings.replication,
        mode: 'adopt',
      });
      t.changed(input.member, `replicates from ${primary}`);
    }
    t.phase('verify');
    await acts.dbWaitReplicating({ endpoint: ep(input.member), source: source.address, timeoutSeconds: 60 });
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}
