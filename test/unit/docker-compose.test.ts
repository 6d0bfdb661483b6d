import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { REPO_ROOT } from '../../lab/paths';
import { searchAttributeRegistrations } from '../../common/search-attributes';
import { SecretRefSchema } from '../../common/secrets';
import { DEFAULT_TASK_QUEUE } from '../../common/task-queue';

// No Docker engine here: the compose files are parsed and checked the way Compose reads them
// (merge keys, `${VAR:-default}` interpolation, override files with `!override` / `!reset`).

type Volume =
  | string
  | {
      type: string;
      source: string;
      target: string;
      read_only?: boolean;
      bind?: { create_host_path?: boolean };
    };

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  profiles?: string[];
  hostname?: string;
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string | number>;
  command?: string[];
  volumes?: Volume[];
  tmpfs?: string[];
  cgroup?: string;
  stop_signal?: string;
  healthcheck?: { test: string[] };
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TAGS = ['!override', '!reset'];

function load(file: string) {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const doc = parseDocument(text, { merge: true });
  expect(doc.errors).toEqual([]);
  // Compose's own tags are unknown to a plain YAML parser; anything else is a real warning.
  const warnings = doc.warnings.filter(
    (w) => !(w.code === 'TAG_RESOLVE_FAILED' && COMPOSE_TAGS.some((t) => w.message.includes(t))),
  );
  expect(warnings).toEqual([]);
  return { text, doc };
}

