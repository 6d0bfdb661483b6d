import type { NodeConfig } from '../common/lb';
import { editProperties, parseProperties } from './modules/text-edits';

// The app's server config across nodes (seed 000: copy the first node's file to a further node,
// change the node-specific keys, delete nodeid, add the cluster keys; some settings are never
// synced). Pure functions, so the rules are unit-tested without hosts.

export interface NodeVars {
  inventory_hostname: string;
  address: string;
}

const render = (value: string | number | boolean, vars: NodeVars) =>
  String(value).replace(/\{\{\s*(inventory_hostname|address)\s*\}\}/g, (_, k: keyof NodeVars) => vars[k]);

/**
 * A joining node's config: the reference's file with its own node-specific values and the cluster
 * keys. A node-specific or deleted key the node already holds a value of its own for (a nodeid
 * the product generated at its first start) keeps it, so a second join changes nothing; a value
 * equal to the reference's is a copy of it, and goes. A key that may differ keeps the node's own.
 */
export function deriveNodeConfig(
  reference: string,
  config: NodeConfig,
  vars: NodeVars,
  current?: string,
): string {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.cluster)) set[k] = render(v, vars);
  for (const [k, v] of Object.entries(config.set)) set[k] = render(v, vars);
  const ref = parseProperties(reference);
  const own = current === undefined ? new Map<string, string>() : parseProperties(current);
  const remove: string[] = [];
  // Node-specific keys the spec gives no value for must not be copied from the reference node.
  for (const k of new Set([...config.delete, ...config.nodeSpecific.filter((k) => !(k in set))])) {
    const mine = own.get(k);
    if (mine !== undefined && mine !== ref.get(k)) set[k] = mine;
    else remove.push(k);
  }
  // A key that may differ keeps what the node already has: only a new node takes the reference's.
  for (const k of config.mayDiffer ?? []) {
    const mine = own.get(k);
    if (mine !== undefined && !(k in set)) set[k] = mine;
  }
  const wanted = editProperties(reference, { set, remove, separator: '=' });
  // The same settings in the node's own order (the product appended its nodeid) are no change.
  return current !== undefined && sameSettings(parseProperties(wanted), own) ? current : wanted;
}

const sameSettings = (a: Map<string, string>, b: Map<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

export interface Drift {
  key: string;
  reference?: string;
  node?: string;
}

/** Keys that differ from the reference, ignoring the node-specific ones and those that may differ. */
export function configDrift(reference: string, node: string, config: NodeConfig): Drift[] {
  // mayDiffer is absent from inputs recorded before it existed.
  const ignore = new Set([...config.nodeSpecific, ...config.delete, ...(config.mayDiffer ?? [])]);
  const ref = parseProperties(reference);
  const own = parseProperties(node);
  const keys = [...new Set([...ref.keys(), ...own.keys()])].filter((k) => !ignore.has(k)).sort();
  return keys
    .filter((k) => ref.get(k) !== own.get(k))
    .map((k) => ({ key: k, reference: ref.get(k), node: own.get(k) }));
}

/** The node's file converged to the reference: differing and missing keys set, extra keys removed. */
export function convergeConfig(node: string, drift: Drift[]): string {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const d of drift) {
    if (d.reference === undefined) remove.push(d.key);
    else set[d.key] = d.reference;
  }
  return editProperties(node, { set, remove, separator: '=' });
}
