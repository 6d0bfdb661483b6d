import { FailureTypes } from '../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../common/hosts';
import type { HealthCheck, NodeConfig, NodesInput } from '../common/lb';
import { configDrift, convergeConfig, deriveNodeConfig, type Drift } from './node-config';
import { parseProperties } from './modules/text-edits';
import { Remote } from './remote';
import type { SshPool } from './ssh/pool';
import { shellQuote } from './ssh/quote';
import type { Hooks } from './hooks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HealthGateInput {
  node: HostTarget;
  address: string;
  port: number;
  /** Where HTTP and TCP checks run from: an LB host (what the LB will see), else the node itself. */
  from: HostTarget;
  health: HealthCheck;
  /** Overrides for a quick look (pre-check): one success, short timeout. */
  successes?: number;
  timeoutSeconds?: number;
}

export interface HealthGateResult {
  healthy: boolean;
  attempts: number;
  last: string;
  ms: number;
}

/** Same-host checks go to loopback: a node may not be able to reach its own public address. */
function checkAddress(input: HealthGateInput): string {
  return input.from.name === input.node.name ? '127.0.0.1' : input.address;
}

async function checkOnce(pool: SshPool, input: HealthGateInput, hooks: Hooks): Promise<string | undefined> {
  const { health } = input;
  const from = new Remote(pool, input.from, hooks());
  const address = checkAddress(input);
  if (health.http) {
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${health.http.port ?? input.port}${health.http.path}`;
    const r = await from.run(`curl -sS --max-time 5 -w '\\n%{http_code}' ${shellQuote(url)}`);
    const lines = r.stdout.split('\n');
    const status = Number(lines.pop());
    const body = lines.join('\n');
    if (r.exitCode !== 0) return `GET ${url}: ${r.stderr.trim() || `curl exit ${r.exitCode}`}`;
    if (status !== health.http.status) return `GET ${url}: HTTP ${status}, want ${health.http.status}`;
    if (health.http.contains && !body.includes(health.http.contains))
      return `GET ${url}: body lacks "${health.http.contains}"`;
  }
  if (health.tcp) {
    const port = health.tcp.port ?? input.port;
    const r = await from.run(`timeout 3 bash -c ${shellQuote(`: </dev/tcp/${address}/${port}`)}`);
    if (r.exitCode !== 0) return `TCP ${address}:${port}: not accepting connections`;
  }
  if (health.command) {
    const r = await new Remote(pool, input.node, hooks()).run(health.command);
    if (r.exitCode !== 0)
      return `command exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`;
  }
  return undefined;
}

export function createNodeActivities(pool: SshPool, hooks: Hooks) {
  const remote = (t: HostTarget) => new Remote(pool, t, hooks());

  return {
    /** N consecutive successes of every configured check, or unhealthy at the timeout. */
    async healthGate(input: HealthGateInput): Promise<HealthGateResult> {
      const started = Date.now();
      const want = input.successes ?? input.health.successes;
      const deadline = started + (input.timeoutSeconds ?? input.health.timeoutSeconds) * 1000;
      let streak = 0;
      let attempts = 0;
      let last = '';
      for (;;) {
        attempts++;
        const problem = await checkOnce(pool, input, hooks);
        streak = problem ? 0 : streak + 1;
        last = problem ?? 'healthy';
        if (streak >= want) return { healthy: true, attempts, last, ms: Date.now() - started };
        if (Date.now() + input.health.intervalSeconds * 1000 > deadline)
          return { healthy: false, attempts, last, ms: Date.now() - started };
        hooks().onTick?.();
        await sleep(input.health.intervalSeconds * 1000);
      }
    },

    /**
     * The seed's pre-cluster test for a further node, every problem at once: reachable, same OS as
     * the reference, the app port free, names resolve both ways, the database reachable, the
     * service user's uid/gid as everywhere else, and the clock in step with the worker.
     */
    async joinPrecheck(input: {
      node: HostTarget;
      nodeName: string;
      reference: HostTarget;
      peers: { name: string; address: string }[];
      port: number;
      service: string;
      user?: { name: string; uid: number; group?: string; gid: number };
      database?: { address: string; port: number };
    }): Promise<string[]> {
      const problems: string[] = [];
      const node = remote(input.node);
      const ref = remote(input.reference);
      const osOf = async (r: Remote) =>
        (
          await r.must('. /etc/os-release && echo "$ID $VERSION_ID"', 'reading /etc/os-release')
        ).stdout.trim();
      let os: string;
      try {
        os = await osOf(node);
      } catch (err) {
        return [`ssh: ${(err as Error).message}`];
      }
      const refOs = await osOf(ref);
      if (os !== refOs)
        problems.push(
          `os: ${input.nodeName} runs ${os}, the reference ${input.reference.name} runs ${refOs}`,
        );

      const listening = (
        await node.run(`ss -Htln ${shellQuote(`( sport = :${input.port} )`)}`)
      ).stdout.trim();
      const ours =
        (await node.run(`systemctl is-active ${shellQuote(input.service)}`)).stdout.trim() === 'active';
      if (listening && !ours)
        problems.push(
          `port: ${input.port} is already in use on ${input.nodeName} by something other than ${input.service}`,
        );

      // Every name in one round trip: the names that do not resolve are printed.
      const names = input.peers.map((p) => shellQuote(p.name)).join(' ');
      const unresolved = (
        await node.run(`for n in ${names}; do getent hosts "$n" >/dev/null || echo "$n"; done`)
      ).stdout;
      for (const name of unresolved.split('\n').filter(Boolean))
        problems.push(`resolution: ${input.nodeName} cannot resolve ${name}`);
      if ((await ref.run(`getent hosts ${shellQuote(input.nodeName)}`)).exitCode !== 0)
        problems.push(`resolution: ${input.reference.name} cannot resolve ${input.nodeName}`);

      if (input.database) {
        const { address, port } = input.database;
        const r = await node.run(`timeout 3 bash -c ${shellQuote(`: </dev/tcp/${address}/${port}`)}`);
        if (r.exitCode !== 0) problems.push(`database: ${input.nodeName} cannot reach ${address}:${port}`);
      }

      if (input.user) {
        const u = input.user;
        const group = u.group ?? u.name;
        for (const [who, r] of [
          [input.nodeName, node],
          [input.reference.name, ref],
        ] as const) {
          // uid of the user, gid of the group, and who holds the uid: one round trip per host.
          const [pw, gr, holder] = (
            await r.run(
              `getent passwd ${shellQuote(u.name)} | cut -d: -f3; echo /; getent group ${shellQuote(group)} | cut -d: -f3; echo /; getent passwd ${u.uid} | cut -d: -f1`,
            )
          ).stdout
            .split('/')
            .map((x) => x.trim());
          if (pw && Number(pw) !== u.uid)
            problems.push(`uid: ${u.name} is uid ${pw} on ${who}, the spec says ${u.uid}`);
          if (gr && Number(gr) !== u.gid)
            problems.push(`gid: ${group} is gid ${gr} on ${who}, the spec says ${u.gid}`);
          if (holder && holder !== u.name) problems.push(`uid: ${u.uid} is taken by ${holder} on ${who}`);
        }
      }

      const before = Date.now();
      const remoteNow = Number((await node.must('date +%s.%N', 'reading the clock')).stdout.trim()) * 1000;
      const skew = Math.abs(remoteNow - (before + Date.now()) / 2);
      if (skew > 2000)
        problems.push(`clock: ${input.nodeName} is ${(skew / 1000).toFixed(1)} s off the worker's clock`);
      return problems;
    },

    /** Writes a joining node's server config derived from the reference node's; true if it changed. */
    async deriveConfig(input: {
      reference: HostTarget;
      node: HostTarget;
      address: string;
      config: NodeConfig;
    }): Promise<boolean> {
      const ref = await remote(input.reference).stat(input.config.path, true);
      if (!ref.content)
        throw ApplicationFailure.nonRetryable(
          `${input.reference.name}: ${input.config.path} does not exist`,
          FailureTypes.CommandFailed,
        );
      const node = remote(input.node);
      const current = await node.stat(input.config.path, true);
      const wanted = deriveNodeConfig(
        ref.content.toString('utf8'),
        input.config,
        { inventory_hostname: input.node.name, address: input.address },
        current.content?.toString('utf8'),
      );
      if (current.content?.toString('utf8') === wanted) return false;
      await node.must(`mkdir -p -- "$(dirname -- ${shellQuote(input.config.path)})"`, 'config folder');
      await node.writeFile(input.config.path, wanted, { owner: ref.owner, group: ref.group, mode: ref.mode });
      return true;
    },

    /** One key of a node's own server config, e.g. the nodeid its Apache route must be. */
    async nodeConfigValue(input: { node: HostTarget; path: string; key: string }): Promise<string> {
      const file = await remote(input.node).stat(input.path, true);
      const value = file.content && parseProperties(file.content.toString('utf8')).get(input.key);
      if (!value || !/^[A-Za-z0-9_.-]{1,64}$/.test(value))
        throw ApplicationFailure.nonRetryable(
          `${input.node.name}: ${input.path}: ${value ? `${input.key}=${value} is not a route (letters, digits, dot, dash, underscore)` : `no ${input.key}`}`,
          FailureTypes.CommandFailed,
        );
      return value;
    },

    /** Each node's differences from the reference (node-specific keys ignored); with fix, converges them. */
    async compareConfigs(input: {
      nodes: NodesInput['nodes'];
      reference: string;
      config: NodeConfig;
      fix: boolean;
      /** Reloaded where a fix changed the file, when the config says `reload`; absent in older histories. */
      service?: string;
    }): Promise<Record<string, Drift[]>> {
      const read = async (t: HostTarget) => {
        const f = await remote(t).stat(input.config.path, true);
        return f.content?.toString('utf8');
      };
      const refNode = input.nodes.find((n) => n.name === input.reference) as NodesInput['nodes'][number];
      const reference = await read(refNode.target);
      if (reference === undefined)
        throw ApplicationFailure.nonRetryable(
          `${refNode.name}: ${input.config.path} does not exist`,
          FailureTypes.CommandFailed,
        );
      const out: Record<string, Drift[]> = {};
      for (const n of input.nodes) {
        if (n.name === input.reference) continue;
        const own = (await read(n.target)) ?? '';
        const drift = configDrift(reference, own, input.config);
        out[n.name] = drift;
        if (!input.fix || !drift.length) continue;
        await remote(n.target).writeFile(input.config.path, convergeConfig(own, drift), {});
        if (input.config.reload && input.service)
          await remote(n.target).must(
            `systemctl reload ${shellQuote(input.service)}`,
            `reloading ${input.service} after the fix`,
          );
      }
      return out;
    },
  };
}
