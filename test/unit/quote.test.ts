import { spawnSync } from 'node:child_process';
import { shellJoin, shellQuote } from '../../activities/ssh/quote';

/** Strings that break naive quoting: each must come back from a real sh byte for byte. */
const INJECTION_CORPUS = [
  '',
  'plain',
  'two words',
  "it's",
  "'",
  "''",
  '"double"',
  '$(touch /tmp/pwned)',
  '`id`',
  '${IFS}',
  '$HOME',
  'a;b',
  'a && b || c',
  'a | b',
  'a > /etc/passwd',
  '<(x)',
  'line1\nline2',
  'tab\there',
  '\\',
  "\\'",
  '*',
  '?',
  '[a-z]',
  '~root',
  '-n',
  '--help',
  '#comment',
  '!',
  '!!',
  'ünïcødé ✓',
  "'; rm -rf / #",
  "\\'; echo owned; '",
  '%s%n',
];

function echoThroughSh(words: string[]): string {
  const result = spawnSync('sh', ['-c', `printf '%s\\0' ${shellJoin(words)}`], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('shellQuote', () => {
  it.each(INJECTION_CORPUS.map((s) => [JSON.stringify(s), s]))(
    'passes %s through sh as one literal word',
    (_, value) => {
      expect(echoThroughSh([value])).toBe(`${value}\0`);
    },
  );

  it('keeps every word of a joined command line separate and literal', () => {
    expect(echoThroughSh(INJECTION_CORPUS).split('\0').slice(0, -1)).toEqual(INJECTION_CORPUS);
  });

  it('leaves safe words readable', () => {
    expect(shellQuote('/etc/my.cnf')).toBe('/etc/my.cnf');
    expect(shellQuote('a b')).toBe("'a b'");
  });

  it('refuses a NUL byte, which no shell argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
