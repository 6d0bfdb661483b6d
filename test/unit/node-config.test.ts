import { configDrift, convergeConfig, deriveNodeConfig } from '../../activities/node-config';
import type { NodeConfig } from '../../common/lb';

// server.properties of the reference node app1, as the product's installer leaves it.
const REFERENCE = `# App server configuration
# written by the installer; keys are read once at start
hostname=app1
nick=app1
nodeid=7f3c2a90-5b1e-4d2c-9a77-0e5b8c1d2f44
bind.address=10.77.0.12
port=8080

# database
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
database.pool.max=20
`;

const config: NodeConfig = {
  path: '/opt/app/conf/server.properties',
  nodeSpecific: ['hostname', 'nick', 'nodeid', 'bind.address'],
  mayDiffer: [],
  set: {
    hostname: '{{ inventory_hostname }}',
    nick: 'node-{{inventory_hostname}}',
    'bind.address': '{{ address }}',
  },
  delete: ['nodeid'],
  cluster: { 'cluster.enabled': true, 'cluster.name': 'prod', 'cluster.port': 7800 },
  reload: false,
};

const app4 = { inventory_hostname: 'app4', address: '10.77.0.15' };

describe("a joining node's config", () => {
  it("is the reference's file with the node's own values, nodeid gone and the cluster keys added", () => {
    expect(deriveNodeConfig(REFERENCE, config, app4)).toBe(`# App server configuration
# written by the installer; keys are read once at start
hostname=app4
nick=node-app4
bind.address=10.77.0.15
port=8080

# database
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
database.pool.max=20
cluster.enabled=true
cluster.name=prod
cluster.port=7800
`);
  });

  it('drops a node-specific key the spec gives no value for, rather than copying the reference value', () => {
    const derived = deriveNodeConfig(
      REFERENCE,
      { ...config, set: { hostname: '{{ inventory_hostname }}' } },
      app4,
    );
    expect(derived).toBe(`# App server configuration
# written by the installer; keys are read once at start
hostname=app4
port=8080

# database
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
database.pool.max=20
cluster.enabled=true
cluster.name=prod
cluster.port=7800
`);
  });

  it('sets a cluster key the reference already has where it stands', () => {
    const clustered = REFERENCE.replace('port=8080\n', 'port=8080\ncluster.enabled=false\n');
    expect(deriveNodeConfig(clustered, config, app4)).toBe(`# App server configuration
# written by the installer; keys are read once at start
hostname=app4
nick=node-app4
bind.address=10.77.0.15
port=8080
cluster.enabled=true

# database
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
database.pool.max=20
cluster.name=prod
cluster.port=7800
`);
  });

  it('differs from an unclustered reference by the cluster keys alone', () => {
    expect(configDrift(REFERENCE, deriveNodeConfig(REFERENCE, config, app4), config)).toEqual([
      { key: 'cluster.enabled', reference: undefined, node: 'true' },
      { key: 'cluster.name', reference: undefined, node: 'prod' },
      { key: 'cluster.port', reference: undefined, node: '7800' },
    ]);
  });

  it('keeps the nodeid the node generated at its first start, so a second join changes nothing', () => {
    const first = deriveNodeConfig(REFERENCE, config, app4);
    const started = `${first}nodeid=1d5f0c3e-4b2a-4e8f-9c61-2a7b3d9e0f55\n`;
    expect(deriveNodeConfig(REFERENCE, config, app4, started)).toBe(started);
  });

  it("drops a nodeid that is only a copy of the reference's", () => {
    const copied = `${deriveNodeConfig(REFERENCE, config, app4)}nodeid=7f3c2a90-5b1e-4d2c-9a77-0e5b8c1d2f44\n`;
    expect(deriveNodeConfig(REFERENCE, config, app4, copied)).toBe(deriveNodeConfig(REFERENCE, config, app4));
  });

  it('has no drift from a clustered reference', () => {
    const reference = deriveNodeConfig(REFERENCE, config, {
      inventory_hostname: 'app1',
      address: '10.77.0.12',
    });
    expect(configDrift(reference, deriveNodeConfig(reference, config, app4), config)).toEqual([]);
  });
});

describe('config drift', () => {
  const node = `# App server configuration
hostname=app2
nick=node-app2
nodeid=0b9e4d11-aa20-4c5e-8f01-3e6f5a7c9b10
bind.address=10.77.0.13
port=8081
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
debug=true
`;

  it('reports missing, extra and different keys sorted by key, ignoring node-specific ones', () => {
    expect(configDrift(REFERENCE, node, config)).toEqual([
      { key: 'database.pool.max', reference: '20', node: undefined },
      { key: 'debug', reference: undefined, node: 'true' },
      { key: 'port', reference: '8080', node: '8081' },
    ]);
  });

  it('ignores the keys that may differ per node, which a joining node still copies', () => {
    const usage = { ...config, mayDiffer: ['database.url', 'database.pool.max'] };
    expect(configDrift(REFERENCE, node, usage)).toEqual([
      { key: 'debug', reference: undefined, node: 'true' },
      { key: 'port', reference: '8080', node: '8081' },
    ]);
    expect(deriveNodeConfig(REFERENCE, usage, app4)).toContain(
      'database.url=jdbc:mysql://10.77.0.20:3306/app',
    );
  });

  it("keeps a joined node's own value of a key that may differ when its config is derived again", () => {
    const usage = { ...config, mayDiffer: ['database.pool.max'] };
    const joined = deriveNodeConfig(REFERENCE, usage, app4).replace(
      'database.pool.max=20',
      'database.pool.max=50',
    );
    expect(deriveNodeConfig(REFERENCE, usage, app4, joined)).toBe(joined);
  });

  it('is empty for the same settings in another order and with other comments', () => {
    const reordered = `database.pool.max = 20
# moved around by hand
port=8080
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
hostname=app2
`;
    expect(configDrift(REFERENCE, reordered, config)).toEqual([]);
  });

  it('converges a drifted node to the reference, keeping its own node-specific values', () => {
    const converged = convergeConfig(node, configDrift(REFERENCE, node, config));
    expect(converged).toBe(`# App server configuration
hostname=app2
nick=node-app2
nodeid=0b9e4d11-aa20-4c5e-8f01-3e6f5a7c9b10
bind.address=10.77.0.13
port=8080
database.url=jdbc:mysql://10.77.0.20:3306/app?useSSL=true
database.pool.max=20
`);
    expect(configDrift(REFERENCE, converged, config)).toEqual([]);
  });

  it('leaves a node without drift as it is', () => {
    const converged = convergeConfig(node, configDrift(REFERENCE, node, config));
    expect(convergeConfig(converged, configDrift(REFERENCE, converged, config))).toBe(converged);
  });
});
