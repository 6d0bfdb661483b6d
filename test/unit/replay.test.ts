import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

// Histories recorded from earlier versions of the workflows (test/fixtures/histories/, each named
// after what it went through). Workers are upgraded while operations run: the current workflow
// code must replay every recorded history exactly, or an upgrade would fail the operations in
// flight. A change that takes another path guards it with patched() (see workflows/db/failover.ts).

const dir = path.join(__dirname, '../fixtures/histories');

interface Recorded {
  workflowId: string;
  history: unknown;
}

describe('histories recorded by earlier workflow versions', () => {
  it('replay with the current workflows, each to its recorded end', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const histories = files.map((file) => {
      const recorded = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Recorded;
      return { workflowId: recorded.workflowId, history: recorded.history };
    });
    const outcomes: [string, string | undefined][] = [];
    for await (const r of Worker.runReplayHistories(
      { workflowsPath: require.resolve('../../workflows') },
      histories,
    ))
      outcomes.push([r.workflowId, r.error?.message]);
    expect(outcomes).toEqual(histories.map((h) => [h.workflowId, undefined]));
  }, 120_000);
});
