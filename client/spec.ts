import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import { z } from 'zod';
import { DatabaseSectionSchema, type DatabaseInput, type DbMember } from '../common/db';
import {
  LoadBalancerSectionSchema,
  NodesSectionSchema,
  type LoadBalancerInput,
  type NodeInfo,
  type NodesInput,
} from '../common/lb';
import { LicenseSectionSchema, type LicenseInput } from '../common/license';
import { StorageSectionSchema, type StorageInput } from '../common/storage';
import { parseStrict } from '../common/parse-strict';
import { hostsOf, loadInventory, targetFor, type Inventory } from './inventory';

/**
 * The cluster spec: one YAML file per cluster naming its inventory and holding one section per
 * kind of operation. Every object in it is strict, down to the last nested one: anything not
 * declared is a typo and an error.
 */
export const ClusterSpecSchema = z.strictObject({
  cluster: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
  /** Relative to the spec file. `-i` on the command line overrides it. */
  // One path: a YAML block of several lines here is a mistake, not a file name.
  inventory: z
    .string()
    .refine(
      (p) => ![...p].some((c) => c.charCodeAt(0) < 32),
      'one file path, without line breaks or control characters',
    )
    .optional(),
  database: DatabaseSectionSchema.optional(),
  storage: StorageSectionSchema.optional(),
  loadBalancer: LoadBalancerSectionSchema.optional(),
  nodes: NodesSectionSchema.optional(),
  license: LicenseSectionSchema.optional(),
});

export type ClusterSpec = z.infer<typeof ClusterSpecSchema>;

/** Every problem in a spec, each starting with the path of the field, e.g. `database.replicas[1]`. */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}:\n  ${problems.join('\n  ')}`);
  }
}

/** Sections whose `kind` (or `driver`) picks which of their sub-objects anything reads. */
const KIND_SETTINGS = [
  { section: 'loadBalancer', selector: 'kind', kinds: ['haproxy', 'apache', 'lvs'] },
  { section: 'storage', selector: 'kind', kinds: ['nfs', 'glusterfs'] },
  { section: 'license', selector: 'driver', kinds: ['command', 'http'] },
];

/**
 * Settings written for a kind the section is not (`apache:` under `kind: haproxy`) would be read
 * by nothing. Checked on what the operator wrote: the parsed section has every kind's defaults.
 */
function settingsOfOtherKinds(doc: unknown): string[] {
  const problems: string[] = [];
  for (const { section, selector, kinds } of KIND_SETTINGS) {
    const body = (doc as Record<string, unknown> | null | undefined)?.[section];
    if (!body || typeof body !== 'object') continue;
    const chosen = (body as Record<string, unknown>)[selector];
    if (typeof chosen !== 'string') continue;
    for (const kind of kinds)
      if (kind !== chosen && kind in body)
        problems.push(
          `${section}.${kind}: settings for ${selector} ${kind}, but this ${selector} is ${chosen}`,
        );
  }
  return problems;
}

export interface LoadedSpec {
  file: string;
  spec: ClusterSpec;
  inventory: Inventory;
}

export function loadSpec(file: string, options: { inventory?: string } = {}): LoadedSpec {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    // A YAML error has a `code` too (TAB_AS_INDENT); only a failed read has a `syscall`.
    const { code, syscall } = err as NodeJS.ErrnoException;
    throw new SpecError(file, [
      code && syscall ? `cannot read the spec (${code})` : (err as Error).message.split('\n')[0],
    ]);
  }
  const parsed = parseStrict(ClusterSpecSchema, doc ?? {});
  const problems = [...(parsed.problems ?? []), ...settingsOfOtherKinds(doc)];
  if (!parsed.data || problems.length) throw new SpecError(file, problems);
  const invFile =
    options.inventory ?? (parsed.data.inventory && path.resolve(path.dirname(file), parsed.data.inventory));
  if (!invFile) throw new SpecError(file, ['inventory: give the inventory here or with -i']);
  return { file, spec: parsed.data, inventory: loadInventory(invFile) };
}

/** Host names a reference stands for: a host, or every host of a group. */
function expand(inv: Inventory, ref: string): string[] | undefined {
  if (inv.hostVars.has(ref)) return [ref];
  if (inv.groups.has(ref)) return [...hostsOf(inv, ref)].sort();
  return undefined;
}

/**
 * The database section with every host reference resolved against the inventory. All problems
 * are reported at once, each naming its field, before anything runs.
 */
export function databaseInput(loaded: LoadedSpec): DatabaseInput {
  const { spec, inventory: inv } = loaded;
  const db = spec.database;
  if (!db) throw new SpecError(loaded.file, ['database: this spec has no database section']);
  const problems: string[] = [];
  const resolve = (ref: string, field: string): string[] => {
    const hosts = expand(inv, ref);
    if (!hosts) problems.push(`${field}: unknown host or group "${ref}"`);
    else if (!hosts.length) problems.push(`${field}: group "${ref}" has no hosts`);
    return hosts ?? [];
  };

  const primaryHosts = resolve(db.primary, 'database.primary');
  if (primaryHosts.length > 1)
    problems.push(
      `database.primary: "${db.primary}" is a group of ${primaryHosts.length} hosts; name one host`,
    );
  const primary = primaryHosts[0];
  const replicaNames: string[] = [];
  db.replicas.forEach((ref, i) => {
    for (const h of resolve(ref, `database.replicas[${i}]`))
      if (h !== primary && !replicaNames.includes(h)) replicaNames.push(h);
  });
  const names = primary ? [primary, ...replicaNames] : replicaNames;

  // server-ids: the ones given, then 1, 2, 3... for the rest, skipping those taken.
  const taken = new Map<number, string>();
  for (const [host, id] of Object.entries(db.serverIds)) {
    if (!names.includes(host)) problems.push(`database.serverIds.${host}: not a database member`);
    const other = taken.get(id);
    if (other !== undefined) problems.push(`database.serverIds.${host}: server-id ${id} is also ${other}'s`);
    taken.set(id, host);
  }
  let next = 1;
  const members: DbMember[] = names.map((name) => {
    let serverId = db.serverIds[name];
    if (serverId === undefined) {
      while (taken.has(next)) next++;
      serverId = next;
      taken.set(next, name);
    }
    const target = targetFor(inv, name);
    return { name, address: target.address, serverId, target };
  });

  const applications = db.applications.map((app, i) => ({
    ...app,
    from: app.from.flatMap((ref, j) => {
      const hosts = expand(inv, ref);
      if (hosts) return hosts.map((h) => targetFor(inv, h).address);
      // Not in the inventory: fine if it is an address or a pattern, else it is a typo.
      if (/^[0-9a-fA-F.:%]+$/.test(ref) || ref.includes('%')) return [ref];
      problems.push(`database.applications[${i}].from[${j}]: unknown host or group "${ref}"`);
      return [];
    }),
  }));
  const appConfig = db.appConfig.map((hook, i) => ({
    ...hook,
    hosts: hook.hosts.flatMap((ref, j) =>
      resolve(ref, `database.appConfig[${i}].hosts[${j}]`).map((h) => targetFor(inv, h)),
    ),
  }));

  if (problems.length) throw new SpecError(loaded.file, problems);
  const settings = Object.fromEntries(
    Object.entries(db).filter(
      ([k]) => !['primary', 'replicas', 'applications', 'appConfig', 'serverIds'].includes(k),
    ),
  ) as DatabaseInput['settings'];
  return { cluster: spec.cluster, settings, members, primary, applications, appConfig };
}

