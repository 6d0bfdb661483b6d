import type { z } from 'zod';
import { ansibleFacts } from '../../common/ansible-facts';
import type { SetupArgs } from '../../common/modules';
import { gatherFacts } from '../facts';
import type { ModuleRunner } from './context';

// setup as a task: the facts again, mid-play (after a package changed the host), as the play's
// "Gathering Facts" gives them. They replace the host's facts, as ansible-core's do.

/** Pure: fnmatch-style globs (`ansible_*_mb`, `ansible_distribution?`) as one test. */
export function factFilter(patterns: string[]): (name: string) => boolean {
  if (!patterns.length) return () => true;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ),
  );
  return (name) => res.some((r) => r.test(name));
}

export const setup: ModuleRunner<z.infer<typeof SetupArgs>> = async (ctx, a) => {
  const { ansible_facts: facts, ...flat } = ansibleFacts(await gatherFacts(ctx.remote)) as {
    ansible_facts: Record<string, unknown>;
  } & Record<string, unknown>;
  const keep = factFilter([a.filter ?? []].flat());
  const kept = Object.fromEntries(Object.entries(flat).filter(([k]) => keep(k)));
  const unprefixed = Object.fromEntries(
    Object.entries(facts).filter(([k]) => Object.hasOwn(kept, `ansible_${k}`)),
  );
  return {
    changed: false,
    msg: `gathered ${Object.keys(kept).length} facts`,
    ansibleFacts: { ...kept, ansible_facts: unprefixed },
    data: { ansible_facts: kept },
  };
};
