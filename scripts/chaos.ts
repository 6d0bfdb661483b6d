import os from 'node:os';
import { parseArgs } from 'node:util';
import { FAULTS, ownServerConfig, type Fault } from '../bench/chaos/faults';
import { closeLab, openLab } from '../bench/chaos/lab';
import { Matrix, samplePoints, type RunRow } from '../bench/chaos/matrix';
import { OPERATIONS } from '../bench/chaos/operations';
import { mergeRows, previousReport, renderCounts, renderTable, writeReport } from '../bench/chaos/report';
import { buildBundle } from '../bench/chaos/workers';
import { startDevServer, stopDevServer } from '../lab/devserver';

// `npm run chaos -- --ops rolling-maintenance,db-switchover --points 4 --faults kill,netcut`
// The full matrix is `--points all` over every operation: hours on a 2-core machine.

const usage = `usage: npm run chaos -- [--ops ${Object.keys(OPERATIONS).join(',')}] [--points all|N] [--faults ${FAULTS.join(',')}] [--fresh] [--resume] [--shard I/N] [--report]`;

function options() {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: Object.keys(OPERATIONS).join(',') },
      points: { type: 'string', default: '4' },
      faults: { type: 'string', default: 'kill,netcut,lbreload' },
      fresh: { type: 'boolean', default: false },
      // the full matrix takes longer than one sitting: run only the kill points not yet held
      resume: { type: 'boolean', default: false },
      // with CF_CHAOS_PREFIX, shard I of N takes every N-th kill point on a cluster of its own
      shard: { type: 'string', default: '1/1' },
      // only write the table again from bench/results/chaos.json (after shards ran side by side)
      report: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const ops = (values.ops as string).split(',').filter(Boolean);
  const unknownOps = ops.filter((o) => !(o in OPERATIONS));
  if (unknownOps.length) throw new Error(`--ops: unknown operation(s) ${unknownOps.join(', ')}\n${usage}`);
  const faults = (values.faults as string).split(',').filter(Boolean) as Fault[];
  const unknownFaults = faults.filter((f) => !FAULTS.includes(f));
  if (unknownFaults.length)
    throw new Error(`--faults: unknown fault(s) ${unknownFaults.join(', ')}\n${usage}`);
  const points: number | 'all' = values.points === 'all' ? 'all' : Number(values.points);
  if (points !== 'all' && !(Number.isInteger(points) && points >= 0))
    throw new Error(`--points: "all" or a whole number, got "${values.points}"\n${usage}`);
  const shard = /^(\d+)\/(\d+)$/.exec(values.shard as string);
  if (!shard || Number(shard[1]) < 1 || Number(shard[1]) > Number(shard[2]))
    throw new Error(`--shard: I/N with 1 <= I <= N, got "${values.shard}"\n${usage}`);
  return {
    ops,
    faults,
    points,
    fresh: Boolean(values.fresh),
    resume: Boolean(values.resume),
    shard: { index: Number(shard[1]) - 1, of: Number(shard[2]) },
    report: Boolean(values.report),
  };
}

/** Which of `of` shards a kill point belongs to: its boundary number and kind. */
function shardOf(point: string, of: number): number {
  const [event, n] = point.split(':');
  return (Number(n) * 2 + (event === 'complete' ? 1 : 0)) % of;
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.report) {
    const report = previousReport();
    if (!report) throw new Error('--report: no bench/results/chaos.json yet');
    await writeReport(report);
    console.log(renderCounts(report.rows));
    return;
  }
  const lab = await openLab({ fresh: opts.fresh });
  const skipped: string[] = [];
  const rows: RunRow[] = [];
  const recorded = new Map<string, Awaited<ReturnType<Matrix['record']>>>();
  const bundle = await buildBundle(lab.dir);
  const matrix = await Matrix.open(lab, bundle);
  // The server fault stops a Temporal server: never the shared one, only a second of our own.
  const ownServer =
    opts.faults.includes('server') && process.env.CF_CHAOS_OWN_SERVER ? ownServerConfig(lab.dir) : undefined;
  const ownStarted = ownServer ? (await startDevServer(ownServer)).started : false;
  const serverMatrix = ownServer ? await Matrix.open(lab, bundle, ownServer) : undefined;
  const previous = previousReport()?.rows ?? [];
  const heldBefore = new Set(
    previous.filter((r) => r.fault === 'kill' && r.held).map((r) => `${r.operation}|${r.point}`),
  );
  // written after every run, so an interrupted matrix keeps what it measured
  const save = async () => {
    // read again: another shard may have written rows since
    const all = mergeRows(previousReport()?.rows ?? previous, rows);
    await writeReport({
      date: new Date().toISOString(),
      cpus: os.cpus().length,
      resets: Object.fromEntries(
        [...new Set(all.map((r) => r.operation))].map((o) => [o, OPERATIONS[o].reset]),
      ),
      skipped: [...new Set(skipped)],
      rows: all,
    });
  };
  const show = async (r: RunRow) => {
    rows.push(r);
    console.log(renderTable([r]).split('\n')[2]);
    await save();
  };
  try {
    if (lab.created) {
      // a cluster built from nothing: cluster-setup (with its own checks) is the first run
      console.log('no cx cluster yet: cluster-setup on new hosts');
      const first = await matrix.record(OPERATIONS['cluster-setup']);
      recorded.set('cluster-setup', first);
      await show(first.row);
      if (!first.row.held) throw new Error('cluster-setup on the new hosts did not hold; stopping');
    }
    for (const name of opts.ops) {
      const op = OPERATIONS[name];
      let clean = recorded.get(name);
      if (!clean) await show((clean = await matrix.record(op)).row);
      if (opts.faults.includes('kill'))
        for (const p of samplePoints(clean.points, opts.points)) {
          // by the point itself, not its place: two recordings may list parallel steps in another order
          if (shardOf(p, opts.shard.of) !== opts.shard.index) continue;
          if (opts.resume && heldBefore.has(`${name}|${p}`)) continue;
          await show(await matrix.kill(op, p));
        }
      for (const fault of opts.faults.filter((f) => f !== 'kill')) {
        if (fault === 'lbreload' && !op.drains) continue;
        if (fault !== 'server') await show(await matrix.fault(op, fault, clean.row.seconds));
        else if (serverMatrix) await show(await serverMatrix.fault(op, fault, clean.row.seconds));
        else
          skipped.push(
            `${name} × server: the dev server is shared (set CF_CHAOS_OWN_SERVER=1 to run it on one of its own)`,
          );
      }
    }
  } finally {
    await matrix.close();
    await serverMatrix?.close();
    if (ownServer && ownStarted) await stopDevServer(ownServer);
    closeLab(lab);
  }
  await save();
  console.log(`\n${renderCounts(rows)}`);
  if (rows.some((r) => !r.held)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
