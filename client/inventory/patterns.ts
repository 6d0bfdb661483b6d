import { InventoryError, hostsOf, type Inventory } from './model';

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** Hosts one pattern term names: a group, a host, a wildcard over both, or `~regex`. */
function termHosts(inv: Inventory, term: string): Set<string> {
  const hosts = [...inv.hostVars.keys()];
  if (term.startsWith('~')) {
    const re = new RegExp(term.slice(1));
    const result = new Set(hosts.filter((h) => re.test(h)));
    for (const g of inv.groups.keys()) if (re.test(g)) hostsOf(inv, g).forEach((h) => result.add(h));
    return result;
  }
  if (inv.groups.has(term)) return hostsOf(inv, term);
  if (inv.hostVars.has(term)) return new Set([term]);
  if (/[*?]/.test(term)) {
    const re = globToRegExp(term);
    const result = new Set(hosts.filter((h) => re.test(h)));
    for (const g of inv.groups.keys()) if (re.test(g)) hostsOf(inv, g).forEach((h) => result.add(h));
    return result;
  }
  return new Set();
}

/**
 * Ansible host patterns: `a,b` or `a:b` (union), `a:&b` (intersection), `a:!b` (exclusion),
 * wildcards and `~regex`. Returns hosts in inventory order; an empty result is an error.
 */
export function selectHosts(inv: Inventory, pattern = 'all'): string[] {
  const terms = pattern
    .split(/[,:](?=[&!~\w*?.-])/)
    .map((t) => t.trim())
    .filter(Boolean);
  const unions = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const selected = new Set<string>();
  for (const term of unions.length ? unions : ['all']) termHosts(inv, term).forEach((h) => selected.add(h));
  for (const term of terms.filter((t) => t.startsWith('&'))) {
    const keep = termHosts(inv, term.slice(1));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const term of terms.filter((t) => t.startsWith('!')))
    termHosts(inv, term.slice(1)).forEach((h) => selected.delete(h));
  const ordered = [...inv.hostVars.keys()].filter((h) => selected.has(h));
  if (ordered.length === 0)
    throw new InventoryError(inv.source, `host pattern "${pattern}" matched no hosts`);
  return ordered;
}
