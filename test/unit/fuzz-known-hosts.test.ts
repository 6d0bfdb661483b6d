import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { knownKeyTypes, parseKnownHosts, verifyHostKey } from '../../activities/ssh/known-hosts';
import { messageProblem } from './fuzz/contract';
import { mutateText, textSteps } from './fuzz/mutate';
import { FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './fuzz/runs';

/**
 * known_hosts has no error class of its own: parseKnownHosts skips what it cannot read, as
 * OpenSSH does, and verifyHostKey answers with a verdict. So the contract here is stricter:
 * never throw, and a refusal's message is one line naming the file.
 */
const FILE = '/fuzz/known_hosts';

const key = fc.uint8Array({ minLength: 0, maxLength: 64 }).map((b) => Buffer.from(b));
// Names come from the inventory, which has no line breaks in a host name; the key comes from the server.
const name = fc.oneof(
  fc.constantFrom('db1', '10.77.0.12', '[db1]:2222', 'a'.repeat(60), 'DB1'),
  fc.string({ unit: 'grapheme', maxLength: 20 }).filter((n) => !/[\r\n]/.test(n)),
);
const hashed = fc.tuple(name, fc.boolean()).map(([n, good]) => {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt)
    .update(good ? n : `${n}x`)
    .digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
});
const hostPattern = fc.oneof(
  name,
  hashed,
  fc.stringMatching(/^!?[a-z0-9*?.[\]:|]{0,16}$/),
  fc.constantFrom('*', '!*', '|1|', '|1|x|', '|1||', '*a*a*a*a*a*a*a*a*a*a*a*a*b'),
);
const line = fc
  .tuple(
    fc.constantFrom('', '', '@revoked ', '@cert-authority ', '@other '),
    fc.array(hostPattern, { minLength: 1, maxLength: 3 }),
    fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', ''),
    key,
    fc.constantFrom('', ' comment', '\tc'),
  )
  .map(
    ([marker, hosts, type, k, comment]) =>
      `${marker}${hosts.join(',')} ${type} ${k.toString('base64')}${comment}`,
  );
const file = fc
  .tuple(fc.array(fc.oneof(line, fc.constantFrom('', '# c', '   ')), { maxLength: 8 }), textSteps)
  .map(([lines, steps]) => mutateText(lines.join('\n'), steps));

describe('known_hosts under fuzz', () => {
  jest.setTimeout(FUZZ_TEST_TIMEOUT_MS);

  it('any file and any presented key give a verdict, never an exception, within a bound', () => {
    fc.assert(
      fc.property(
        fc.oneof(file, fc.string({ unit: 'binary', maxLength: 300 })),
        fc.array(name, { minLength: 1, maxLength: 3 }),
        key,
        (text, names, presented) => {
          const started = performance.now();
          const entries = parseKnownHosts(text);
          const verdict = verifyHostKey(entries, names, presented, FILE);
          knownKeyTypes(entries, names);
          expect(performance.now() - started).toBeLessThan(1000);
          for (const e of entries) expect(e.line).toBeGreaterThan(0);
          if (verdict.ok) {
            // Trust needs a plain entry for one of the names with exactly this key.
            expect(entries.some((e) => e.line === verdict.line && e.key.equals(presented))).toBe(true);
          } else {
            expect(messageProblem(verdict.message, [FILE])).toBeUndefined();
          }
        },
      ),
      fuzzRuns(400),
    );
  });
});
