import type { Client } from '@temporalio/client';
import { Presets, SingleBar } from 'cli-progress';
import { Operation, Phase } from '../common/search-attributes';
import { entryLine, type OperationProgress } from '../common/progress';

// `clusterflow watch <id>`: live progress of a running operation from its `progress` query (one
// shape for every operation) and its Phase search attribute, a progress bar on a terminal and a line per change elsewhere, and at the
// end the same result table the operation's own command prints.

interface Step {
  done: number;
  total: number;
  lines: string[];
}

/** How far along, from the progress every operation answers (common/progress.ts). */
export function stepOf(progress: OperationProgress | undefined): Step {
  if (!progress?.entries) return { done: 0, total: 0, lines: [] };
  return {
    done: progress.done,
    total: progress.total,
    lines: progress.entries.filter((e) => e.phase !== 'pending' || e.outcome).map(entryLine),
  };
}

export async function watchWorkflow(
  client: Client,
  workflowId: string,
  out: { tty: boolean; write: (line: string) => void; pollMs?: number },
): Promise<{ status: string; result?: unknown; operation?: string }> {
  const handle = client.workflow.getHandle(workflowId);
  const bar = out.tty
    ? new SingleBar({ format: '{bar} {value}/{total} | {phase}', hideCursor: true }, Presets.shades_classic)
    : undefined;
  let started = false;
  const seen = new Set<string>();
  for (;;) {
    const d = await handle.describe();
    const phase = d.typedSearchAttributes.get(Phase);
    const running = d.status.name === 'RUNNING';
    const progress = running
      ? await handle.query<OperationProgress>('progress').catch(() => undefined)
      : undefined;
    const step = stepOf(progress);
    if (bar) {
      if (!started) bar.start(Math.max(step.total, 1), step.done, { phase: phase ?? '' });
      started = true;
      bar.setTotal(Math.max(step.total, 1));
      bar.update(step.done, { phase: phase ?? '' });
    } else
      for (const line of [`phase: ${phase ?? '(none)'}`, ...step.lines])
        if (!seen.has(line)) {
          seen.add(line);
          out.write(line);
        }
    if (!running) {
      bar?.stop();
      const operation = d.typedSearchAttributes.get(Operation);
      if (d.status.name !== 'COMPLETED') return { status: d.status.name, operation };
      return { status: d.status.name, operation, result: await handle.result() };
    }
    await new Promise((r) => setTimeout(r, out.pollMs ?? 1000));
  }
}
