import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

// The runnable examples `npm run demo -- --example NAME` sets up: each one's spec, its lab hosts
// and the secrets its spec references (made up once for the lab, given to the worker).

export interface Example {
  spec: string;
  /** Lab hosts the example runs on, including any its README adds later. */
  hosts: string[];
  secrets: string[];
  /** Where the demo's closing hints point: the load balancer and a node. */
  lb: string;
  node: string;
  /** What it shows, for the README's table and `--help`. */
  shows: string;
  /**
   * A section this lab's kernel stops (NFS mounts): the demo runs its own operation up to that
   * line, then sets up the rest from a copy of the spec without it.
   */
  kernelLine?: {
    section: 'storage';
    operation: 'storage-export';
    /**
     * Run on a host first. The lab's root filesystem is an overlay, which gives nfs-ganesha no
     * file handles: a tmpfs stands in for the real disk a real server exports.
     */
    prepare?: { host: string; command: string };
  };
}

export const EXAMPLES: Record<string, Example> = {
  demo: {
    spec: 'examples/demo/cluster.yml',
    hosts: ['lb1', 'db1', 'db2', 'fs1', 'fs2', 'app1', 'app2', 'app3'],
    secrets: ['CF_DEMO_DB_ADMIN', 'CF_DEMO_DB_REPL', 'CF_DEMO_DB_APP'],
    lb: 'lb1',
    node: 'app1',
    shows: 'a generic file-sync app behind HAProxy, MariaDB primary + replica, GlusterFS',
  },
  powerfolder: {
    spec: 'examples/powerfolder/cluster.yml',
    hosts: ['pflb1', 'pfdb1', 'pfdb2', 'pffs1', 'pffs2', 'pfnode1', 'pfnode2', 'pfnode3'],
    secrets: ['CF_PF_DB_ADMIN', 'CF_PF_DB_REPL', 'CF_PF_DB_APP'],
    lb: 'pflb1',
    node: 'pfnode1',
    shows:
      'seed 000: Apache mod_proxy_balancer with route=<nodeid>, the JDBC failover URL, further nodes from the first node’s config',
  },
  'open-xchange': {
    spec: 'examples/open-xchange/cluster.yml',
    hosts: ['oxweb1', 'oxdb1', 'oxdb2', 'oxgw1', 'oxgw2', 'oxgw3'],
    secrets: ['CF_OX_DB_ADMIN', 'CF_OX_DB_REPL', 'CF_OX_DB_APP'],
    lb: 'oxweb1',
    node: 'oxgw1',
    kernelLine: {
      section: 'storage',
      operation: 'storage-export',
      prepare: {
        host: 'oxdb1',
        command:
          'mountpoint -q /var/opt/filestore || { mkdir -p /var/opt/filestore && mount -t tmpfs tmpfs /var/opt/filestore; }',
      },
    },
    shows:
      'seed 002: MySQL master/slave by file and position, Apache mod_proxy_ajp with the route each node’s installer wrote, the NFS filestore export (up to the kernel line)',
  },
  pydio: {
    spec: 'examples/pydio/cluster.yml',
    hosts: ['pylb1', 'pydb1', 'pydb2', 'pynode1', 'pynode2', 'pynode3', 'pyfs3', 'pyfs4'],
    secrets: ['CF_PY_DB_ADMIN', 'CF_PY_DB_REPL', 'CF_PY_DB_APP'],
    lb: 'pylb1',
    node: 'pynode1',
    shows:
      'seed 003: two GlusterFS replica-2 volumes (data, and the shared config a new node inherits), HAProxy sticky on the Pydio cookie, a compute node and a storage pair added',
  },
  completeftp: {
    spec: 'examples/completeftp/cluster.yml',
    hosts: ['cftplb1', 'cftp1', 'cftp2', 'cftp3'],
    secrets: [],
    lb: 'cftplb1',
    node: 'cftp1',
    shows:
      'seed 004: a primary and secondaries, the primary’s configuration copied to each and kept so by a 60 s sync (a Temporal Schedule), HAProxy balancing FTP/SFTP in TCP mode and HTTP with stickiness',
  },
};

type Doc = Record<string, Record<string, unknown> | undefined>;

/**
 * Writes a copy of a spec to `file`: its playbook paths made absolute (so the copy runs from
 * anywhere), then changed by `edit` (a section dropped, a host added).
 */
export function copySpec(spec: string, file: string, edit: (doc: Doc) => void = () => {}): string {
  const base = path.dirname(path.resolve(spec));
  const doc = parse(readFileSync(spec, 'utf8')) as Doc;
  const nodes = doc.nodes as Doc | undefined;
  for (const section of [doc.nodes, doc.loadBalancer, nodes?.maintenance])
    for (const key of ['install', 'firstInstall', 'play'])
      if (section && typeof section[key] === 'string') section[key] = path.join(base, section[key] as string);
  edit(doc);
  writeFileSync(file, stringify(doc));
  return file;
}
