import { createTwoFilesPatch } from 'diff';
import type { PlayResult, TaskReport } from '../common/play';
import { connectionLine, showsResult, verboseHostLines, type Verbosity } from './play-verbose';

/**
 * Ansible-like per-task output: one line per host, diffs when asked, failures with their message;
 * with -v each result's dict, -vv the task's path, -vvv the connection (client/play-verbose.ts).
 */
export function renderTasks(
  tasks: TaskReport[],
  showDiff: boolean,
  verbose: Verbosity = { level: 0 },
): string {
  const out: string[] = [];
  let lastPlay = '';
  for (const t of tasks) {
    if (t.play !== lastPlay) out.push('', `PLAY [${t.play}] `.padEnd(78, '*'));
    lastPlay = t.play;
    out.push('', `${t.handler ? 'RUNNING HANDLER' : 'TASK'} [${t.task}] `.padEnd(78, '*'));
    if (verbose.level >= 2 && t.path) out.push(`task path: ${t.path}`);
    for (const h of t.hosts) {
      const connection =
        verbose.level >= 3 ? connectionLine(verbose.targets?.get(h.host), t.module) : undefined;
      if (connection) out.push(connection);
      const msg =
        h.status === 'failed' || h.status === 'unreachable' ? `: ${h.reason ?? h.result?.msg ?? ''}` : '';
      if (showsResult(t, verbose)) out.push(...verboseHostLines(t, h, verbose));
      // A failure ignore_errors let pass is shown as the failure it was, as ansible-playbook does.
      else if (h.ignored) out.push(`failed: [${h.host}]: ${h.result?.msg ?? ''}`, '...ignoring');
      else out.push(`${h.status}: [${h.host}]${msg}`);
      const d = h.result?.diff;
      if (showDiff && d && d.before !== d.after) {
        out.push(
          createTwoFilesPatch(
            `before: ${d.path ?? ''}`,
            `after: ${d.path ?? ''}`,
            d.before,
            d.after,
            '',
            '',
            { context: 3 },
          ).trimEnd(),
        );
      }
      if (h.status === 'failed' && h.result?.stderr && !showsResult(t, verbose))
        out.push(`  stderr: ${h.result.stderr.trim().split('\n').slice(-5).join('\n          ')}`);
    }
  }
  return out.join('\n');
}

export function renderRecap(result: PlayResult): string {
  const hosts = Object.keys(result.recap).sort();
  const width = Math.max(...hosts.map((h) => h.length), 4);
  const lines = ['', 'PLAY RECAP '.padEnd(78, '*')];
  for (const h of hosts) {
    const r = result.recap[h];
    lines.push(
      `${h.padEnd(width)} : ok=${r.ok}  changed=${r.changed}  unreachable=${r.unreachable}  failed=${r.failed}  skipped=${r.skipped}  rescued=${r.rescued ?? 0}  ignored=${r.ignored ?? 0}`,
    );
  }
  if (result.aborted) lines.push('', `ABORTED: ${result.aborted}`);
  return lines.join('\n');
}
