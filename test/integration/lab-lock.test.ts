import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderInventory, renderKnownHosts, type LabHostRecord } from '../../lab/inventory';
import { containersOutsideRecords, down, labFiles, sshArgs, status, up, withLabLock } from '../../lab/hosts';
import { removeRunHosts, runLeftovers, type StackRecord } from '../stack';

// Several processes changing one lab at once: the lock keeps its records, inventory, known_hosts
// and containers in step. Only hosts lk1..lk6 are touched; other suites share the rest.

const LK = ['lk1', 'lk2', 'lk3', 'lk4', 'lk5', 'lk6'];

function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['bin/clusterflow-lab.js', ...args],
      { timeout: 170_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Running, not merely a zombie that the machine's init has yet to reap. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

const hostnameOf = (host: string) =>
  spawnSync('ssh', [...sshArgs(host), '--', 'hostname'], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();

/** The lab's three files and its containers, read while no process changes them. */
function snapshot() {
  return withLabLock(async () => {
    const state = JSON.parse(readFileSync(labFiles.state, 'utf8')) as {
      hosts: Record<string, LabHostRecord>;
    };
    const inventory = parse(readFileSync(labFiles.inventory, 'utf8')) as {
      all: { hosts: Record<string, { ansible_host: string }> };
    };
    const known = readFileSync(labFiles.knownHosts, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    return {
      records: Object.fromEntries(Object.values(state.hosts).map((h) => [h.name, h.address])),
      inventory: Object.fromEntries(Object.entries(inventory.all.hosts).map(([n, v]) => [n, v.ansible_host])),
      knownHosts: Object.fromEntries(known.map(([names]) => names.split(','))),
      keys: Object.fromEntries(Object.values(state.hosts).map((h) => [h.name, h.hostKey.split(' ')[1]])),
      pinned: Object.fromEntries(known.map(([names, , key]) => [names.split(',')[0], key])),
      outside: containersOutsideRecords(),
      running: status()
        .filter((h) => h.running)
        .map((h) => h.name),
    };
  });
}

async function expectConsistent(present: string[], absent: string[]) {
  const s = await snapshot();
  expect(s.inventory).toEqual(s.records);
  expect(s.knownHosts).toEqual(s.records);
  expect(s.pinned).toEqual(s.keys);
  expect(s.outside.filter((n) => LK.includes(n))).toEqual([]);
  expect(present.filter((n) => !s.running.includes(n))).toEqual([]);
  expect(absent.filter((n) => n in s.records)).toEqual([]);
  for (const host of present) expect(hostnameOf(host)).toBe(host);
}

beforeAll(async () => {
  await down(LK); // whatever an interrupted earlier run left
}, 120_000);

afterAll(async () => {
  await down(LK);
}, 120_000);

describe('the lab shared by several processes', () => {
  it('exits 2 on a usage error, before touching the lab', async () => {
    for (const args of [['reboot-everything'], ['up', '--hostz', 'lk1'], ['exec', 'lk1']]) {
      const r = await lab(...args);
      expect([args, r.code]).toEqual([args, 2]);
    }
    expect(status().map((h) => h.name)).not.toContain('lk1');
  }, 60_000);

  it('keeps records, inventory, known_hosts and containers consistent through parallel up and down of different hosts', async () => {
    const first = await Promise.all([
      lab('up', '--hosts', 'lk1'),
      lab('up', '--hosts', 'lk2'),
      lab('up', '--hosts', 'lk3,lk4'),
    ]);
    expect(first.map((r) => [r.code, r.stderr])).toEqual(first.map(() => [0, expect.any(String)]));
    await expectConsistent(['lk1', 'lk2', 'lk3', 'lk4'], []);
    // Global setup tagged this run; hosts its processes make carry the tag for teardown to find.
    expect(process.env.CLUSTERFLOW_LAB_OWNER).toMatch(/^test-run-/);
    expect(status().find((h) => h.name === 'lk1')?.owner).toBe(process.env.CLUSTERFLOW_LAB_OWNER);

    const second = await Promise.all([
      lab('down', 'lk1'),
      lab('up', '--hosts', 'lk5'),
      lab('down', 'lk2'),
      lab('up', '--hosts', 'lk6'),
      lab('status', '--json'),
    ]);
    expect(second.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    // A reader never sees a half-written state, even mid-change.
    expect(JSON.parse(second[4].stdout).hosts).toEqual(expect.any(Array));
    await expectConsistent(['lk3', 'lk4', 'lk5', 'lk6'], ['lk1', 'lk2']);

    // A bare `down` would take every process's hosts: it is a usage error, and nothing goes.
    const bare = await lab('down');
    expect([bare.code, bare.stderr]).toEqual([
      2,
      expect.stringMatching(/name the hosts to remove, or --all/),
    ]);
    await expectConsistent(['lk3', 'lk4', 'lk5', 'lk6'], ['lk1', 'lk2']);
  }, 300_000);

  it('ends a container left running outside the records when its name comes up again, instead of failing busy', async () => {
    await up(['lk5']);
    // The symptom of the race the lock prevents: a second process saved a state without lk5.
    const orphan = await withLabLock(async () => {
      const state = JSON.parse(readFileSync(labFiles.state, 'utf8'));
      const init = state.hosts.lk5.init.pid as number;
      delete state.hosts.lk5;
      const hosts = (Object.values(state.hosts) as LabHostRecord[]).sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      for (const [file, text] of [
        [labFiles.state, JSON.stringify(state, null, 2)],
        [labFiles.inventory, renderInventory(hosts, labFiles)],
        [labFiles.knownHosts, renderKnownHosts(hosts)],
      ]) {
        writeFileSync(`${file}.test`, text);
        renameSync(`${file}.test`, file);
      }
      return init;
    });
    expect(containersOutsideRecords()).toContain('lk5');
    await up(['lk5']);
    expect(containersOutsideRecords()).not.toContain('lk5');
    expect(alive(orphan)).toBe(false);
    await expectConsistent(['lk5'], []);
  }, 120_000);

  it('lets a test run remove exactly the hosts it created, and report none left', async () => {
    await down(['lk6']);
    const owner = `lk-run-${Date.now().toString(36)}`;
    const record: StackRecord = {
      serverStarted: false,
      owner,
      hostsBefore: status().map((h) => h.name),
    };
    // Made by another process of "the run" (it inherits the owner), as a suite's CLI call would.
    expect(
      await new Promise<number>((resolve) =>
        execFile(
          process.execPath,
          ['bin/clusterflow-lab.js', 'up', '--hosts', 'lk6'],
          { env: { ...process.env, CLUSTERFLOW_LAB_OWNER: owner }, timeout: 120_000 },
          (err) => resolve(err ? Number(err.code ?? 1) : 0),
        ),
      ),
    ).toBe(0);
    expect(status().find((h) => h.name === 'lk6')?.owner).toBe(owner);
    expect(await withLabLock(async () => runLeftovers(record))).toEqual(['lk6']);
    const others = status()
      .map((h) => h.name)
      .filter((n) => n !== 'lk6');
    await removeRunHosts(record);
    expect(await withLabLock(async () => runLeftovers(record))).toEqual([]);
    const now = status().map((h) => h.name);
    expect(now).not.toContain('lk6');
    // Hosts made before the run, or by other runs, are left alone.
    expect(['lk3', 'lk4', 'lk5'].filter((n) => !now.includes(n))).toEqual([]);
    expect(others.length).toBeGreaterThan(0);
  }, 180_000);
});
