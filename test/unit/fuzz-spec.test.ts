import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { InventoryError } from '../../client/inventory';
import {
  databaseInput,
  licenseInput,
  loadSpec,
  nodesInput,
  SpecError,
  storageInput,
} from '../../client/spec';
import { parseAnsibleYaml } from '../../client/yaml';
import { keepsContract } from './fuzz/contract';
import { demoDocument, scratch } from './fuzz/fixtures';
import { mutatedYaml } from './fuzz/mutate';
import { FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './fuzz/runs';

const { dir, inventory } = scratch('spec');
const file = path.join(dir, 'cluster.yml');

/** The demo's spec with our inventory, plus the one section the demo leaves out. */
const base = {
  ...(demoDocument('cluster.yml') as Record<string, unknown>),
  inventory: 'hosts.ini',
  license: {
    hosts: 'app',
    driver: 'command',
    command: { check: 'lic check', activate: 'lic on', deactivate: 'lic off' },
    key: 'env:K',
    keys: { app2: 'file:/etc/k2' },
  },
};

/** The files an error may name: the spec, or the inventory it points at. */
function namesFor(text: string): string[] {
  const names = [file, inventory];
  try {
    const doc = parseAnsibleYaml(text) as { inventory?: unknown } | null;
    if (typeof doc?.inventory === 'string') names.push(path.resolve(dir, doc.inventory));
  } catch {
    // Not YAML: only the spec itself can be named.
  }
  return names;
}

// A spec fails with SpecError; the inventory it loads and the targets it resolves fail with InventoryError.
const accept = [SpecError, InventoryError];

describe('the cluster spec under fuzz', () => {
  jest.setTimeout(FUZZ_TEST_TIMEOUT_MS);

  it('a damaged spec loads and resolves, or fails with SpecError / InventoryError naming the file', () => {
    const joining = fc.option(fc.constantFrom('app3', 'db1', 'nope', ''), { nil: undefined });
    fc.assert(
      fc.property(mutatedYaml(fc.constant(base)), joining, (text, join) => {
        writeFileSync(file, text);
        const names = namesFor(text);
        const options = { accept, names, maxMs: 2000 };
        const loaded = keepsContract(() => loadSpec(file), options).value;
        if (!loaded) return;
        keepsContract(() => databaseInput(loaded), options);
        keepsContract(() => nodesInput(loaded, { joining: join }), options);
        keepsContract(() => storageInput(loaded), options);
        keepsContract(() => licenseInput(loaded, join ? [join] : []), options);
      }),
      fuzzRuns(300),
    );
  });

  it('arbitrary text as a spec is refused with SpecError naming the file', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        writeFileSync(file, text);
        keepsContract(() => loadSpec(file), { accept, names: namesFor(text), maxMs: 2000 });
      }),
      fuzzRuns(300),
    );
  });
});