/**
 * The nodes and load-balancer sections resolved against the inventory. `joining` is a node being
 * added: it must be in the inventory, and is left out of `nodes` (the cluster it joins).
 */
export function nodesInput(
  loaded: LoadedSpec,
  options: { joining?: string } = {},
): NodesInput & { joining?: NodeInfo } {
  const { spec, inventory: inv } = loaded;
  const section = spec.nodes;
  if (!section) throw new SpecError(loaded.file, ['nodes: this spec has no nodes section']);
  const problems: string[] = [];
  const resolve = (ref: string, field: string): string[] => {
    const hosts = expand(inv, ref);
    if (!hosts) problems.push(`${field}: unknown host or group "${ref}"`);
    return hosts ?? [];
  };
  const lbSection = spec.loadBalancer;
  const node = (name: string): NodeInfo => {
    const target = targetFor(inv, name);
    return {
      name,
      target,
      member: {
        node: name,
        name: lbSection?.members[name] ?? name,
        address: target.address,
        port: section.port,
      },
    };
  };
  let names = [...new Set(section.hosts.flatMap((ref, i) => resolve(ref, `nodes.hosts[${i}]`)))];
  if (options.joining) {
    if (!inv.hostVars.has(options.joining))
      problems.push(`node: "${options.joining}" is not in the inventory`);
    names = names.filter((n) => n !== options.joining);
  }
  if (!names.length && !problems.length) problems.push('nodes.hosts: no nodes');
  const reference = section.reference ?? names[0];
  if (section.reference && !names.includes(section.reference))
    problems.push(
      `nodes.reference: "${section.reference}" is not one of the nodes${options.joining === section.reference ? ' (it is the node joining)' : ''}`,
    );

  let loadBalancer: LoadBalancerInput | undefined;
  if (lbSection) {
    const lbHosts = [
      ...new Set(lbSection.hosts.flatMap((ref, i) => resolve(ref, `loadBalancer.hosts[${i}]`))),
    ];
    for (const key of Object.keys(lbSection.members))
      if (!names.includes(key) && key !== options.joining && !expand(inv, key))
        problems.push(`loadBalancer.members.${key}: not a node`);
    if (
      lbSection.kind === 'apache' &&
      typeof lbSection.apache.routeFromConfig === 'string' &&
      !section.config
    )
      problems.push(
        'loadBalancer.apache.routeFromConfig: a key of nodes.config, which the spec does not have (or give { path, key })',
      );
    loadBalancer = { ...omit(lbSection, ['hosts', 'members']), hosts: lbHosts.map((h) => targetFor(inv, h)) };
  }
  if (problems.length) throw new SpecError(loaded.file, problems);
  const primary = spec.database && expand(inv, spec.database.primary)?.[0];
  const settings = omit(section, ['hosts', 'reference']);
  return {
    cluster: spec.cluster,
    nodes: names.map(node),
    reference,
    settings,
    loadBalancer,
    database:
      primary && spec.database
        ? { address: targetFor(inv, primary).address, port: spec.database.port }
        : undefined,
    joining: options.joining ? node(options.joining) : undefined,
  };
}

