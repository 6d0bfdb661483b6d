import { closeLab, openLab, removeLab } from '../../bench/chaos/lab';
import { Matrix, samplePoints, type Point, type RunRow } from '../../bench/chaos/matrix';
import { OPERATIONS } from '../../bench/chaos/operations';
import { buildBundle } from '../../bench/chaos/workers';

// The CI subset of the chaos matrix (`npm run chaos` runs the whole): on the cx lab cluster, a few
// worker-kill points of db-switchover, license-activation and rolling-maintenance, each run
// finished by a new worker and then checked from the hosts. A broken invariant fails the test.

let lab: Awaited<ReturnType<typeof openLab>>;
let matrix: Matrix;

const brokenChecks = (rows: RunRow[]) =>
  rows.flatMap((r) =>
    r.checks
      .filter((c) => !c.held)
      .map((c) => `${r.operation} ${r.fault} ${r.point}: ${c.invariant}: ${c.detail}`),
  );

beforeAll(async () => {
  lab = await openLab();
  matrix = await Matrix.open(lab, await buildBundle(lab.dir));
  if (lab.created) {
    const setup = await matrix.record(OPERATIONS['cluster-setup']);
    expect(brokenChecks([setup.row])).toEqual([]);
  }
}, 300_000);

afterAll(async () => {
  await matrix?.close();
  if (lab) closeLab(lab);
  if (!process.env.CLUSTERFLOW_KEEP_STACK) await removeLab();
}, 120_000);

/** The clean run, then the worker killed at `n` boundaries spread over it. */
async function killedAt(name: string, n: number): Promise<{ rows: RunRow[]; points: Point[] }> {
  const op = OPERATIONS[name];
  const clean = await matrix.record(op);
  const rows = [clean.row];
  for (const p of samplePoints(clean.points, n)) rows.push(await matrix.kill(op, p));
  for (const r of rows)
    console.log(`${r.operation} ${r.point}: ${r.held ? 'held' : 'BROKEN'} in ${r.seconds} s`);
  return { rows, points: clean.points };
}

describe('chaos: the worker SIGKILLed at activity boundaries', () => {
  it('a switchover killed before and after an activity still ends with one writable primary and its replica', async () => {
    const { rows, points } = await killedAt('db-switchover', 2);
    expect(points.length).toBeGreaterThan(4);
    expect(rows.filter((r) => r.fault === 'kill' && !r.note)).toHaveLength(2);
    expect(brokenChecks(rows)).toEqual([]);
  }, 600_000);

  it('a license activation killed mid-run uses one seat per node and activates none twice', async () => {
    const { rows } = await killedAt('license-activation', 2);
    expect(rows.filter((r) => r.fault === 'kill' && !r.note)).toHaveLength(2);
    expect(brokenChecks(rows)).toEqual([]);
  }, 600_000);

  it('a rolling maintenance killed mid-run leaves every node back in every LB', async () => {
    const { rows } = await killedAt('rolling-maintenance', 1);
    expect(brokenChecks(rows)).toEqual([]);
  }, 600_000);
});
