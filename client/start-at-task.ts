import { taskSelected, type PlayInput, type PlaySpec, type PlayTask } from '../common/play';
import { wildcardMatch } from '../common/wildcard';
import { PlaybookError } from './play';

// ansible-playbook's --start-at-task: the run begins at the first task whose name matches — its
// own name or `role : name`, exactly or as an fnmatch glob — and every task before it is left
// out, in its play and in the plays before (which then run nothing, not even fact gathering).
// Handlers stay; they run when a task that does run notifies them. Applied to the loaded
// playbook, so --list-tasks shows the same start without a server.

/** Whether the task is where `--start-at-task pattern` starts. */
export function startsHere(task: PlayTask, pattern: string): boolean {
  const names = [task.name, ...(task.role ? [`${task.role} : ${task.name}`] : [])];
  return names.some((n) => n === pattern || wildcardMatch(pattern, n, { sets: true }));
}

function from(play: PlaySpec, at: number): PlaySpec {
  const { flushAfter, gatherFacts, ...rest } = play;
  // Flush points keep their place among the tasks that remain.
  const flushes = (flushAfter ?? []).filter((i) => i >= at).map((i) => i - at);
  return {
    ...rest,
    tasks: play.tasks.slice(at),
    ...(flushes.length ? { flushAfter: flushes } : {}),
    // The play before the start runs nothing; the one it is in gathers facts as usual.
    ...(gatherFacts && at < play.tasks.length ? { gatherFacts } : {}),
  };
}

export function startAtTask(input: PlayInput, pattern: string | undefined): PlayInput {
  if (pattern === undefined) return input;
  let started = false;
  const plays = input.plays.map((play) => {
    if (started) return play;
    // As Ansible walks them: tasks the tags leave out, and rescues (reached only by a failure), are passed by.
    const at = play.tasks.findIndex(
      (t) =>
        taskSelected(t, input.tags) &&
        !(t.blocks ?? []).some((b) => b.part === 'rescue') &&
        startsHere(t, pattern),
    );
    if (at < 0) return from(play, play.tasks.length);
    started = true;
    return from(play, at);
  });
  if (!started)
    throw new PlaybookError(
      `No matching task "${pattern}" found. Note: --start-at-task can only follow static includes.`,
    );
  return { ...input, plays };
}
