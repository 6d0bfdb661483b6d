import fc from 'fast-check';
import { InventoryError, parseIniInventory, selectHosts } from '../../client/inventory';
import { wildcardMatch } from '../../common/wildcard';
import { keepsContract } from './fuzz/contract';
import { groupName, hostName, validIniInventoryText } from './fuzz/inventory-arbs';
import { FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './fuzz/runs';

const regexTerm = fc.oneof(
  fc.constantFrom(
    '~^node',
    '~(web|db)\\d',
    '~(a+)+$',
    '~(a|aa)*$',
    '~(',
    '~[',
    '~\\',
    '~(?<n>a)\\k<n>',
    '~a{2,}',
    '~.*.*.*.*x',
  ),
  fc.stringMatching(/^~[a-z0-9.*+?()|[\]\\^$]{0,12}$/),
);
const globTerm = fc.stringMatching(/^[a-z0-9*?.-]{1,12}$/);
const term = fc
  .tuple(fc.constantFrom('', '&', '!'), fc.oneof(hostName, groupName, globTerm, regexTerm))
  .map(([op, t]) => op + t);
const pattern = fc.oneof(
  fc
    .tuple(fc.array(term, { minLength: 1, maxLength: 4 }), fc.constantFrom(',', ':'))
    .map(([ts, sep]) => ts.join(sep)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

describe('host patterns under fuzz', () => {
  jest.setTimeout(FUZZ_TEST_TIMEOUT_MS);

  it('any pattern selects inventory hosts or fails with InventoryError naming the inventory', () => {
    fc.assert(
      fc.property(validIniInventoryText, pattern, (text, p) => {
        const inv = parseIniInventory(text, 'fuzz.ini');
        const { value } = keepsContract(() => selectHosts(inv, p), {
          accept: [InventoryError],
          names: ['fuzz.ini'],
          maxMs: 1000,
        });
        if (value) {
          expect(value.length).toBeGreaterThan(0);
          for (const h of value) expect(inv.hostVars.has(h)).toBe(true);
        }
      }),
      fuzzRuns(400),
    );
  });

  it('the linear wildcard matcher agrees with the regular expression it replaced', () => {
    // Short strings over a tiny alphabet, so the backtracking regex stays cheap as the reference.
    const small = (chars: string[]) =>
      fc.array(fc.constantFrom(...chars), { maxLength: 8 }).map((c) => c.join(''));
    fc.assert(
      fc.property(small(['a', 'b', '*', '?', '.']), small(['a', 'b', '.', '*', '?']), (glob, name) => {
        const re = new RegExp(
          `^${glob
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        );
        expect(wildcardMatch(glob, name)).toBe(re.test(name));
      }),
      fuzzRuns(500),
    );
  });
});
