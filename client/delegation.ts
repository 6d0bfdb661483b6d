import type { HostTarget } from '../common/hosts';
import type { PlayHost, PlayTask } from '../common/play';
import { OMIT, renderTemplate } from '../common/templates';
import { targetFor, type Inventory } from './inventory';
import { mentionsName } from './magic-vars';
import { NOT_YET } from './playbook-keywords';

// `delegate_to`: the task runs on another host, with the delegating host's variables, as in
// ansible-core. Resolved per host when the playbook loads, so the workflow only looks names up;
// `localhost` (when the inventory has no such host) is the worker itself.

const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The worker as a target: commands run there, not over SSH. */
export function localTarget(name = 'localhost'): HostTarget {
  return {
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    knownHostsFile: '/dev/null',
    hostKeyChecking: 'strict',
    connectTimeoutMs: 10_000,
    connection: 'local',
  };
}

/**
 * Sets each delegating task's `delegates` (host -> where it runs) and returns the targets of every
 * host delegated to. A delegate_to that depends on the run (a registered result) is refused.
 */
export function delegation(
  tasks: PlayTask[],
  hosts: PlayHost[],
  inv: Inventory,
  runtime: string[],
  problems: string[],
): Record<string, HostTarget> {
  const targets: Record<string, HostTarget> = {};
  for (const t of tasks) {
    if (!t.delegateTo) continue;
    if (runtime.some((n) => mentionsName([t.delegateTo], n))) {
      problems.push(
        `task "${t.name}": delegate_to: ${t.delegateTo}: depends on a registered value: ${NOT_YET}`,
      );
      continue;
    }
    const delegates: Record<string, string> = {};
    for (const h of hosts) {
      let name: string;
      try {
        name = t.delegateTo.includes('{{') ? renderTemplate(t.delegateTo, h.vars).trim() : t.delegateTo;
      } catch (err) {
        problems.push(
          `task "${t.name}" on ${h.target.name}: delegate_to: ${(err as Error).message.split('\n').pop()}`,
        );
        continue;
      }
      // default(omit) leaves the keyword unset, as ansible-core does: the host runs the task itself.
      if (name === OMIT) continue;
      if (inv.hostVars.has(name)) targets[name] ??= targetFor(inv, name);
      else if (LOCAL_NAMES.includes(name)) targets[name] ??= localTarget(name);
      else {
        problems.push(`task "${t.name}" on ${h.target.name}: delegate_to: ${name} is not in the inventory`);
        continue;
      }
      delegates[h.target.name] = name;
    }
    t.delegates = delegates;
  }
  return targets;
}
