import { upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { DatabaseInput, DbMember, MemberState, Topology } from '../../common/db';
import { analyseTopology } from '../../common/db-topology';
import { Phase } from '../../common/search-attributes';
import { withClusterLock, type UnderLock } from '../lock';
import {
  acts,
  tracker,
  secretRefs,
  endpointFor,
  probeAll,
  precheckFailed,
  type DbOperationResult,
} from './shared';

/** The seed's database procedure, idempotent: primary + replicas, accounts, initial copy, canary. */
export async function replicationBootstrap(
  input: DatabaseInput & UnderLock & { canary?: 'auto' | 'always' },
): Promise<DbOperationResult> {
  const t = tracker('replication-bootstrap', input.cluster, input.members);
  return withClusterLock(input, 'replication-bootstrap', async () => {
    t.phase('pre-checks');
    await acts.dbCheckSecrets(secretRefs(input));
    const { settings } = input;
    const ep = (name: string) => endpointFor(input, name);

    t.phase('mysqld');
    const admin = await Promise.all(
      input.members.map((m) =>
        acts.dbEnsureAdmin({ endpoint: ep(m.name), service: settings.config.service }),
      ),
    );
    admin.forEach(
      (a, i) => a.changed && t.changed(input.members[i].name, 'mysqld started, admin account ready'),
    );
    const flavours = new Set(admin.map((a) => a.flavour));
    if (flavours.size > 1)
      precheckFailed([
        `members run different servers: ${admin.map((a, i) => `${input.members[i].name} ${a.version}`).join(', ')}`,
      ]);
    if (settings.engine !== 'auto' && !flavours.has(settings.engine))
      precheckFailed([`database.engine is ${settings.engine} but the members run ${admin[0].version}`]);
    const service = (name: string) => admin[input.members.findIndex((m) => m.name === name)].service;

    // A topology already running with another primary (after a switchover or failover) is kept:
    // the spec's `primary` names where the cluster started, not where it must return.
    const before = analyseTopology(input.cluster, await probeAll(input));
    // Fresh servers are all writable; a running topology with two writable members is not ours to guess at.
    // A member that neither replicates nor feeds anyone is standalone (a new member): it may be writable.
    const linked = new Set(before.replicas.flatMap((r) => (r.source ? [r.name, r.source] : [])));
    if (before.writable.filter((w) => linked.has(w)).length > 1) precheckFailed(before.problems);
    let primaryName = input.primary;
    if (
      before.primary &&
      before.primary !== input.primary &&
      before.replicas.some((r) => r.source === before.primary)
    ) {
      primaryName = before.primary;
      t.note(`keeping the live primary ${primaryName} (the spec names ${input.primary})`);
    }
    const primary = input.members.find((m) => m.name === primaryName) as DbMember;
    const replicas = input.members.filter((m) => m.name !== primaryName);
    t.result.primary = primaryName;

    t.phase('configure');
    await Promise.all(
      input.members.map(async (m) => {
        const r = await acts.dbConfigure({
          endpoint: ep(m.name),
          serverId: m.serverId,
          settings,
          service: service(m.name),
        });
        if (r.restarted) t.changed(m.name, 'replication settings written, mysqld restarted');
      }),
    );
    // Replicas read-only before the primary takes writes: never two writable members.
    for (const r of replicas) {
      if ((await acts.dbSetReadOnly({ endpoint: ep(r.name), readOnly: true })).changed)
        t.changed(r.name, 'read_only on');
    }
    if ((await acts.dbSetReadOnly({ endpoint: ep(primaryName), readOnly: false })).changed)
      t.changed(primaryName, 'writable');

    t.phase('accounts');
    const passwords: Record<string, string> = {
      'database.replication.password': settings.replication.password,
    };
    const accounts = [
      ...input.members.map((m) => ({
        user: settings.replication.user,
        host: m.address,
        passwordField: 'database.replication.password',
        privileges: 'REPLICATION SLAVE',
        on: '*.*',
      })),
      ...input.applications.flatMap((a, i) => {
        passwords[`database.applications[${i}].password`] = a.password;
        return a.from.map((host) => ({
          user: a.user,
          host,
          passwordField: `database.applications[${i}].password`,
          privileges: a.privileges,
          on: a.database === '*' ? '*.*' : `\`${a.database}\`.*`,
        }));
      }),
    ];
    await Promise.all(
      input.members.map(async (m) => {
        const r = await acts.dbEnsureAccounts({ endpoint: ep(m.name), accounts, passwords });
        for (const label of r.changed) t.changed(m.name, `account ${label}`);
      }),
    );
    const schemas = [...new Set(input.applications.map((a) => a.database))].filter((d) => d !== '*');
    if (schemas.length) {
      const r = await acts.dbEnsureSchemas({ endpoint: ep(primaryName), schemas });
      for (const s of r.created) t.changed(primaryName, `database ${s} created`);
    }

    t.phase('replicas');
    const states = await probeAll(input);
    const primaryState = states.find((s) => s.name === primaryName) as MemberState;
    const replication = settings.replication;
    await Promise.all(
      replicas.map(async (r) => {
        const state = states.find((s) => s.name === r.name) as MemberState;
        const link = state.replica;
        const source = { address: primary.address, port: settings.port };
        if (link && link.sourceHost === primary.address && link.ioState !== 'stopped' && link.sqlRunning) {
          // already replicating from the primary
        } else if (link && link.sourceHost === primary.address && state.gtidApplied && !link.lastSqlError) {
          // A stopped replica of ours with a position: start it again where it stopped.
          await acts.dbReplicate({ replica: ep(r.name), source, replication, mode: 'keep' });
          t.changed(r.name, 'replication restarted');
        } else if (!primaryState.userSchemas?.length) {
          if (replication.gtid) {
            await acts.dbReplicate({
              replica: ep(r.name),
              source,
              replication,
              mode: 'fresh',
              position: primaryState.gtidExecuted ?? '',
            });
          } else {
            const pos = await acts.dbBinlogPosition(ep(primaryName));
            await acts.dbReplicate({
              replica: ep(r.name),
              source,
              replication,
              mode: 'fresh',
              logFile: pos.file,
              logPos: pos.position,
            });
          }
          t.changed(r.name, `replicating from ${primaryName} (empty primary, from its current position)`);
        } else {
          // A replica already pointed at this primary without a position is an interrupted clone of
          // ours: cloning again (the dump drops and recreates each table) is safe.
          const interrupted = link?.sourceHost === primary.address;
          const own = state.userSchemas ?? [];
          if (own.length && !interrupted) {
            precheckFailed([
              `${r.name} already has databases (${own.join(', ')}) and does not replicate from ${primaryName}; clusterflow will not overwrite them`,
            ]);
          }
          const clone = await acts.dbCloneReplica({
            primary: ep(primaryName),
            replica: { replica: ep(r.name), source, replication, mode: 'fresh' },
            schemas: primaryState.userSchemas,
          });
          t.changed(r.name, `cloned from ${primaryName} (${clone.bytes} bytes streamed), replicating`);
        }
      }),
    );

    t.phase('verify');
    await Promise.all(
      replicas.map((r) =>
        acts.dbWaitReplicating({ endpoint: ep(r.name), source: primary.address, timeoutSeconds: 120 }),
      ),
    );
    if (replicas.length && (t.result.changed || input.canary === 'always')) {
      const canary = await acts.dbCanary({
        primary: ep(primaryName),
        replicas: replicas.map((r) => ep(r.name)),
        name: `clusterflow_canary_${uuid4().slice(0, 8)}`,
        timeoutSeconds: 60,
      });
      t.note(
        `canary database replicated to ${Object.entries(canary.replicatedMs)
          .map(([h, ms]) => `${h} in ${ms} ms`)
          .join(', ')} and dropped`,
      );
    }
    t.result.topology = analyseTopology(input.cluster, await probeAll(input));
    t.phase('done');
    return t.result;
  });
}

/** Who is primary, replicas, lag, positions, errant transactions: read-only, no lock. */
export async function dbTopology(input: DatabaseInput): Promise<Topology> {
  upsertSearchAttributes([{ key: Phase, value: 'probing' }]);
  const topology = analyseTopology(input.cluster, await probeAll(input));
  upsertSearchAttributes([{ key: Phase, value: 'done' }]);
  return topology;
}
