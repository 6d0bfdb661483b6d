import type { PlayTask } from '../common/play';
import type { ScopedTask } from './play-sections';
import { findRole } from './roles';

// Where a task was written, carried with it: the place shown at -vv (`task path:`), and Ansible's
// search path for its lookups' relative files — the role's directory, then the playbook's.

function roleDir(role: string, playbookDir: string): string | undefined {
  try {
    // The same search that found the role when the playbook was read.
    return findRole(role, playbookDir);
  } catch {
    return undefined;
  }
}

export function located(task: PlayTask, from: ScopedTask, playbookDir: string): PlayTask {
  const dir = task.role ? roleDir(task.role, playbookDir) : undefined;
  return {
    ...task,
    path: from.raw.at,
    control: { ...task.control, searchPath: dir ? [dir, playbookDir] : [playbookDir] },
  };
}
