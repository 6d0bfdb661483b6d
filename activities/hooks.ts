// What an activity hands the code below it: heartbeats while a command runs, and the activity's
// cancellation. Outside an activity (tests, the CLI) both are absent.
export interface ActivityHooks {
  signal?: AbortSignal;
  onTick?: () => void;
}

/** Called at the start of each use, so every call sees the activity it runs in. */
export type Hooks = () => ActivityHooks;
