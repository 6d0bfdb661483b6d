import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { addFilters } from '../common/templates';

// The filters that need the machine: digests, and paths on the worker, which is Ansible's
// controller here. Registered when the worker (or the client, for its pre-flight) loads this.

const digest = (algorithm: string) => (v: unknown) => createHash(algorithm).update(String(v)).digest('hex');

/** `expanduser`: ~ and ~user, as Python's os.path.expanduser. */
export function expandUser(v: unknown): string {
  const s = String(v);
  const m = /^~([^/]*)(.*)$/s.exec(s);
  if (!m) return s;
  if (!m[1]) return homedir() + m[2];
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === m[1]);
  return line ? line.split(':')[5] + m[2] : s;
}

/** `realpath`: links resolved as far as the path exists (Python's realpath needs no file). */
export function realPath(v: unknown): string {
  let head = path.resolve(String(v));
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail);
    } catch {
      if (head === '/') return path.join('/', ...tail);
      tail.unshift(path.basename(head));
      head = path.dirname(head);
    }
  }
}

export const WORKER_FILTERS: Record<string, (...args: never[]) => unknown> = {
  hash: (v: unknown, algorithm = 'sha1') => digest(algorithm)(v),
  md5: digest('md5'),
  sha1: digest('sha1'),
  checksum: digest('sha1'),
  expanduser: expandUser,
  realpath: realPath,
};

addFilters(WORKER_FILTERS);
