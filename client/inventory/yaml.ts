import { isMap, isScalar, type Document } from 'yaml';
import { parseAnsibleYamlDocument as parseDocument } from '../yaml';
import { suggest } from '../../common/suggest';
import { InventoryError, emptyInventory, type Group, type Inventory, type Vars } from './model';

/** What a group may hold; anything else is a typo (a host under `host:` would silently vanish). */
const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** The line of the key at `path`, so an error points where the operator wrote it. */
function lineOf(doc: Document, text: string, path: (string | number)[]): string {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const last = path[path.length - 1];
  const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === last) : undefined;
  const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  if (offset === undefined) return path.join('.');
  return `line ${text.slice(0, offset).split('\n').length} (${path.join('.')})`;
}

/** Parses Ansible's YAML inventory format (`all` / `children` / `hosts` / `vars`) unchanged. */
export function parseYamlInventory(text: string, source: string): Inventory {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new InventoryError(`${source}:${e.linePos?.[0].line ?? '?'}`, e.message.split('\n')[0]);
  }
  const inv = emptyInventory(source);
  let root: unknown;
  try {
    root = doc.toJS();
  } catch (err) {
    // The library refuses alias bombs (`maxAliasCount`) here, after parsing.
    throw new InventoryError(source, (err as Error).message.split('\n')[0]);
  }
  if (root === null || root === undefined) return inv;
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw new InventoryError(source, 'an inventory is a mapping of group names (usually just `all`)');
  }
  const where = (path: (string | number)[]) => `${source}: ${lineOf(doc, text, path)}`;

  const visitGroup = (name: string, body: unknown, path: string[]): Group => {
    let group = inv.groups.get(name);
    if (!group) {
      group = { name, hosts: new Set(), children: new Set(), vars: {} };
      inv.groups.set(name, group);
    }
    if (body === null || body === undefined) return group;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new InventoryError(where(path), `group "${name}" must be a mapping`);
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (key === 'hosts') {
        if (value === null) continue;
        if (typeof value !== 'object' || Array.isArray(value)) {
          throw new InventoryError(
            where([...path, key]),
            'hosts must be a mapping of host name to host vars',
          );
        }
        for (const [host, hostVars] of Object.entries(value as Record<string, unknown>)) {
          if (hostVars !== null && (typeof hostVars !== 'object' || Array.isArray(hostVars))) {
            throw new InventoryError(where([...path, key, host]), `vars of host "${host}" must be a mapping`);
          }
          group.hosts.add(host);
          inv.hostVars.set(host, { ...(inv.hostVars.get(host) ?? {}), ...((hostVars as Vars | null) ?? {}) });
        }
      } else if (key === 'vars') {
        if (value === null) continue;
        if (typeof value !== 'object' || Array.isArray(value))
          throw new InventoryError(where([...path, key]), 'vars must be a mapping');
        Object.assign(group.vars, value);
      } else if (key === 'children') {
        if (value === null) continue;
        if (typeof value !== 'object' || Array.isArray(value)) {
          throw new InventoryError(where([...path, key]), 'children must be a mapping of group names');
        }
        for (const [child, childBody] of Object.entries(value as Record<string, unknown>)) {
          if (child === 'all')
            throw new InventoryError(where([...path, key, child]), '`all` cannot be a child group');
          // Group names sit at every other step of the path; an alias can make a group its own child.
          if (path.some((p, i) => i % 2 === 0 && p === child))
            throw new InventoryError(where([...path, key, child]), `group "${child}" is its own ancestor`);
          group.children.add(child);
          visitGroup(child, childBody, [...path, key, child]);
        }
      } else {
        const meant = suggest(key, GROUP_KEYS);
        throw new InventoryError(
          where([...path, key]),
          `unknown key "${key}" in group "${name}"${meant ? `; did you mean ${meant}?` : ' (expected hosts, vars or children)'}`,
        );
      }
    }
    return group;
  };

  for (const [name, body] of Object.entries(root as Record<string, unknown>)) {
    const group = visitGroup(name, body, [name]);
    if (name !== 'all') inv.groups.get('all')!.children.add(group.name);
  }
  return inv;
}
