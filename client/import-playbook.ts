import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAnsibleYaml as parse } from './yaml';
import { NOT_YET } from './playbook-keywords';

// `- import_playbook: other.yml` as ansible-core reads it: statically, in place, the imported
// file's plays keeping their own directory (their roles, vars_files and playbook_dir are found
// beside that file). `vars` and `tags` on the line are given to each imported play.

export interface PlayEntry {
  raw: unknown;
  /** The playbook file the play is written in, and its directory. */
  file: string;
  baseDir: string;
  /** The play's number in its own file, for messages. */
  index: number;
}

const IMPORT_KEYS = ['import_playbook', 'ansible.builtin.import_playbook'];
const LINE_KEYS = ['name', 'vars', 'tags'];

export function playEntries(file: string, problems: string[], depth = 0): PlayEntry[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${path.basename(file)}: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
  if (!Array.isArray(doc)) {
    problems.push(`${path.basename(file)}: a playbook is a list of plays`);
    return [];
  }
  const baseDir = path.dirname(path.resolve(file));
  return doc.flatMap((raw, i): PlayEntry[] => {
    const body =
      raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const key = Object.keys(body).find((k) => IMPORT_KEYS.includes(k));
    if (!key) return [{ raw, file, baseDir, index: i }];
    const where = `${path.basename(file)}: play ${i + 1}: ${key}`;
    const other = Object.keys(body).filter((k) => k !== key && !LINE_KEYS.includes(k));
    if (other.length) {
      problems.push(`${where}: ${other.join(', ')} on an import: ${NOT_YET}`);
      return [];
    }
    const target = body[key];
    if (typeof target !== 'string' || target.includes('{{')) {
      problems.push(`${where}: a file name (a templated one is ${NOT_YET})`);
      return [];
    }
    if (depth > 20) {
      problems.push(`${where}: imports nest deeper than 20`);
      return [];
    }
    const imported = playEntries(path.resolve(baseDir, target), problems, depth + 1);
    const vars = body.vars as Record<string, unknown> | undefined;
    const tags = body.tags;
    return imported.map((e) => {
      if ((!vars && tags === undefined) || !e.raw || typeof e.raw !== 'object') return e;
      const play = { ...(e.raw as Record<string, unknown>) };
      if (vars) play.vars = { ...vars, ...(play.vars as object) };
      if (tags !== undefined) play.tags = [tags, play.tags ?? []].flat();
      return { ...e, raw: play };
    });
  });
}
