// The one shape of "how far along": what every operation's `progress` query answers, what
// `clusterflow watch` draws, what `status --json` prints and what the Web UI's current details
// show; and the envelope every operation's result starts with. Pure, so that workflows and the
// client share it.

/** One host, node, member or step of an operation, named as the operator names it. */
export interface ProgressEntry {
  name: string;
  /** Where it is now: 'pending', 'running', or a phase of the operation ('draining'). */
  phase: string;
  /** How it ended, once it has: 'ok', 'changed', 'done', 'failed', 'skipped', 'unreachable'… */
  outcome?: string;
  /** What was changed on it, in order. */
  changes: string[];
  /** Milliseconds: time spent per part, or from the operation's start to a moment. */
  timings: Record<string, number>;
  /** One line for a person: why it failed, what the step did, sessions left. */
  summary?: string;
}

export interface OperationProgress {
  operation: string;
  cluster: string;
  /** The operation's phase, as the Phase search attribute shows it. */
  phase: string;
  entries: ProgressEntry[];
  /** Entries finished, and all of them: the bar `watch` draws. */
  done: number;
  total: number;
  /** What happened so far, oldest first: the operator's running log. */
  log: string[];
}

/** What every operation's result carries whatever else it holds: the same entries, finished. */
export interface ResultEnvelope {
  operation: string;
  cluster: string;
  changed: boolean;
  entries: ProgressEntry[];
}

export function newEntry(name: string, phase = 'pending'): ProgressEntry {
  return { name, phase, changes: [], timings: {} };
}

/** The progress answer: counts derived from the entries, never kept beside them. */
export function progressOf(p: Omit<OperationProgress, 'done' | 'total'>): OperationProgress {
  return { ...p, done: p.entries.filter((e) => e.outcome !== undefined).length, total: p.entries.length };
}

/** Where an entry stands in one word: how it ended, or else where it is. */
export const stateOf = (e: ProgressEntry): string => e.outcome ?? e.phase;

/** The line `watch` prints for an entry. */
export function entryLine(e: ProgressEntry): string {
  return `${e.name}: ${stateOf(e)}${e.summary ? ` (${e.summary})` : ''}`;
}

/** The outcome an entry gets when the operation simply finished with it. */
export const doneOutcome = (e: ProgressEntry): string => (e.changes.length ? 'changed' : 'ok');

/** A markdown table (the UI's current details): one row per entry, its state, then extra columns. */
export function entriesTable(
  entries: ProgressEntry[],
  head: string,
  extra: { head: string; cell: (e: ProgressEntry) => string | number | undefined }[] = [],
): string {
  return markdownTable(
    [head, 'state', ...extra.map((c) => c.head)],
    entries.map((e) => [e.name, stateOf(e), ...extra.map((c) => c.cell(e))]),
  );
}

export function markdownTable(head: string[], rows: (string | number | undefined)[][]): string {
  const line = (cells: (string | number | undefined)[]) =>
    `| ${cells.map((c) => String(c ?? '').replace(/\|/g, '/')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
