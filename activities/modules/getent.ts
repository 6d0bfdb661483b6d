import type { z } from 'zod';
import type { GetentArgs } from '../../common/modules';
import { shellJoin } from '../ssh/quote';
import { failed, type ModuleRunner } from './context';

// `getent`: a name service database (passwd, group, hosts, services…) read with getent(1) and
// set as the fact `getent_<database>`, so that later tasks read `getent_passwd.root[4]`, as with
// ansible-core. Read-only: it runs in check mode too.

type Getent = z.infer<typeof GetentArgs>;

/** Databases whose fields are colon-separated; the others split at runs of whitespace. */
const COLON_DATABASES = ['passwd', 'shadow', 'group', 'gshadow'];

/** What getent's exit codes mean, in ansible-core's words. */
const EXIT_MESSAGES: Record<number, string> = {
  1: 'Missing arguments, or database unknown.',
  2: 'One or more supplied key could not be found in the database.',
  3: 'Enumeration not supported on this database.',
};

export function getentCommand(a: Getent): string {
  return shellJoin([
    'getent',
    a.database,
    ...(a.key !== undefined ? [a.key] : []),
    ...(a.service ? ['-s', a.service] : []),
  ]);
}

/** Python's `str.split(sep)`, and `str.split()` (runs of whitespace, ends trimmed) without one. */
function pythonSplit(line: string, sep: string | undefined): string[] {
  if (sep !== undefined) return line.split(sep);
  const t = line.trim();
  return t ? t.split(/\s+/) : [];
}

/**
 * Pure: getent's output as ansible-core keys it: the first field -> the other fields; a key seen
 * twice (two hosts lines for one address) becomes a list of those field lists.
 */
export function parseGetent(output: string, a: Pick<Getent, 'database' | 'split'>): Record<string, unknown> {
  const split = a.split ?? (COLON_DATABASES.includes(a.database) ? ':' : undefined);
  const tree: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  for (const line of output.split(/\r?\n/)) {
    if (line === '') continue;
    const [key = '', ...rest] = pythonSplit(line, split);
    const n = seen.get(key) ?? 0;
    if (n === 0) tree[key] = rest;
    else if (n === 1) tree[key] = [tree[key], rest];
    else (tree[key] as unknown[]).push(rest);
    seen.set(key, n + 1);
  }
  return tree;
}

export const getent: ModuleRunner<Getent> = async (ctx, a) => {
  const fact = `getent_${a.database}`;
  const r = await ctx.remote.run(getentCommand(a));
  const found = (tree: Record<string, unknown>, msg: string) => {
    const facts = { [fact]: tree };
    return { changed: false, msg, ansibleFacts: facts, data: { ansible_facts: facts } };
  };
  if (r.exitCode === 0) {
    const tree = parseGetent(r.stdout, a);
    return found(tree, `${Object.keys(tree).length} entries of ${a.database}`);
  }
  if (r.exitCode === 127) return failed('Failed to find required executable "getent"');
  if (r.exitCode === 2 && !a.fail_key && a.key !== undefined)
    return found({ [a.key]: null }, EXIT_MESSAGES[2]);
  return failed(EXIT_MESSAGES[r.exitCode ?? -1] ?? `Unexpected failure! ${r.stderr.trim()}`.trim());
};
