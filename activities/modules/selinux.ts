import { SELINUX_KEYS } from '../../common/modules';
import type { ModuleResult } from '../../common/modules';
import type { Remote } from '../remote';

// Roles written for both families set SELinux contexts (`setype: mysqld_db_t`) on every host.
// Ansible ignores them where SELinux is off, and so do we; where it is on we cannot set them yet,
// and say so rather than leave the context wrong.

/** The SELinux options a task sets, if any. */
export function selinuxOptions(args: unknown): string[] {
  if (!args || typeof args !== 'object') return [];
  return SELINUX_KEYS.filter((k) => (args as Record<string, unknown>)[k] !== undefined);
}

/** A failed result when the task sets a context on a host that enforces SELinux; else undefined. */
export async function selinuxRefusal(remote: Remote, args: unknown): Promise<ModuleResult | undefined> {
  const keys = selinuxOptions(args);
  if (!keys.length) return undefined;
  const on = await remote.run('[ -e /sys/fs/selinux/enforce ] && echo on || true');
  if (on.stdout.trim() !== 'on') return undefined;
  return {
    changed: false,
    failed: true,
    msg: `${keys.join(', ')}: setting SELinux contexts is not supported yet (this host has SELinux)`,
  };
}
