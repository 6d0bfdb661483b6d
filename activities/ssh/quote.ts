/**
 * The one way a value reaches a remote POSIX shell: single-quoted, with embedded single quotes
 * closed, escaped and reopened. Nothing inside single quotes is special to sh, so no value can
 * become code.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new TypeError('a NUL byte cannot be passed to a shell');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every word and joins them into one command line. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
