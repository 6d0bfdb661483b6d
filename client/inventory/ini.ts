import { parse as parseWords } from 'shell-quote';
import { InventoryError, emptyInventory, type Group, type Inventory, type Vars } from './model';

/** `web[01:03]` -> web01 web02 web03; `db-[a:c]` -> db-a db-b db-c, as Ansible expands host ranges. */
export function expandHostRange(pattern: string): string[] {
  const m = /^(.*)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, head, from, to, stepText, tail] = m;
  const step = Number(stepText ?? 1);
  const out: string[] = [];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    for (let i = Number(from); i <= Number(to); i += step)
      out.push(`${head}${String(i).padStart(from.length, '0')}${tail}`);
  } else {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += step)
      out.push(`${head}${String.fromCharCode(c)}${tail}`);
  }
  return out.flatMap(expandHostRange);
}

/** Inline host values are Python literals in Ansible: numbers and booleans keep their type. */
function literal(value: string): unknown {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return value;
}

function keyValues(words: string[], where: string): Vars {
  const vars: Vars = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new InventoryError(where, `expected key=value, got "${word}"`);
    const value = word.slice(eq + 1);
    vars[word.slice(0, eq)] = literal(value);
  }
  return vars;
}

/** Parses Ansible's INI inventory: host lines, `[group]`, `[group:vars]`, `[group:children]`, host ranges. */
export function parseIniInventory(text: string, source: string): Inventory {
  const inv = emptyInventory(source);
  const group = (name: string): Group => {
    let g = inv.groups.get(name);
    if (!g) {
      g = { name, hosts: new Set(), children: new Set(), vars: {} };
      inv.groups.set(name, g);
      if (name !== 'all') inv.groups.get('all')!.children.add(name);
    }
    return g;
  };
  let section = { name: 'ungrouped', kind: 'hosts' as 'hosts' | 'vars' | 'children' };
  const childEdges: { parent: string; child: string; where: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${source}:${i + 1}`;
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      section = { name: header[1], kind: (header[2] as 'vars' | 'children') ?? 'hosts' };
      group(section.name);
      return;
    }
    if (line.startsWith('[')) throw new InventoryError(where, `cannot read section header ${line}`);
    if (section.kind === 'vars') {
      // `key = value` per line; the value is a string, its quotes removed.
      const eq = line.indexOf('=');
      if (eq <= 0) throw new InventoryError(where, `expected key=value, got "${line}"`);
      group(section.name).vars[line.slice(0, eq).trim()] = line
        .slice(eq + 1)
        .trim()
        .replace(/^(['"])(.*)\1$/, '$2');
      return;
    }
    const words = parseWords(line.replace(/\s[#;].*$/, ''), (name) => `$${name}`).map((w) => {
      if (typeof w !== 'string') throw new InventoryError(where, `unexpected ${JSON.stringify(w)}`);
      return w;
    });
    if (section.kind === 'children') {
      childEdges.push({ parent: section.name, child: words[0], where });
    } else {
      const [hostPattern, ...rest] = words;
      const vars = keyValues(rest, where);
      for (const host of expandHostRange(hostPattern)) {
        group(section.name).hosts.add(host);
        inv.hostVars.set(host, { ...(inv.hostVars.get(host) ?? {}), ...vars });
      }
    }
  });
  for (const { parent, child, where } of childEdges) {
    if (!inv.groups.has(child))
      throw new InventoryError(where, `[${parent}:children] names "${child}", which is not a group`);
    group(parent).children.add(child);
    inv.groups.get('all')!.children.delete(child);
  }
  // `ungrouped` only keeps hosts that belong to no other group.
  const ungrouped = inv.groups.get('ungrouped');
  if (ungrouped) {
    for (const g of inv.groups.values())
      if (g !== ungrouped) for (const h of g.hosts) ungrouped.hosts.delete(h);
  }
  return inv;
}
