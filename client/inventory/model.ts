export type Vars = Record<string, unknown>;

export interface Group {
  name: string;
  hosts: Set<string>;
  children: Set<string>;
  vars: Vars;
}

/** An Ansible inventory: groups form a tree under `all`; host vars win over group vars. */
export interface Inventory {
  source: string;
  groups: Map<string, Group>;
  hostVars: Map<string, Vars>;
}

export class InventoryError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'InventoryError';
  }
}

export function emptyInventory(source: string): Inventory {
  const all: Group = { name: 'all', hosts: new Set(), children: new Set(), vars: {} };
  return { source, groups: new Map([['all', all]]), hostVars: new Map() };
}

/** Groups a host belongs to, directly or through children, from the farthest ancestor down. */
function groupChain(inv: Inventory, host: string): Group[] {
  const depth = new Map<string, number>();
  const visit = (name: string, d: number, seen: Set<string>) => {
    if (seen.has(name)) return;
    seen.add(name);
    depth.set(name, Math.max(depth.get(name) ?? 0, d));
    const group = inv.groups.get(name)!;
    for (const child of group.children) visit(child, d + 1, seen);
  };
  visit('all', 0, new Set());
  return [...inv.groups.values()]
    .filter((g) => g.name === 'all' || hostsOf(inv, g.name).has(host))
    .sort((a, b) => (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) || a.name.localeCompare(b.name));
}

/** Every host of a group, including those of its child groups. */
export function hostsOf(inv: Inventory, groupName: string, seen = new Set<string>()): Set<string> {
  const group = inv.groups.get(groupName);
  if (!group || seen.has(groupName)) return new Set();
  seen.add(groupName);
  if (groupName === 'all') return new Set(inv.hostVars.keys());
  const result = new Set(group.hosts);
  for (const child of group.children) for (const h of hostsOf(inv, child, seen)) result.add(h);
  return result;
}

/** Ansible's precedence: all < parent groups < child groups < host vars. */
export function varsOf(inv: Inventory, host: string): Vars {
  const merged: Vars = {};
  for (const group of groupChain(inv, host)) Object.assign(merged, group.vars);
  return Object.assign(merged, inv.hostVars.get(host) ?? {}, { inventory_hostname: host });
}
