import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { InventoryError, parseIniInventory } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { keepsContract } from './fuzz/contract';
import { demoDocument, scratch } from './fuzz/fixtures';
import { mutatedYaml } from './fuzz/mutate';
import { FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './fuzz/runs';

const { dir, inventory, text: inventoryText } = scratch('play');
const inv = parseIniInventory(inventoryText, inventory);
const file = path.join(dir, 'site.yml');

// The demo's playbooks, which use most task keywords and several modules.
const playbooks = ['first-node.yml', 'further-node.yml', 'maintenance.yml', 'lb-haproxy.yml'].map(
  demoDocument,
);

// A playbook fails with PlaybookError (naming the file); a host pattern that matches nothing fails
// with the inventory's InventoryError (naming the inventory).
const options = { accept: [PlaybookError, InventoryError], names: ['site.yml', inventory], maxMs: 2000 };
const run = (limit?: string) => () =>
  loadPlaybook(file, inv, { limit, check: false, diff: false, tags: [], forks: 5, cluster: 'fz' });

describe('the playbook loader under fuzz', () => {
  jest.setTimeout(FUZZ_TEST_TIMEOUT_MS);

  it('a damaged playbook loads or fails with PlaybookError / InventoryError naming the file', () => {
    const limit = fc.option(fc.constantFrom('app', 'db1', 'app:!app1', 'nope', '~(a', '*'), {
      nil: undefined,
    });
    fc.assert(
      fc.property(mutatedYaml(fc.constantFrom(...playbooks)), limit, (text, l) => {
        writeFileSync(file, text);
        keepsContract(run(l), options);
      }),
      fuzzRuns(300),
    );
  });

  it('arbitrary text as a playbook is refused with PlaybookError naming the file', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        writeFileSync(file, text);
        keepsContract(run(), options);
      }),
      fuzzRuns(300),
    );
  });
});
