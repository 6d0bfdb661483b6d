import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { down, ensureBridge, hostAddress, status, up } from '../../lab/hosts';
import { DEMO_HOSTS, demoSpecOn } from '../../test/fixtures/demo/spec';
import { installLicenseTool, licenseService, type LicenseService } from '../../test/fixtures/license/service';
import { onHost } from '../../test/integration/helpers';

// The chaos matrix's own cluster: the demo spec (examples/demo/cluster.yml) on lab hosts named
// `cx<name>` (cxlb1, cxdb1, cxdb2, cxfs1, cxfs2, cxapp1..3) plus licenses, as cluster-setup.test.ts
// sets it up. Secrets, the licensing service's seats and the spec live in one state directory so
// a later `npm run chaos` reuses a converged cluster instead of building it again.

// A second matrix process runs on a cluster of its own (CF_CHAOS_PREFIX=cy): the matrix waits
// on timeouts most of the time, so two shards finish it in about half the time on two cores.
export const PREFIX = process.env.CF_CHAOS_PREFIX ?? 'cx';
if (!/^[a-z]{2}$/.test(PREFIX)) throw new Error(`CF_CHAOS_PREFIX: two letters, got "${PREFIX}"`);
export const HOSTS = DEMO_HOSTS.map((h) => `${PREFIX}${h}`);
export const APPS = [1, 2, 3].map((n) => `${PREFIX}app${n}`);
/** The node node-join adds and node-remove takes away again (not in the demo spec, so unlicensed). */
export const SPARE = `${PREFIX}app4`;
export const DBS = [`${PREFIX}db1`, `${PREFIX}db2`];
export const LB = `${PREFIX}lb1`;
export const FILE_SERVERS = [`${PREFIX}fs1`, `${PREFIX}fs2`];
export const MOUNT_POINT = '/srv/cfdata';
const STATE_DIR =
  process.env.CF_CHAOS_DIR ?? `/var/tmp/clusterflow-chaos${PREFIX === 'cx' ? '' : `-${PREFIX}`}`;

interface Persisted {
  cluster: string;
  secrets: Record<string, string>;
}

export interface ChaosLab {
  cluster: string;
  /** The cluster spec every operation is started from. */
  spec: string;
  /** The same spec with SPARE among the nodes (node-remove's view of the cluster). */
  specWithSpare: string;
  licenseKey: string;
  licensing: LicenseService;
  dir: string;
}

/** The lab's name and secrets; `isNew` when none were kept (hosts built with others can't be reused). */
function persisted(): Persisted & { isNew: boolean } {
  const file = path.join(STATE_DIR, 'lab.json');
  if (existsSync(file)) return { ...(JSON.parse(readFileSync(file, 'utf8')) as Persisted), isNew: false };
  const p: Persisted = {
    cluster: `chaos-${Date.now().toString(36)}`,
    secrets: {
      CF_DEMO_DB_ADMIN: `adm-${randomBytes(8).toString('hex')}`,
      CF_DEMO_DB_REPL: `repl-${randomBytes(8).toString('hex')}`,
      CF_DEMO_DB_APP: `app-${randomBytes(8).toString('hex')}`,
      CF_CX_LICENSE_KEY: `CFAPP-${PREFIX.toUpperCase()}-${randomBytes(8).toString('hex')}`,
    },
  };
  writeFileSync(file, JSON.stringify(p));
  chmodSync(file, 0o600);
  return { ...p, isNew: true };
}

/** The lab's state and the licensing service; `created`: the hosts must be built (fresh, or missing). */
export async function openLab(options: { fresh?: boolean } = {}): Promise<ChaosLab & { created: boolean }> {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const p = persisted();
  Object.assign(process.env, p.secrets);
  const licenseKey = p.secrets.CF_CX_LICENSE_KEY;
  const licensing = licenseService(STATE_DIR, { [licenseKey]: APPS.length });
  // After a whole `clusterflow-lab down` the bridge is gone, and the service binds its address.
  ensureBridge();
  licensing.start();
  const running = new Set(
    status()
      .filter((h) => h.running)
      .map((h) => h.name),
  );
  // Missing hosts: the caller runs cluster-setup, whose preparation builds them from nothing.
  // Hosts running with no state beside them were converged with other secrets: build them again.
  const created = Boolean(options.fresh) || p.isNew || !HOSTS.every((h) => running.has(h));
  // The service listens on a new port every start: point the hosts' license tool at it.
  if (!created) for (const app of APPS) onHost(app, `echo server=${licensing.url} > /etc/cfapp/license.conf`);
  const specOf = (name: string, nodes: string[]) =>
    demoSpecOn(PREFIX, {
      dir: STATE_DIR,
      name,
      cluster: p.cluster,
      edit: (doc) => {
        doc.nodes.hosts = nodes;
        doc.license = {
          hosts: APPS,
          driver: 'command',
          command: {
            check: '/usr/local/bin/cfapp-license check',
            activate: '/usr/local/bin/cfapp-license activate',
            deactivate: '/usr/local/bin/cfapp-license deactivate',
          },
          key: 'env:CF_CX_LICENSE_KEY',
        };
      },
    });
  const spec = specOf('cluster', APPS);
  const specWithSpare = specOf('cluster-with-spare', [...APPS, SPARE]);
  return { cluster: p.cluster, spec, specWithSpare, licenseKey, licensing, dir: STATE_DIR, created };
}

/** Never-configured hosts: datadirs, bricks, seats and the license tool start from nothing. */
export async function freshHosts(licensing: LicenseService): Promise<void> {
  await down([...HOSTS, SPARE]);
  await up(HOSTS);
  writeFileSync(path.join(STATE_DIR, 'state.json'), '{}');
  installLicenseTool(APPS, licensing.url);
}

export function closeLab(lab: ChaosLab): void {
  lab.licensing.stop();
}

/** Removes the matrix's hosts and state, secrets included (the CI subset does, so it leaves the machine as it found it). */
export async function removeLab(): Promise<void> {
  await down([...HOSTS, SPARE]);
  rmSync(STATE_DIR, { recursive: true, force: true });
}

export { hostAddress };
