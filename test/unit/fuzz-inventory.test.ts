import fc from 'fast-check';
import {
  InventoryError,
  expandHostRange,
  parseIniInventory,
  parseYamlInventory,
  targetFor,
  type Inventory,
} from '../../client/inventory';
import { MAX_EXPANDED_HOSTS } from '../../client/inventory/ini';
import { keepsContract } from './fuzz/contract';
import { iniInventoryText, yamlInventoryText } from './fuzz/inventory-arbs';
import { FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './fuzz/runs';

// An inventory's only own error is InventoryError; its message starts with the file (and line).
const contract = (names: string[]) => ({ accept: [InventoryError], names, maxMs: 2000 });

/** Parsing alone is not the end: every host must also turn into a connection target or say why not. */
function parseAndTarget(parse: () => Inventory): number {
  const inv = parse();
  for (const host of [...inv.hostVars.keys()].slice(0, 30)) targetFor(inv, host, { knownHostsFile: '/kh' });
  return inv.hostVars.size;
}

describe('inventory parsers under fuzz', () => {
  jest.setTimeout(FUZZ_TEST_TIMEOUT_MS);

  it('an INI inventory, however damaged, parses or fails with InventoryError naming the file', () => {
    fc.assert(
      fc.property(iniInventoryText, (text) => {
        keepsContract(
          () => parseAndTarget(() => parseIniInventory(text, 'fuzz.ini')),
          contract(['fuzz.ini']),
        );
      }),
      fuzzRuns(400),
    );
  });

  it('a YAML inventory, however damaged, parses or fails with InventoryError naming the file', () => {
    fc.assert(
      fc.property(yamlInventoryText, (text) => {
        keepsContract(
          () => parseAndTarget(() => parseYamlInventory(text, 'fuzz.yml')),
          contract(['fuzz.yml']),
        );
      }),
      fuzzRuns(400),
    );
  });

  it('arbitrary text is an inventory or an InventoryError in both formats', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        keepsContract(
          () => parseAndTarget(() => parseIniInventory(text, 'fuzz.ini')),
          contract(['fuzz.ini']),
        );
        keepsContract(
          () => parseAndTarget(() => parseYamlInventory(text, 'fuzz.yml')),
          contract(['fuzz.yml']),
        );
      }),
      fuzzRuns(300),
    );
  });

  it('a host range expands to at most the bound, or is refused naming the range', () => {
    const pattern = fc.stringMatching(
      /^[a-z]{0,3}(\[[0-9a-z]{1,9}:[0-9a-z]{1,9}(:\d{1,3})?\][a-z.]{0,2}){0,3}$/,
    );
    fc.assert(
      fc.property(pattern, (p) => {
        const { value } = keepsContract(() => expandHostRange(p), { ...contract([p]), maxMs: 1000 });
        if (value) expect(value.length).toBeLessThanOrEqual(MAX_EXPANDED_HOSTS);
      }),
      fuzzRuns(400),
    );
  });
});
