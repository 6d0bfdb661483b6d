import { defineQuery, setHandler } from '@temporalio/workflow';
import {
  doneOutcome,
  entriesTable,
  newEntry,
  progressOf,
  type OperationProgress,
  type ProgressEntry,
  type ResultEnvelope,
} from '../common/progress';
import { showPhase } from './ui';

// The one `progress` query every operation answers (common/progress.ts has the shape), and the
// book that operations without a tracker of their own keep it in.

export const progressQuery = defineQuery<OperationProgress>('progress');

/** Answers the progress query from live state; the counts are derived at each answer. */
export function answerProgress<T extends Omit<OperationProgress, 'done' | 'total'>>(read: () => T): void {
  setHandler(progressQuery, () => progressOf(read()));
}

/** An operation's entries, phase and log; answers the query and shows itself in the UI. */
export class ProgressBook {
  readonly entries: ProgressEntry[];
  readonly log: string[] = [];
  current = 'starting';
  private readonly started = Date.now();

  constructor(
    readonly operation: string,
    readonly cluster: string,
    names: string[],
    /** The UI table's first column: what an entry is ('host', 'node', 'member'). */
    private readonly noun = 'host',
  ) {
    this.entries = names.map((n) => newEntry(n));
    answerProgress(() => ({
      operation,
      cluster,
      phase: this.current,
      entries: this.entries,
      log: this.log,
    }));
  }

  entry(name: string): ProgressEntry {
    let e = this.entries.find((x) => x.name === name);
    if (!e) this.entries.push((e = newEntry(name)));
    return e;
  }

  /**
   * The operation's phase: the Phase search attribute, the log, and the UI's current details (the
   * entries' table, or the operation's own view of them).
   */
  phase(name: string, details?: string): void {
    if (name !== this.current) this.log.push(name);
    this.current = name;
    showPhase(name, [
      details ?? entriesTable(this.entries, this.noun, [{ head: 'changes', cell: (e) => e.changes.length }]),
    ]);
  }

  at(name: string, phase: string): ProgressEntry {
    const e = this.entry(name);
    e.phase = phase;
    return e;
  }

  changed(name: string, what: string): void {
    this.entry(name).changes.push(what);
    this.log.push(`${name}: ${what}`);
  }

  note(text: string): void {
    this.log.push(text);
  }

  /** Milliseconds from the operation's start to a moment of one entry. */
  mark(name: string, moment: string): void {
    this.entry(name).timings[moment] = Date.now() - this.started;
  }

  finish(name: string, outcome: string, summary?: string): void {
    const e = this.entry(name);
    e.outcome = outcome;
    e.phase = 'finished';
    if (summary) e.summary = summary;
  }

  /** Every entry not yet finished ends with 'changed' or 'ok'. */
  finishAll(): void {
    for (const e of this.entries) if (e.outcome === undefined) this.finish(e.name, doneOutcome(e));
  }

  envelope(changed: boolean): ResultEnvelope {
    return { operation: this.operation, cluster: this.cluster, changed, entries: this.entries };
  }
}
