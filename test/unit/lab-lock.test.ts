import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withFileLock } from '../../lab/lock';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-lock-'));
const WORKER = 'test/fixtures/lab-lock-worker.ts';
let n = 0;
const fresh = (what: string) => path.join(dir, `${what}-${++n}`);

function worker(args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', 'tsx/cjs', WORKER, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', resolve));

/** Three processes, 30 read-sleep-write increments each, all starting at the same moment. */
async function countTogether(lock: string, mode: 'lock' | 'nolock'): Promise<number> {
  const counter = fresh('counter');
  writeFileSync(counter, '0');
  const children = [1, 2, 3].map(() => worker(['count', lock, counter, '30', mode]));
  await Promise.all(children.map(said('ready')));
  writeFileSync(`${counter}.go`, '');
  expect(await Promise.all(children.map(exited))).toEqual([0, 0, 0]);
  return Number(readFileSync(counter, 'utf8'));
}

const said = (word: string) => (child: ChildProcess) =>
  new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes(word) && resolve()));

async function holder(lock: string): Promise<ChildProcess> {
  const child = worker(['hold', lock]);
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve()),
  );
  return child;
}

describe('the lab lock', () => {
  it('keeps processes that change one file from losing each other’s updates', async () => {
    expect(await countTogether(fresh('lock'), 'lock')).toBe(90);
  }, 60_000);

  it('is what prevents the loss: the same processes without it get the count wrong', async () => {
    // Lost updates leave it below 90; two writes into one file at once can also leave digits that
    // add up to more (CI once read 100). Either way it is not the 90 the lock gives.
    expect(await countTogether(fresh('lock'), 'nolock')).not.toBe(90);
  }, 60_000);

  it('is free the moment its holder is killed, with nothing stale to clean up', async () => {
    const lock = fresh('lock');
    const child = await holder(lock);
    child.kill('SIGKILL');
    await exited(child);
    const started = Date.now();
    expect(await withFileLock(lock, async () => 'mine', { timeoutMs: 5000 })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(2000);
  }, 30_000);

  it('makes a waiter say which process holds it, and give up with that name after its timeout', async () => {
    const lock = fresh('lock');
    const child = await holder(lock);
    const notices: string[] = [];
    try {
      await expect(
        withFileLock(lock, async () => 'never', { timeoutMs: 3000, notice: (l) => notices.push(l) }),
      ).rejects.toThrow(new RegExp(`still locked after 3 s by pid ${child.pid} \\(.*lab-lock-worker`));
      expect(notices).toEqual([expect.stringContaining(`held by pid ${child.pid}`)]);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  }, 30_000);

  it('lets a call nested in a holder run at once, and makes parallel calls in one process take turns', async () => {
    const lock = fresh('lock');
    expect(await withFileLock(lock, () => withFileLock(lock, async () => 'nested'))).toBe('nested');
    let inside = 0;
    let most = 0;
    const turn = () =>
      withFileLock(lock, async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
      });
    await Promise.all([turn(), turn(), turn(), turn()]);
    expect(most).toBe(1);
  });
});