function omit<T extends object, K extends keyof T>(o: T, keys: K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k as K))) as Omit<T, K>;
}

/**
 * The storage section resolved: server(s), clients, and export clients as addresses (an inventory
 * host or group becomes its hosts' addresses; an address, CIDR or `*` stays as given).
 */
export function storageInput(loaded: LoadedSpec): StorageInput {
  const { spec, inventory: inv } = loaded;
  const section = spec.storage;
  if (!section) throw new SpecError(loaded.file, ['storage: this spec has no storage section']);
  const problems: string[] = [];
  const resolve = (ref: string, field: string): string[] => {
    const hosts = expand(inv, ref);
    if (!hosts) problems.push(`${field}: unknown host or group "${ref}"`);
    return hosts ?? [];
  };
  const serverNames =
    section.kind === 'nfs' && section.nfs
      ? resolve(section.nfs.server, 'storage.nfs.server')
      : (section.glusterfs?.servers ?? []).flatMap((ref, i) =>
          resolve(ref, `storage.glusterfs.servers[${i}]`),
        );
  const clientNames = [
    ...new Set(section.clients.hosts.flatMap((ref, i) => resolve(ref, `storage.clients.hosts[${i}]`))),
  ];
  const exports = (section.nfs?.exports ?? []).map((e, i) => ({
    path: e.path,
    clients: e.clients.flatMap((c, j) =>
      c.hosts.flatMap((ref, k) => {
        const hosts = expand(inv, ref);
        if (hosts) return hosts.map((h) => ({ match: targetFor(inv, h).address, options: c.options }));
        if (/^[0-9a-fA-F.:/*]+$/.test(ref)) return [{ match: ref, options: c.options }];
        problems.push(`storage.nfs.exports[${i}].clients[${j}].hosts[${k}]: unknown host or group "${ref}"`);
        return [];
      }),
    ),
  }));
  if (problems.length) throw new SpecError(loaded.file, problems);
  return {
    cluster: spec.cluster,
    section,
    servers: serverNames.map((h) => targetFor(inv, h)),
    clients: clientNames.map((h) => targetFor(inv, h)),
    exports,
  };
}

/**
 * The license section resolved: its nodes (optionally only some), each with its key reference
 * (its own from `keys`, else the shared `key`).
 */
export function licenseInput(loaded: LoadedSpec, only: string[] = []): LicenseInput {
  const { spec, inventory: inv } = loaded;
  const section = spec.license;
  if (!section) throw new SpecError(loaded.file, ['license: this spec has no license section']);
  const problems: string[] = [];
  const names = [
    ...new Set(
      section.hosts.flatMap((ref, i) => {
        const hosts = expand(inv, ref);
        if (!hosts) problems.push(`license.hosts[${i}]: unknown host or group "${ref}"`);
        return hosts ?? [];
      }),
    ),
  ];
  for (const n of Object.keys(section.keys))
    if (!names.includes(n)) problems.push(`license.keys.${n}: not one of the license hosts`);
  for (const n of only) if (!names.includes(n)) problems.push(`--only: ${n} is not one of the license hosts`);
  const chosen = only.length ? names.filter((n) => only.includes(n)) : names;
  const nodes = chosen.map((name) => ({
    name,
    target: targetFor(inv, name),
    key: section.keys[name] ?? section.key,
  }));
  for (const n of nodes)
    if (!n.key) problems.push(`license.keys.${n.name}: no key for this node and no shared key`);
  if (problems.length) throw new SpecError(loaded.file, problems);
  return {
    cluster: spec.cluster,
    section: omit(section, ['hosts', 'key', 'keys']),
    nodes: nodes as LicenseInput['nodes'],
  };
}

/** A path in the spec is relative to the spec file. */
export function specPath(loaded: LoadedSpec, p: string): string {
  return path.resolve(path.dirname(loaded.file), p);
}

/** `--to` / `member` arguments must name a member of the database cluster. */
export function requireMember(input: DatabaseInput, name: string, field: string): void {
  if (!input.members.some((m) => m.name === name)) {
    throw new SpecError(field, [
      `${field}: "${name}" is not a database member (${input.members.map((m) => m.name).join(', ')})`,
    ]);
  }
}
