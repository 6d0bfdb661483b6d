import type { Client } from '@temporalio/client';
import { Presets, SingleBar } from 'cli-progress';
import { Operation, Phase } from '../common/search-attributes';
import type { SetupStep } from '../workflows/cluster';
import type { RollingProgress } from '../workflows/node-operations';

// `clusterflow watch <id>`: live progress of a running operation from its `progress` query and its
// Phase search attribute, a progress bar on a terminal and a line per change elsewhere, and at the
// end the same result table the operation's own command prints.

interface Step {
  done: number;
  total: number;
  lines: string[];
}

/** How far along: setup steps, rolling nodes finished, play batches, or the "k/n nodes" a license run reports. */
export function stepOf(phase: string | undefined, progress: unknown): Step {
  const p = progress as
    | (Partial<RollingProgress> & { batch?: number; batches?: number; play?: string; steps?: SetupStep[] })
    | undefined;
  if (p?.steps)
    return {
      done: p.steps.filter((s) => !['pending', 'running'].includes(s.status)).length,
      total: p.steps.length,
      lines: p.steps
        .filter((s) => s.status !== 'pending')
        .map((s) => `${s.step}: ${s.status}${s.summary ? ` (${s.summary})` : ''}`),
    };
  if (p?.nodes)
    return {
      done: p.nodes.filter((n) => n.outcome).length,
      total: p.nodes.length,
      lines: p.nodes.map(
        (n) => `${n.node}: ${n.outcome ?? n.phase}${n.sessionsLeft ? ` (${n.sessionsLeft} sessions)` : ''}`,
      ),
    };
  if (p?.batches)
    return {
      done: (p.batch ?? 1) - 1,
      total: p.batches,
      lines: [`${p.play ?? 'play'}: batch ${p.batch}/${p.batches}`],
    };
  const m = /^(\d+)\/(\d+) nodes/.exec(phase ?? '');
  if (m) return { done: Number(m[1]), total: Number(m[2]), lines: [] };
  return { done: 0, total: 0, lines: [] };
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
    const progress = running ? await handle.query('progress').catch(() => undefined) : undefined;
    const step = stepOf(phase, progress);
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
