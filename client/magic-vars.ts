import path from 'node:path';
import { hostsOf, type Inventory } from './inventory';
import { varsOf } from './inventory';
import { OMIT } from '../common/templates';

// Ansible's magic variables that the client knows when a playbook loads: who a host is, its
// groups, where the playbook and inventory are, the run's modes. The batch's own
// (ansible_play_batch, ansible_play_hosts) are added by the workflow as hosts fail.

/** The release whose semantics we follow, as `ansible_version` (roles test it). */
const ANSIBLE_VERSION = { full: '2.19.14', major: 2, minor: 19, revision: 14, string: '2.19.14' };

/** Every group with its hosts, in inventory order; `all` and `ungrouped` included, as in Ansible. */
export function groupsOf(inv: Inventory): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const name of inv.groups.keys()) groups[name] = [...hostsOf(inv, name)];
  if (!groups.ungrouped) groups.ungrouped = [];
  return groups;
}

/** The groups a host is in, sorted, without `all` and `ungrouped` (Ansible's group_names). */
export function groupNamesOf(inv: Inventory, host: string): string[] {
  return [...inv.groups.keys()]
    .filter((g) => g !== 'all' && g !== 'ungrouped' && hostsOf(inv, g).has(host))
    .sort();
}

export function magicVars(
  inv: Inventory,
  host: string,
  run: { playbookDir: string; check: boolean; diff: boolean; playHosts: string[] },
): Record<string, unknown> {
  const inventoryFile = path.resolve(inv.source);
  return {
    inventory_hostname: host,
    inventory_hostname_short: host.split('.')[0],
    group_names: groupNamesOf(inv, host),
    playbook_dir: run.playbookDir,
    inventory_dir: path.dirname(inventoryFile),
    inventory_file: inventoryFile,
    ansible_check_mode: run.check,
    ansible_diff_mode: run.diff,
    ansible_managed: 'Ansible managed',
    ansible_version: ANSIBLE_VERSION,
    ansible_play_hosts_all: run.playHosts,
    omit: OMIT,
  };
}

/** Every inventory host's own variables, as `hostvars` gives them before any task ran. */
export function inventoryHostvars(
  inv: Inventory,
  extraVars: Record<string, unknown> = {},
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    [...inv.hostVars.keys()].map((h) => [
      h,
      {
        ...varsOf(inv, h),
        inventory_hostname: h,
        inventory_hostname_short: h.split('.')[0],
        group_names: groupNamesOf(inv, h),
        ...extraVars,
      },
    ]),
  );
}

/** Whether any of these values mentions a variable by name (the play reads `groups`, say). */
export function mentionsName(values: unknown[], name: string): boolean {
  const re = new RegExp(`\\b${name}\\b`);
  return values.some((v) => re.test(JSON.stringify(v) ?? ''));
}
