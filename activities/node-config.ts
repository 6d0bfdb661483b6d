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

/** A joining node's config: the reference's file with its own node-specific values and the cluster keys. */
export function deriveNodeConfig(reference: string, config: NodeConfig, vars: NodeVars): string {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.cluster)) set[k] = render(v, vars);
  for (const [k, v] of Object.entries(config.set)) set[k] = render(v, vars);
  // Node-specific keys the spec gives no value for must not be copied from the reference node.
  const remove = [...config.delete, ...config.nodeSpecific.filter((k) => !(k in set))];
  return editProperties(reference, { set, remove, separator: '=' });
}

export interface Drift {
  key: string;
  reference?: string;
  node?: string;
}

/** Keys that differ from the reference, ignoring the node-specific ones. */
export function configDrift(reference: string, node: string, config: NodeConfig): Drift[] {
  const ignore = new Set([...config.nodeSpecific, ...config.delete]);
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
