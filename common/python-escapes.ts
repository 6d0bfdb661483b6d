/** Python's one-letter backslash escapes (`\n`, `\t`, `\a`…), shared by its string literals and re.sub templates. */
export const PYTHON_LETTER_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};
