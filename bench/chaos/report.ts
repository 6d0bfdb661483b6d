import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import type { RunRow } from './matrix';

// The matrix as a table: bench/results/chaos.json (every run, every check) and a section of
// bench/README.md between markers, so re-running the script replaces only its own section.

export const RESULTS = path.join(__dirname, '../results/chaos.json');
const README = path.join(__dirname, '../README.md');
const BEGIN = '<!-- chaos:begin -->';
const END = '<!-- chaos:end -->';

export interface ChaosReport {
  date: string;
  cpus: number;
  /** How each operation's cluster was brought back between runs. */
  resets: Record<string, string>;
  skipped: string[];
  rows: RunRow[];
}

/** A run's place in the matrix: a kill by its boundary, any other fault once per operation. */
const slot = (r: RunRow) => `${r.operation}|${r.fault}|${r.fault === 'kill' ? r.point : ''}`;

/** An earlier report's rows, with those this run measured again replaced. */
export function mergeRows(previous: RunRow[], fresh: RunRow[]): RunRow[] {
  const measured = new Set(fresh.map(slot));
  const order = (r: RunRow) =>
    `${r.operation}|${['none', 'kill', 'server', 'netcut', 'lbreload'].indexOf(r.fault)}`;
  const point = (r: RunRow) =>
    r.fault === 'kill' ? Number(r.point.split(':')[1]) * 2 + (r.point.startsWith('complete') ? 1 : 0) : 0;
  return [...previous.filter((r) => !measured.has(slot(r))), ...fresh].sort(
    (a, b) => order(a).localeCompare(order(b)) || point(a) - point(b),
  );
}

export function previousReport(): ChaosReport | undefined {
  return existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as ChaosReport) : undefined;
}

const broken = (r: RunRow) =>
  r.checks
    .filter((c) => !c.held)
    .map((c) => `${c.invariant}: ${c.detail}`)
    .join('; ');

/** A table cell: error texts may hold pipes and line breaks. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

export function renderTable(rows: RunRow[]): string {
  const lines = [
    '| operation | fault | point | invariants | time to finish (s) | note |',
    '| --------- | ----- | ----- | ---------- | ------------------ | ---- |',
    ...rows.map(
      (r) =>
        `| ${r.operation} | ${r.fault} | ${cell(r.point)} | ${r.held ? 'held' : `**broken**: ${cell(broken(r))}`} | ${r.seconds} | ${cell([r.note, r.outcome === 'completed' ? '' : r.outcome].filter(Boolean).join('; '))} |`,
    ),
  ];
  return lines.join('\n');
}

export function renderCounts(rows: RunRow[]): string {
  const ops = [...new Set(rows.map((r) => r.operation))];
  return [
    '| operation | runs | held | broken |',
    '| --------- | ---- | ---- | ------ |',
    ...ops.map((op) => {
      const mine = rows.filter((r) => r.operation === op);
      const held = mine.filter((r) => r.held).length;
      return `| ${op} | ${mine.length} | ${held} | ${mine.length - held} |`;
    }),
  ].join('\n');
}

export async function writeReport(report: ChaosReport): Promise<void> {
  writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  const section = [
    BEGIN,
    '## Chaos matrix (`npm run chaos [-- --ops a,b --points all|N --faults kill,netcut,lbreload]`)',
    '',
    'The full matrix is hours on 2 cores: `--resume` runs only the kill points not yet held, and',
    '`--shard I/N` takes every N-th point, so `CF_CHAOS_PREFIX=cy npm run chaos -- --shard 2/3 ...`',
    'runs beside `--shard 1/3` on a cluster of its own (cy hosts, its own state directory); the',
    'shards merge their rows into one table.',
    '',
    'Each operation runs once clean on the `cx` lab cluster (the demo spec on cxlb1, cxdb1..2, cxfs1..2,',
    'cxapp1..3, with licenses), recording its activity boundaries; then again with the worker SIGKILLed at a',
    'boundary (`test/fixtures/chaos-worker.ts`: `start:K` before the K-th activity runs, `complete:K` after',
    'it returned and before its result is reported, so that attempt is retried on the next worker), and once',
    'under each other fault. A product worker finishes every run. After each run the invariants are read from',
    'the hosts: one writable primary with every replica replicating from it (SQL; a failover leaves its old',
    'primary fenced instead, and the check requires mysqld stopped and disabled there), every node ready in',
    'HAProxy (its socket) or reported left out, seats used == licensed nodes and none activated twice (the',
    "licensing service), the volume mounted on every client (findmnt), the operation's result against the",
    'hosts, and a re-run that changes nothing (a failover run again at once must be refused by',
    'anti-flapping, changing nothing).',
    '',
    'A kill costs time, not correctness: the workflow task of the dead worker times out (10 s) and an',
    'activity it was running is retried only after its heartbeat timeout (8–30 s, by operation). A',
    'kill point is counted only when the kill happened (a note says when a run finished before it).',
    '',
    'In CI, `test/integration/chaos.test.ts` kills one boundary each of node-join, node-remove,',
    'db-failover (start:4, inside the confirmation loop), db-rejoin and storage-export with these',
    'checks; switchover, license activation, rolling maintenance and cluster-setup are killed in',
    'their own suites.',
    '',
    'Between runs:',
    '',
    ...Object.entries(report.resets).map(([op, how]) => `- ${op}: ${how}`),
    ...(report.skipped.length ? ['', `Not run: ${report.skipped.join('; ')}.`] : []),
    '',
    renderCounts(report.rows),
    '',
    renderTable(report.rows),
    '',
    `(${report.date.slice(0, 10)}, ${report.cpus} cores, \`bench/results/chaos.json\`.)`,
    END,
  ].join('\n');
  const readme = readFileSync(README, 'utf8');
  const at = readme.indexOf(BEGIN);
  const next =
    at >= 0
      ? `${readme.slice(0, at)}${section}${readme.slice(readme.indexOf(END) + END.length)}`
      : `${readme.trimEnd()}\n\n${section}\n`;
  // the section is generated: formatted like the rest of the file, so `npm run lint` stays clean
  const options = (await prettier.resolveConfig(README)) ?? {};
  writeFileSync(README, await prettier.format(next, { ...options, filepath: README }));
}
