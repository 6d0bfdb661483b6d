/**
 * Shell-style `*` / `?` matching, as host patterns and known_hosts use it. Written as a two-pointer
 * scan rather than a regular expression: `*a*a*a*…b` turned into `.*a.*a.*…b` backtracks
 * polynomially in the number of stars, so one line of a file could stall every connection.
 * This way a match costs at most pattern length × name length steps.
 */
export function wildcardMatch(
  pattern: string,
  name: string,
  options: { ignoreCase?: boolean } = {},
): boolean {
  const p = options.ignoreCase ? pattern.toLowerCase() : pattern;
  const s = options.ignoreCase ? name.toLowerCase() : name;
  let pi = 0;
  let si = 0;
  // Where the last `*` was, and how much of the name it has swallowed so far.
  let star = -1;
  let resume = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = si;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
