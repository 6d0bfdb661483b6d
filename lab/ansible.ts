import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CACHE_DIR } from './paths';

// ansible-core for reference runs (the fan-out bench, the differential tests): pinned, installed
// once into a venv from the machine's package index, reused after.

export const ANSIBLE_CORE = '2.19.14';

/** The path of ansible-playbook, installing ansible-core first when it is not there. */
export function ensureAnsible(log: (line: string) => void = console.log): string {
  const venv = path.join(CACHE_DIR, `ansible-core-${ANSIBLE_CORE}`);
  const bin = path.join(venv, 'bin/ansible-playbook');
  if (!existsSync(bin)) {
    log(`installing ansible-core ${ANSIBLE_CORE} into ${venv} (pip, from the machine's package index)`);
    const steps = [
      ['python3', ['-m', 'venv', venv]],
      [path.join(venv, 'bin/pip'), ['install', '-q', `ansible-core==${ANSIBLE_CORE}`]],
    ] as const;
    for (const [cmd, args] of steps) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
    }
  }
  return bin;
}
