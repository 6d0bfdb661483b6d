import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { containersOutsideRecords, down, status, withLabLock } from '../lab/hosts';
import { STATE_DIR } from '../lab/paths';

/** Lab hosts the integration suites share; tests that stop one bring it back. */
export const TEST_HOSTS = ['node1', 'node2', 'node3', 'node4'];

/** What global setup started, so global teardown stops exactly that and nothing else. */
export interface StackRecord {
  serverStarted: boolean;
  /** $CLUSTERFLOW_LAB_OWNER of the run: every lab host it creates, in any process, carries it. */
  owner?: string;
  /** The lab's hosts before the run: the run leaves them as they are. */
  hostsBefore?: string[];
}

/** The run's own file: runs side by side (two checkouts' suites, a suite beside a benchmark) keep theirs apart. */
const recordFile = (owner: string) => path.join(STATE_DIR, `test-stack-${owner}.json`);

export function saveStackRecord(record: StackRecord & { owner: string }): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(recordFile(record.owner), JSON.stringify(record));
}

/** The record global setup wrote in this process (setup and teardown share jest's main process). */
export function loadStackRecord(owner = process.env.CLUSTERFLOW_LAB_OWNER): StackRecord {
  const file = owner && recordFile(owner);
  return file && existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as StackRecord)
    : { serverStarted: false };
}

export function forgetStackRecord(owner = process.env.CLUSTERFLOW_LAB_OWNER): void {
  if (owner) rmSync(recordFile(owner), { force: true });
}

/**
 * Hosts the run made that the lab still has, by record or as a container outside the records.
 * Hosts other processes made meanwhile carry another owner (or none) and are not the run's. Read
 * it holding the lab lock: mid-`up`, another process's container runs a moment before its record.
 */
export function runLeftovers(record: StackRecord): string[] {
  if (!record.owner) return [];
  const before = new Set(record.hostsBefore ?? []);
  const made = status()
    .filter((h) => h.owner === record.owner && !before.has(h.name))
    .map((h) => h.name);
  // A container outside the records has lost its owner tag with its record; one that appeared
  // during the run is counted as the run's, because only a crash of a lab change leaves one.
  const strays = containersOutsideRecords().filter((name) => !before.has(name));
  return [...new Set([...made, ...strays])].sort();
}

/** Removes every host the run made, then fails if any is still there. */
export function removeRunHosts(record: StackRecord): Promise<void> {
  return withLabLock(async () => {
    const left = runLeftovers(record);
    if (left.length) await down(left);
    const still = runLeftovers(record);
    if (still.length)
      throw new Error(
        `the test run left lab hosts behind (remove with clusterflow-lab down ${still.join(' ')})`,
      );
  });
}
