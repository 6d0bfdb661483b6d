import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// `include_tasks: "setup-{{ ansible_os_family }}.yml"` and `include_vars: "{{ item }}"` with
// `with_first_found`: the file is only known when the host's facts are. Ansible reads it then;
// we read every file the name could be when the playbook loads (so each is checked before
// anything runs), and guard each with a condition that holds when the name renders to it. A name
// that renders to none of them fails the host, as ansible-core does.

/** Jinja text (`a-{{ x }}.yml`) as one expression giving the rendered text: `'a-' ~ (x) ~ '.yml'`. */
export function textExpression(template: string): string {
  const parts: string[] = [];
  let rest = template;
  while (rest.length) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      parts.push(quote(rest));
      break;
    }
    if (open > 0) parts.push(quote(rest.slice(0, open)));
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error(`${template}: an unclosed {{`);
    parts.push(`(${rest.slice(open + 2, close).trim()})`);
    rest = rest.slice(close + 2);
  }
  return parts.length ? parts.join(' ~ ') : "''";
}

export const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A regular expression for the names a template can render to: each `{{ }}` as any text. */
function patternOf(template: string): RegExp {
  const pieces = template.split(/\{\{.*?\}\}/s).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${pieces.join('.*')}$`, 's');
}

/**
 * The existing files a templated name can be, as the name relative to `dir` (how the template
 * renders for a relative name). The directory part must be fixed text.
 */
export function candidateFiles(template: string, dirs: string[]): { name: string; file: string }[] {
  const slash = template.lastIndexOf('/');
  const dirPart = slash >= 0 ? template.slice(0, slash) : '';
  if (dirPart.includes('{{'))
    throw new Error(`${template}: a templated directory is not supported yet (only the file name may be)`);
  const re = patternOf(slash >= 0 ? template.slice(slash + 1) : template);
  const found: { name: string; file: string }[] = [];
  const seen = new Set<string>();
  for (const d of dirs) {
    const where = path.resolve(d, dirPart);
    if (!existsSync(where) || !statSync(where).isDirectory()) continue;
    for (const f of readdirSync(where).sort()) {
      const name = dirPart ? `${dirPart}/${f}` : f;
      if (!re.test(f) || seen.has(name) || !statSync(path.join(where, f)).isFile()) continue;
      seen.add(name);
      found.push({ name, file: path.join(where, f) });
    }
  }
  return found;
}

/**
 * `with_first_found` (or a `first_found` list): the first name whose file exists, as one
 * expression over the names the client found. `files` may be templates.
 */
export function firstFoundExpression(files: string[], existing: string[]): string {
  return `([${files.map(textExpression).join(', ')}] | select('in', [${existing.map(quote).join(', ')}]) | first)`;
}

/**
 * with_first_found's terms: names, or `{files, paths, skip}` mappings (each file tried under each
 * path). `skip: true` on any term means "none found" skips the task instead of failing it.
 */
export function firstFoundTerms(v: unknown): { names: string[]; skip: boolean } {
  let skip = false;
  const names = [v].flat().flatMap((e): string[] => {
    if (typeof e === 'string') return [e];
    if (e && typeof e === 'object' && !Array.isArray(e)) {
      const { files, paths, skip: skips, ...other } = e as Record<string, unknown>;
      if (Object.keys(other).length)
        throw new Error(`with_first_found: ${Object.keys(other).join(', ')}: not supported yet`);
      if (skips !== undefined && typeof skips !== 'boolean')
        throw new Error('with_first_found: skip: true or false');
      skip ||= skips === true;
      const fs = [files ?? []].flat().map(String);
      const ps = [paths ?? []].flat().map(String);
      return ps.length ? ps.flatMap((p) => fs.map((f) => `${p.replace(/\/$/, '')}/${f}`)) : fs;
    }
    throw new Error('with_first_found: a list of file names');
  });
  return { names, skip };
}
