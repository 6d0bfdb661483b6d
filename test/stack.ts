import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../lab/paths';

/** Lab hosts the integration suites share; tests that stop one bring it back. */
export const TEST_HOSTS = ['node1', 'node2', 'node3', 'node4'];

/** What global setup started, so global teardown stops exactly that and nothing else. */
export interface StackRecord {
  serverStarted: boolean;
  hostsAdded: string[];
}

const recordFile = path.join(STATE_DIR, 'test-stack.json');

export function saveStackRecord(record: StackRecord): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(recordFile, JSON.stringify(record));
}

export function loadStackRecord(): StackRecord {
  return existsSync(recordFile)
    ? (JSON.parse(readFileSync(recordFile, 'utf8')) as StackRecord)
    : { serverStarted: false, hostsAdded: [] };
}
