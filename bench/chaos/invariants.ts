import { hostAddress } from '../../lab/hosts';
import { onHost } from '../../test/integration/helpers';
import { APPS, DBS, LB, MOUNT_POINT, type ChaosLab } from './lab';

// The cluster's invariants, read from the hosts themselves (SQL through the lab's ssh, HAProxy's
// runtime socket, the licensing service, findmnt), never from what a workflow reported.

export interface Check {
  invariant: string;
  held: boolean;
  detail: string;
}

const check = (invariant: string, problems: string[], ok: string): Check => ({
  invariant,
  held: problems.length === 0,
  detail: problems.length ? problems.join('; ') : ok,
});

/** onHost, with a failure turned into text (a check reports it instead of stopping the matrix). */
function tryHost(host: string, command: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: onHost(host, command) };
  } catch (err) {
    return { ok: false, out: (err as Error).message.split('\n')[0] };
  }
}

/** Who is writable, and from whom every other member replicates. */
export function dbState(): {
  writable: string[];
  replicas: Record<string, { source: string; running: boolean }>;
} {
  const writable: string[] = [];
  const replicas: Record<string, { source: string; running: boolean }> = {};
  for (const db of DBS) {
    const ro = tryHost(db, `mariadb -N -e 'SELECT @@GLOBAL.read_only'`);
    if (ro.ok && ro.out === '0') writable.push(db);
    const st = tryHost(db, `mariadb -e 'SHOW SLAVE STATUS\\G'`);
    const field = (name: string) => new RegExp(`^\\s*${name}: (.*)$`, 'm').exec(st.out)?.[1]?.trim() ?? '';
    if (st.ok && field('Master_Host'))
      replicas[db] = {
        source: field('Master_Host'),
        running: field('Slave_IO_Running') === 'Yes' && field('Slave_SQL_Running') === 'Yes',
      };
  }
  return { writable, replicas };
}

/** Whether a member is fenced the way failover fences it (fence: stop): mysqld stopped and disabled. */
export function fenceOf(db: string): { fenced: boolean; how: string } {
  const active = tryHost(db, 'systemctl is-active mariadb || true').out;
  const enabled = tryHost(db, 'systemctl is-enabled mariadb || true').out;
  return { fenced: active !== 'active' && enabled === 'disabled', how: `mariadb ${active}, ${enabled}` };
}

/**
 * Exactly one writable member and every other replicating from it. `fenced`: members the
 * operation leaves fenced by design (a failover's old primary, until a rejoin): such a member must
 * really be fenced (stopped and disabled, so it can take no write) and is not asked to replicate.
 */
export function checkReplication(fenced: readonly string[] = []): Check {
  const { writable, replicas } = dbState();
  const problems: string[] = [];
  if (writable.length !== 1) problems.push(`writable members: [${writable.join(', ')}], want exactly one`);
  const primary = writable[0];
  const notes: string[] = [];
  for (const db of fenced) {
    const f = fenceOf(db);
    if (f.fenced) notes.push(`${db} fenced (${f.how}), out of replication until a rejoin`);
    else problems.push(`${db} should be fenced (mariadb stopped and disabled) but is: ${f.how}`);
  }
  for (const db of DBS.filter((d) => d !== primary && !fenced.includes(d))) {
    const r = replicas[db];
    if (!r) problems.push(`${db} replicates from nobody`);
    else if (primary && r.source !== primary && r.source !== hostAddress(primary))
      problems.push(`${db} replicates from ${r.source}, not ${primary}`);
    else if (!r.running) problems.push(`${db}: replication threads not both running`);
  }
  return check(
    'one writable primary, replicas replicating from it',
    problems,
    [`primary ${primary}`, ...notes].join('; '),
  );
}

/** HAProxy's own view of the pool, from its runtime socket. */
export function lbMembers(): Record<string, 'ready' | 'drain' | 'maint'> {
  const out = tryHost(LB, `echo 'show servers state app' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`);
  return Object.fromEntries(
    out.out
      .split('\n')
      .filter((l) => /^\d+ app /.test(l))
      .map((l) => l.split(/\s+/))
      // admin state bits: 1 forced maintenance, 8 drain; bit 4 only records a `disabled` in the
      // config file that the runtime API has since overridden
      .map((f) => {
        const admin = Number(f[6]) & ~4;
        return [f[3], admin === 0 ? 'ready' : admin & 8 ? 'drain' : 'maint'];
      }),
  );
}

/**
 * Every node of the cluster enabled in the LB, unless the operation reported it left out (and
 * why); a node that is not (or no longer) of the cluster is not in the pool at all.
 */
export function checkLb(nodes: readonly string[], leftOut: Record<string, string> = {}): Check {
  const members = lbMembers();
  const problems = [
    ...nodes
      .filter((a) => !(a in leftOut) && members[a] !== 'ready')
      .map((a) => `${a} is ${members[a] ?? 'missing'} in ${LB}`),
    ...Object.keys(members)
      .filter((m) => !nodes.includes(m))
      .map((m) => `${m} is in ${LB} (${members[m]}) but not a node of the cluster`),
  ];
  const note = Object.entries(leftOut).map(([n, why]) => `${n} left out: ${why}`);
  return check(
    'every node enabled in every LB (or reported left out)',
    problems,
    note.join('; ') || `${nodes.length} ready`,
  );
}

/** Seats used == licensed nodes; `before` (activate requests per fingerprint) catches a second activation. */
export async function checkSeats(lab: ChaosLab, before: Record<string, number>): Promise<Check> {
  const seats = await lab.licensing.seats(lab.licenseKey);
  const problems: string[] = [];
  if (seats.used !== APPS.length) problems.push(`seats used ${seats.used}, licensed nodes ${APPS.length}`);
  for (const [fp, n] of Object.entries(seats.activations))
    if (n - (before[fp] ?? 0) > 1)
      problems.push(`${fp.slice(0, 8)} activated ${n - (before[fp] ?? 0)} times in this run`);
  return check('seats used == licensed nodes, none activated twice', problems, `${seats.used} seats`);
}

export async function activationCounts(lab: ChaosLab): Promise<Record<string, number>> {
  return (await lab.licensing.seats(lab.licenseKey)).activations;
}

export function checkMounts(): Check {
  const problems = APPS.flatMap((a) => {
    const r = tryHost(a, `findmnt -n -o FSTYPE ${MOUNT_POINT}`);
    return r.ok && r.out === 'fuse.glusterfs'
      ? []
      : [`${a}: ${MOUNT_POINT} not mounted (${r.out || 'nothing'})`];
  });
  return check('storage mounted on every client', problems, `${APPS.length} clients`);
}

/** Every cluster-wide invariant, as the hosts show it. */
export async function clusterChecks(
  lab: ChaosLab,
  options: {
    activationsBefore: Record<string, number>;
    nodes: readonly string[];
    leftOut?: Record<string, string>;
    /** Database members the operation leaves fenced by design. */
    fenced?: readonly string[];
  },
): Promise<Check[]> {
  return [
    checkReplication(options.fenced),
    checkLb(options.nodes, options.leftOut),
    await checkSeats(lab, options.activationsBefore),
    checkMounts(),
  ];
}