/** Compose's merge of an override file: maps merge, `!override` replaces, `!reset` removes. */
const REPLACED_SEQUENCES = new Set(['command', 'entrypoint', 'test', 'profiles']);
function mergeInto(base: unknown, node: Node | null, key = ''): unknown {
  if (node && 'tag' in node && node.tag === '!reset') return undefined;
  if (node && 'tag' in node && node.tag === '!override') return node.toJSON();
  if (isMap(node)) {
    const out: Record<string, unknown> =
      base && typeof base === 'object' && !Array.isArray(base)
        ? { ...(base as Record<string, unknown>) }
        : {};
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) throw new Error('unexpected YAML key');
      const k = String(pair.key.value);
      const merged = mergeInto(out[k], pair.value as Node | null, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (isSeq(node) && Array.isArray(base) && !REPLACED_SEQUENCES.has(key)) {
    return [...new Set([...base, ...(node.toJSON() as unknown[])])];
  }
  return node === null ? null : node.toJSON();
}

/** Compose's `${VAR}`, `${VAR:-default}` and `$$` over every string of the file. */
function interpolate<T>(value: T, env: Record<string, string>): T {
  if (typeof value === 'string') {
    return value
      .replace(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def?: string) =>
        env[name] ? env[name] : (def ?? ''),
      )
      .replace(/\$\$/g, '$') as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => interpolate(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  }
  return value;
}

const base = load('docker-compose.yml');
const mysqlOverride = load('compose/mysql.yml');
const raw = base.doc.toJS() as Compose;
const compose = interpolate(raw, {});
const withMysql = interpolate(mergeInto(raw, mysqlOverride.doc.contents) as Compose, {});
const { services } = compose;

const variants: [string, Compose][] = [
  ['docker-compose.yml', compose],
  ['docker-compose.yml + compose/mysql.yml', withMysql],
];

const dependencies = (s: Service) =>
  Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
const started = (c: Compose) =>
  Object.keys(c.services)
    .filter((name) => !c.services[name].profiles?.length)
    .sort();
const withProfile = (profile: string) =>
  Object.keys(services).filter((name) => services[name].profiles?.includes(profile));
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source, target: v.target, readOnly: !!v.read_only };
    const [source, target, mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
const hostPort = (s: Service, containerPort: number) =>
  s.ports?.map((p) => p.split(':')).find((p) => Number(p[2]) === containerPort)?.[1];

describe('docker-compose.yml (no Docker engine here, so its shape is checked)', () => {
  it('runs Temporal on PostgreSQL with a persistent volume by default', () => {
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(services.postgresql.profiles).toBeUndefined();
    expect(Object.keys(compose.volumes ?? {})).toContain('temporal-db');
    expect(mounts(services.postgresql)).toContainEqual(expect.objectContaining({ source: 'temporal-db' }));
  });

  it('starts only the Temporal stack and the worker without a profile', () => {
    expect(started(compose)).toEqual(['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
    expect(withProfile('codec')).toEqual(['codec-server']);
    expect(withProfile('demo').sort()).toEqual(['app1', 'app2', 'app3', 'db1', 'db2', 'lb1']);
  });

  it.each(variants)('%s: every dependency exists and is started with its dependant', (_, c) => {
    for (const [name, service] of Object.entries(c.services)) {
      for (const dep of dependencies(service)) {
        expect({ service: name, dependsOn: dep, defined: dep in c.services }).toEqual({
          service: name,
          dependsOn: dep,
          defined: true,
        });
        // A service that starts by default cannot wait for one that only starts under a profile.
        if (!service.profiles?.length)
          expect({ [dep]: c.services[dep].profiles }).toEqual({ [dep]: undefined });
      }
    }
  });

  it.each(variants)('%s: publishes ports on loopback only', (_, c) => {
    for (const [name, service] of Object.entries(c.services)) {
      for (const port of service.ports ?? []) {
        expect(`${name} ${port}`).toMatch(new RegExp(`^${name} 127\\.0\\.0\\.1:\\d+:\\d+$`));
      }
    }
    expect(c.services.temporal.ports).toEqual(['127.0.0.1:7233:7233']);
    expect(c.services['temporal-ui'].ports).toEqual(['127.0.0.1:8233:8080']);
  });

  it.each(variants)('%s: pins every image tag and builds the rest from a Dockerfile that exists', (_, c) => {
    for (const [name, service] of Object.entries(c.services)) {
      if (service.build) {
        const dockerfile = path.join(
          REPO_ROOT,
          service.build.context,
          service.build.dockerfile ?? 'Dockerfile',
        );
        expect({ [name]: existsSync(dockerfile) }).toEqual({ [name]: true });
        // Every FROM of the Dockerfile is pinned as well.
        for (const [, from] of readFileSync(dockerfile, 'utf8').matchAll(/^FROM\s+(\S+)/gm)) {
          expect(from).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
        }
      }
      if (!service.build) expect({ [name]: service.image }).toEqual({ [name]: expect.any(String) });
      if (service.image) {
        expect(`${name} ${service.image}`).toMatch(/ [^\s:]+(?::\d+\/[^\s:]+)?:[\w.-]+$/);
        expect(service.image.split(':').pop()).not.toBe('latest');
      }
    }
  });

  it('registers exactly the search attributes clusterflow defines', () => {
    const script = services['temporal-setup'].command!.join(' ');
    const list = /for sa in ([^;]+);/.exec(script)?.[1].trim().split(/\s+/);
    expect(list?.sort()).toEqual([...searchAttributeRegistrations].sort());
    expect(dependencies(services['temporal-setup'])).toEqual(['temporal']);
  });

  it('builds the worker from the Dockerfile and starts it after the setup', () => {
    const worker = services.worker;
    expect(worker.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(worker.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
      CLUSTERFLOW_TASK_QUEUE: DEFAULT_TASK_QUEUE,
    });
    expect(worker.depends_on).toMatchObject({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
    expect(mounts(worker)).toEqual(
      expect.arrayContaining([
        { source: './secrets', target: '/secrets', readOnly: true },
        { source: './inventory', target: '/inventory', readOnly: true },
      ]),
    );
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/CMD \["node", "bin\/clusterflow\.js", "worker"\]/);
    expect(dockerfile).not.toMatch(/secrets|inventory/);
  });

  it('keeps payload encryption off by default and on with a key reference', () => {
    expect(services.worker.environment!.CLUSTERFLOW_CODEC_KEY).toBe('');
    expect(services['temporal-ui'].environment!.TEMPORAL_CODEC_ENDPOINT).toBe('');
    const on = interpolate(raw, {
      CLUSTERFLOW_CODEC_KEY: 'file:/secrets/codec.key',
      TEMPORAL_CODEC_ENDPOINT: 'http://localhost:8888',
    }).services;
    expect(on.worker.environment!.CLUSTERFLOW_CODEC_KEY).toBe('file:/secrets/codec.key');
    expect(on['temporal-ui'].environment!.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:8888');
  });

  describe('the codec server (codec profile)', () => {
    const codec = services['codec-server'];
    const args = codec.command ?? [];
    const flag = (name: string) => args[args.indexOf(name) + 1];

    it('runs clusterflow codec-server from the worker image', () => {
      expect(codec.image).toBe(services.worker.image);
      expect(codec.build).toEqual(services.worker.build);
      expect(args.slice(0, 3)).toEqual(['node', 'bin/clusterflow.js', 'codec-server']);
      expect(flag('--bind')).toBe('0.0.0.0');
      expect(codec.ports).toEqual([`127.0.0.1:${flag('--port')}:${flag('--port')}`]);
    });

    it('reads its key by reference from a read-only mount, never from the command line', () => {
      const ref = flag('--codec-key');
      expect(SecretRefSchema.safeParse(ref).success).toBe(true);
      expect(ref).not.toMatch(/^[A-Za-z0-9+/]{43}=$|^[0-9a-fA-F]{64}$/);
      if (ref.startsWith('file:')) {
        const file = ref.slice('file:'.length);
        expect(mounts(codec)).toContainEqual(expect.objectContaining({ target: file, readOnly: true }));
        // The same file the worker sees under its /secrets mount.
        expect(file.startsWith('/secrets/')).toBe(true);
        expect(base.text).toContain(`CLUSTERFLOW_CODEC_KEY=${ref}`);
      } else {
        expect(codec.environment?.[ref.slice('env:'.length)]).toMatch(/^\$\{/);
      }
    });

    it('answers the UI origin the browser uses, and the header says how to point the UI at it', () => {
      const uiOrigin = `http://localhost:${hostPort(services['temporal-ui'], 8080)}`;
      expect(flag('--ui-origin')).toBe(uiOrigin);
      expect(services['temporal-ui'].environment!.TEMPORAL_CORS_ORIGINS).toBe(uiOrigin);
      expect(base.text).toContain(`TEMPORAL_CODEC_ENDPOINT=http://localhost:${hostPort(codec, 8888)}`);
      expect(base.text).toContain('docker compose --profile codec up -d');
    });
  });

  describe('MySQL persistence (compose/mysql.yml over docker-compose.yml)', () => {
    const temporal = withMysql.services.temporal;
    const env = temporal.environment!;

    it('switches the auto-setup image to the mysql8 driver with seeds at a MySQL service', () => {
      expect(env.DB).toBe('mysql8');
      expect(env.DB_PORT).toBe(3306);
      const seeds = String(env.MYSQL_SEEDS).split(',');
      for (const seed of seeds) {
        expect(withMysql.services[seed]?.image).toMatch(/^mysql:8/);
        expect(withMysql.services[seed].profiles).toBeUndefined();
      }
      expect(Object.keys(env).filter((k) => k.startsWith('POSTGRES_'))).toEqual([]);
      const db = withMysql.services[seeds[0]];
      expect(env.MYSQL_USER).toBe('root');
      expect(env.MYSQL_PWD).toBe(db.environment!.MYSQL_ROOT_PASSWORD);
    });

    it('waits for a healthy MySQL, keeps its data, and leaves PostgreSQL out', () => {
      expect(temporal.depends_on).toEqual({ mysql: { condition: 'service_healthy' } });
      expect(withMysql.services.mysql.healthcheck?.test.join(' ')).toContain('mysqladmin ping');
      expect(mounts(withMysql.services.mysql)).toContainEqual(
        expect.objectContaining({ source: 'temporal-mysql', target: '/var/lib/mysql' }),
      );
      expect(Object.keys(withMysql.volumes ?? {})).toContain('temporal-mysql');
      expect(started(withMysql)).toEqual(['mysql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
    });

    it('is the variant the header comment documents', () => {
      expect(base.text).toContain('docker compose -f docker-compose.yml -f compose/mysql.yml up -d');
      expect(mysqlOverride.text).toContain('docker compose -f docker-compose.yml -f compose/mysql.yml up -d');
    });
  });

  describe('demo targets (demo profile)', () => {
    const targets = withProfile('demo');
    const contextDir = path.join(REPO_ROOT, services[targets[0]].build!.context);
    const dockerfile = readFileSync(path.join(contextDir, 'Dockerfile'), 'utf8');

    it('builds one Debian image with sshd, python3 and systemd as PID 1', () => {
      for (const name of targets) expect(services[name].build).toEqual(services[targets[0]].build);
      expect(dockerfile).toMatch(/^FROM debian:/m);
      for (const pkg of ['systemd', 'openssh-server', 'python3', 'haproxy', 'mariadb-server']) {
        expect(dockerfile).toMatch(new RegExp(`\\s${pkg}\\s`));
      }
      expect(dockerfile).toContain('CMD ["/lib/systemd/systemd"]');
      for (const [, src] of dockerfile.matchAll(/^COPY\s+(\S+)/gm)) {
        expect(existsSync(path.join(contextDir, src))).toBe(true);
      }
      // Each container makes its own host key; none is baked into the image.
      expect(dockerfile).toMatch(/rm -f \/etc\/ssh\/ssh_host_\*/);
      expect(readFileSync(path.join(contextDir, 'clusterflow-target-init.service'), 'utf8')).toMatch(
        /ssh-keygen -A[\s\S]*\/etc\/clusterflow\/authorized_keys \/root\/\.ssh\/authorized_keys/,
      );
    });

    it('gives each target what systemd needs, its own hostname, and the public key read-only', () => {
      for (const name of targets) {
        const t = services[name];
        expect(t.hostname).toBe(name);
        expect(t.cgroup).toBe('host');
        expect(t.stop_signal).toBe('SIGRTMIN+3');
        expect(t.tmpfs).toEqual(expect.arrayContaining(['/run', '/run/lock']));
        expect(mounts(t)).toEqual(
          expect.arrayContaining([
            { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', readOnly: false },
            {
              source: './secrets/id_ed25519.pub',
              target: '/etc/clusterflow/authorized_keys',
              readOnly: true,
            },
          ]),
        );
      }
    });

    it('comes with an inventory of exactly these hosts that the worker container can use', () => {
      const inventory = parseDocument(
        readFileSync(path.join(contextDir, 'inventory.yml'), 'utf8'),
      ).toJS() as { all: { vars: Record<string, string>; hosts: Record<string, null> } };
      expect(Object.keys(inventory.all.hosts).sort()).toEqual([...targets].sort());
      const secretsMount = mounts(services.worker).find((m) => m.source === './secrets')!.target;
      expect(inventory.all.vars.ansible_ssh_private_key_file).toBe(`${secretsMount}/id_ed25519`);
      expect(inventory.all.vars.ansible_ssh_common_args).toContain(
        `UserKnownHostsFile=${secretsMount}/known_hosts`,
      );
      expect(base.text).toContain(`ssh-keyscan -t ed25519 ${targets.join(' ')} > secrets/known_hosts`);
    });
  });
});
