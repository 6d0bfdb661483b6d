// What an activity hands the code below it: heartbeats while a command runs, and the activity's
// cancellation. Outside an activity (tests, the CLI) both are absent.
export interface ActivityHooks {
  signal?: AbortSignal;
  onTick?: () => void;
  /** runTask only: progress kept in the heartbeat, so a retried attempt resumes (reboot). */
  checkpoint?: Checkpoint;
}

/** What an attempt saved (`saved`: the previous attempt's last save, if any). */
export interface Checkpoint {
  saved?: unknown;
  save(details: unknown): void;
}

/** Called at the start of each use, so every call sees the activity it runs in. */
export type Hooks = () => ActivityHooks;
