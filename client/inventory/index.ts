import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readVarsText } from '../vault';
import { parseIniInventory } from './ini';
import { InventoryError, type Inventory, type Vars } from './model';
import { selectHosts } from './patterns';
import { targetFor } from './targets';
import { parseYamlInventory } from './yaml';

export { InventoryError, hostsOf, varsOf, type Inventory } from './model';
export { selectHosts } from './patterns';
export { targetFor } from './targets';
export { parseYamlInventory } from './yaml';
export { parseIniInventory, expandHostRange } from './ini';

/** Ansible's `group_vars/NAME(.yml|.yaml|.json)` or a `group_vars/NAME/` folder of such files. */
function varsFiles(dir: string, name: string): string[] {
  const base = path.join(dir, name);
  if (existsSync(base) && statSync(base).isDirectory()) {
    return readdirSync(base)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .map((f) => path.join(base, f));
  }
  return ['', '.yml', '.yaml', '.json']
    .map((ext) => `${base}${ext}`)
    .filter((f) => existsSync(f) && statSync(f).isFile());
}

function readVars(file: string): Vars {
  let doc: unknown;
  try {
    doc = readVarsText(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InventoryError(file, (err as Error).message.split('\n')[0]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new InventoryError(file, 'a vars file is a mapping');
  return doc as Vars;
}

/**
 * Reads an Ansible inventory, YAML or INI, then the `group_vars/` and `host_vars/` folders beside
 * it (their values override the inventory's, as in Ansible).
 */
export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InventoryError(
      file,
      `cannot read inventory (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const yaml =
    /\.(ya?ml|json)$/.test(file) ||
    /^(all|[\w-]+):\s*$/m.test(text.split('\n').find((l) => l.trim() && !l.startsWith('#')) ?? '');
  const inv = yaml ? parseYamlInventory(text, file) : parseIniInventory(text, file);
  const dir = path.dirname(file);
  for (const [name, group] of inv.groups) {
    for (const f of varsFiles(path.join(dir, 'group_vars'), name)) Object.assign(group.vars, readVars(f));
  }
  for (const [host, vars] of inv.hostVars) {
    for (const f of varsFiles(path.join(dir, 'host_vars'), host)) Object.assign(vars, readVars(f));
  }
  return inv;
}

/** The cluster an inventory describes: `cluster_name` in `all` vars, else "default". */
export function clusterNameOf(inv: Inventory): string {
  const name = inv.groups.get('all')?.vars.cluster_name;
  return typeof name === 'string' && name ? name : 'default';
}

export function resolveTargets(inv: Inventory, limit?: string) {
  return selectHosts(inv, limit).map((host) => targetFor(inv, host));
}
