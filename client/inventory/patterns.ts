import { wildcardMatch } from '../../common/wildcard';
import { InventoryError, hostsOf, type Inventory } from './model';

/** More unbounded quantifiers than this make even a "safe" regex cost length^n per host name. */
const MAX_UNBOUNDED_QUANTIFIERS = 3;

/**
 * Refuses the regular expressions that backtrack exponentially, such as `(a+)+$` or `(a|aa)*$`:
 * JavaScript cannot interrupt a running match, so one such `--limit` would hang the CLI. A
 * quantified group may not itself contain a quantifier or an alternative, and backreferences are
 * refused; host patterns never need either.
 */
function regexRisk(source: string): string | undefined {
  // One frame per open group: did it contain a quantifier or a `|`?
  const groups: { risky: boolean }[] = [{ risky: false }];
  let unbounded = 0;
  let closed: { risky: boolean } | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const afterGroup = closed;
    closed = undefined;
    if (c === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return 'backreferences are not supported';
      i++;
    } else if (c === '[') {
      // Skip the character class; inside it nothing is a quantifier.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
    } else if (c === '(') {
      groups.push({ risky: false });
      // `(?:`, `(?=`, `(?<name>` and the like: the `?` is syntax, not a repetition.
      const syntax = /^\?(<?[=!]|:|<[^>]*>)?/.exec(source.slice(i + 1));
      if (syntax) i += syntax[0].length;
    } else if (c === ')') {
      closed = groups.length > 1 ? groups.pop() : undefined;
      if (closed?.risky) groups[groups.length - 1].risky = true;
    } else if (c === '|') {
      groups[groups.length - 1].risky = true;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      const bounds = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : undefined;
      if (c === '{' && !bounds) continue;
      if (afterGroup?.risky) return 'a repeated group may not contain a repetition or an alternative';
      if (c === '*' || c === '+' || (bounds && bounds[2] && !bounds[3])) unbounded++;
      groups[groups.length - 1].risky = true;
      if (bounds) i += bounds[0].length - 1;
    }
  }
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS)
    return `at most ${MAX_UNBOUNDED_QUANTIFIERS} of *, + or {n,} are supported`;
  return undefined;
}

function compileRegex(inv: Inventory, term: string): RegExp {
  const source = term.slice(1);
  const risk = regexRisk(source);
  if (risk) throw new InventoryError(inv.source, `host pattern "${term}": ${risk}`);
  try {
    return new RegExp(source);
  } catch (err) {
    throw new InventoryError(
      inv.source,
      `host pattern "${term}" is not a regular expression (${(err as Error).message})`,
    );
  }
}

/** Hosts one pattern term names: a group, a host, a wildcard over both, or `~regex`. */
function termHosts(inv: Inventory, term: string): Set<string> {
  const hosts = [...inv.hostVars.keys()];
  const matching = (test: (name: string) => boolean) => {
    const result = new Set(hosts.filter(test));
    for (const g of inv.groups.keys()) if (test(g)) hostsOf(inv, g).forEach((h) => result.add(h));
    return result;
  };
  if (term.startsWith('~')) {
    const re = compileRegex(inv, term);
    return matching((name) => re.test(name));
  }
  if (inv.groups.has(term)) return hostsOf(inv, term);
  if (inv.hostVars.has(term)) return new Set([term]);
  if (/[*?]/.test(term)) return matching((name) => wildcardMatch(term, name));
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
