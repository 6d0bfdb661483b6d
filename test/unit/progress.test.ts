import { renderStatus } from '../../client/observe';
import { stepOf } from '../../client/watch';
import {
  entriesTable,
  entryLine,
  newEntry,
  progressOf,
  type OperationProgress,
  type ProgressEntry,
} from '../../common/progress';

const entry = (name: string, phase: string, outcome?: string, summary?: string): ProgressEntry => ({
  ...newEntry(name, phase),
  outcome,
  summary,
});

const progress = (entries: ProgressEntry[]): OperationProgress =>
  progressOf({ operation: 'rolling-maintenance', cluster: 'prod', phase: 'batch 2/3', entries, log: [] });

describe('one progress model', () => {
  it('counts finished entries from the entries themselves', () => {
    const p = progress([entry('n1', 'finished', 'done'), entry('n2', 'draining'), entry('n3', 'waiting')]);
    expect([p.done, p.total]).toEqual([1, 3]);
  });

  it('keeps what an operation adds of its own beside the common fields', () => {
    const p = progressOf({
      operation: 'rolling-maintenance',
      cluster: 'prod',
      phase: 'x',
      entries: [],
      log: [],
      waitingFor: 'resume',
    } as Parameters<typeof progressOf>[0]);
    expect((p as unknown as { waitingFor: string }).waitingFor).toBe('resume');
  });

  it('gives watch the bar and one line per entry that has started, how it ended or where it is', () => {
    const step = stepOf(
      progress([
        entry('n1', 'finished', 'failed', 'health gate timed out'),
        entry('n2', 'draining'),
        entry('n3', 'pending'),
      ]),
    );
    expect(step).toEqual({
      done: 1,
      total: 3,
      lines: ['n1: failed (health gate timed out)', 'n2: draining'],
    });
  });

  it('gives watch nothing to draw for an operation that answers no progress', () => {
    expect(stepOf(undefined)).toEqual({ done: 0, total: 0, lines: [] });
  });

  it('prints status as counts, phase and every entry', () => {
    const text = renderStatus({
      workflowId: 'rolling-maintenance/prod/1',
      type: 'rollingMaintenance',
      status: 'RUNNING',
      progress: progress([entry('n1', 'finished', 'done'), entry('n2', 'maintenance')]),
    } as Parameters<typeof renderStatus>[0]);
    expect(text).toContain('progress: 1/2 batch 2/3');
    expect(text).toContain('    n1: done');
    expect(text).toContain('    n2: maintenance');
  });

  it('shows the UI a row per entry: name, state, then the operation’s own columns', () => {
    const table = entriesTable([entry('node1', 'finished', 'activated')], 'node', [
      { head: 'expires', cell: () => '2099-01-31' },
      { head: 'note', cell: () => 'a | b' },
    ]);
    expect(table.split('\n')).toEqual([
      '| node | state | expires | note |',
      '| --- | --- | --- | --- |',
      '| node1 | activated | 2099-01-31 | a / b |',
    ]);
  });

  it('names an entry by how it ended once it has, else by where it is', () => {
    expect(entryLine(entry('a', 'running'))).toBe('a: running');
    expect(entryLine(entry('a', 'finished', 'changed'))).toBe('a: changed');
  });
});
