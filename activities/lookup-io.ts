import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LookupIO } from '../common/lookups';
import { wildcardMatch } from '../common/wildcard';

// What lookups read, on the worker: Ansible reads them on the controller, and the worker is ours.
// Rendering is synchronous (nunjucks), so these are the synchronous reads of one file or folder.

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

export const workerLookupIO: LookupIO = {
  env: (name) => process.env[name],
  readFile: (p) => (isFile(p) ? readFileSync(p, 'utf8') : undefined),
  exists: (p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  },
  glob: (dir, pattern) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return (
      names
        // As Python's glob: a leading dot is matched only by a pattern that starts with one.
        .filter((n) => (n.startsWith('.') ? pattern.startsWith('.') : true))
        .filter((n) => wildcardMatch(pattern, n, { sets: true }))
        .map((n) => path.join(dir, n))
        .filter(isFile)
    );
  },
};
