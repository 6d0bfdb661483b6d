import { InventoryError, emptyInventory, type Group, type Inventory, type Vars } from './model';
import { pythonLiteral } from './python-literal';

/** More hosts than this from one host line is a typo (`node[0:99999999]`), not a cluster. */
export const MAX_EXPANDED_HOSTS = 10_000;

/** `web[01:03]` -> web01 web02 web03; `db-[a:c]` -> db-a db-b db-c, as Ansible expands host ranges. */
export function expandHostRange(pattern: string, where = pattern, limit = MAX_EXPANDED_HOSTS): string[] {
  const m = /^(.*)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, head, from, to, stepText, tail] = m;
  const refuse = (why: string) => new InventoryError(where, `host range "${pattern}": ${why}`);
  const step = Number(stepText ?? 1);
  const numeric = /^\d+$/.test(from) && /^\d+$/.test(to);
  if (!numeric && !(/^[a-z]$/i.test(from) && /^[a-z]$/i.test(to)))
    throw refuse('give two numbers or two single letters');
  const [begin, end] = numeric ? [Number(from), Number(to)] : [from.charCodeAt(0), to.charCodeAt(0)];
  if (!Number.isSafeInteger(end)) throw refuse(`${to} is too large`);
  if (!(step >= 1)) throw refuse('the step must be at least 1');
  if (begin > end) throw refuse(`${from} comes after ${to}`);
  // Nested ranges multiply: each level gets what is left of the budget.
  const count = Math.floor((end - begin) / step) + 1;
  if (count > limit) throw refuse(`expands to more than ${MAX_EXPANDED_HOSTS} hosts`);
  const out: string[] = [];
  for (let i = begin; i <= end; i += step)
    out.push(`${head}${numeric ? String(i).padStart(from.length, '0') : String.fromCharCode(i)}${tail}`);
  return out.flatMap((p) => expandHostRange(p, where, Math.floor(limit / count)));
}

/**
 * A host line's words as Python's shlex reads them for Ansible (POSIX rules, `#` comments): quotes
 * group and are removed, a `#` inside quotes is text, a `#` elsewhere ends the line.
 */
export function hostLineWords(line: string, where: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < line.length) {
    const c = line[i++];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#') {
      break;
    } else if (c === "'" || c === '"') {
      word ??= '';
      for (;;) {
        if (i >= line.length) throw new InventoryError(where, `no closing quotation in ${line}`);
        const q = line[i++];
        if (q === c) break;
        // In double quotes a backslash only escapes " and \ (shlex keeps it before anything else).
        if (q === '\\' && c === '"' && (line[i] === '"' || line[i] === '\\')) word += line[i++];
        else word += q;
      }
    } else if (c === '\\') {
      if (i >= line.length) throw new InventoryError(where, `no escaped character at the end of ${line}`);
      word = (word ?? '') + line[i++];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function keyValues(words: string[], where: string): Vars {
  const vars: Vars = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new InventoryError(where, `expected key=value, got "${word}"`);
    // As Ansible: the quotes are gone already (x="8080" is the number 8080); x='"8080"' is a string.
    vars[word.slice(0, eq)] = pythonLiteral(word.slice(eq + 1));
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
    const header = /^\[([^\]:\s]+)(?::(vars|children))?\]\s*(?:#.*)?$/.exec(line);
    if (header) {
      section = { name: header[1], kind: (header[2] as 'vars' | 'children') ?? 'hosts' };
      group(section.name);
      return;
    }
    if (line.startsWith('[')) throw new InventoryError(where, `cannot read section header ${line}`);
    if (section.kind === 'vars') {
      // One `key = value` a line, the value a Python literal as on host lines, but not split into
      // words: `"a # b"` is that string, `port="8080"` the string 8080, `port=8080` the number.
      const eq = line.indexOf('=');
      if (eq <= 0) throw new InventoryError(where, `expected key=value, got "${line}"`);
      group(section.name).vars[line.slice(0, eq).trim()] = pythonLiteral(line.slice(eq + 1).trim());
      return;
    }
    const words = hostLineWords(line, where);
    if (section.kind === 'children') {
      childEdges.push({ parent: section.name, child: words[0], where });
    } else {
      const [hostPattern, ...rest] = words;
      const vars = keyValues(rest, where);
      for (const host of expandHostRange(hostPattern, where)) {
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
