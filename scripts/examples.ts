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
};
