import { readFileSync } from 'node:fs';
import { InventoryError, type Inventory } from './model';
import { selectHosts } from './patterns';
import { targetFor } from './targets';
import { parseYamlInventory } from './yaml';

export { InventoryError, hostsOf, varsOf, type Inventory } from './model';
export { selectHosts } from './patterns';
export { targetFor } from './targets';
export { parseYamlInventory } from './yaml';

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
  return parseYamlInventory(text, file);
}

/** The cluster an inventory describes: `cluster_name` in `all` vars, else "default". */
export function clusterNameOf(inv: Inventory): string {
  const name = inv.groups.get('all')?.vars.cluster_name;
  return typeof name === 'string' && name ? name : 'default';
}

export function resolveTargets(inv: Inventory, limit?: string) {
  return selectHosts(inv, limit).map((host) => targetFor(inv, host));
}
