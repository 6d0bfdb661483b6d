/**
 * Shell-style `*` / `?` matching, as host patterns and known_hosts use it. Written as a two-pointer
 * scan rather than a regular expression: `*a*a*a*…b` turned into `.*a.*a.*…b` backtracks
 * polynomially in the number of stars, so one line of a file could stall every connection.
 * This way a match costs at most pattern length × name length steps.
 */
export function wildcardMatch(
  pattern: string,
  name: string,
  /** `sets`: `[abc]`, `[a-z]`, `[!abc]` too, as Python's fnmatch and glob take them. */
  options: { ignoreCase?: boolean; sets?: boolean } = {},
): boolean {
  const p = options.ignoreCase ? pattern.toLowerCase() : pattern;
  const s = options.ignoreCase ? name.toLowerCase() : name;
  // Where the pattern goes on after matching one character at `pi`, or -1 when it does not match.
  const one = (pi: number, c: string): number => {
    if (p[pi] === '?') return pi + 1;
    if (options.sets && p[pi] === '[') {
      const set = charSet(p, pi);
      if (set) return set.matches(c) ? set.end : -1;
    }
    return p[pi] === c ? pi + 1 : -1;
  };
  let pi = 0;
  let si = 0;
  // Where the last `*` was, and how much of the name it has swallowed so far.
  let star = -1;
  let resume = 0;
  let next: number;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = si;
    } else if (pi < p.length && (next = one(pi, s[si])) >= 0) {
      pi = next;
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

/** `[...]` at `at`: what it matches and where the pattern goes on; undefined when it never closes (a plain `[`). */
function charSet(p: string, at: number): { matches(c: string): boolean; end: number } | undefined {
  let i = at + 1;
  const negate = p[i] === '!';
  if (negate) i++;
  const first = i;
  // A `]` first in the set is one of its characters.
  while (i < p.length && (p[i] !== ']' || i === first)) i++;
  if (i >= p.length) return undefined;
  const body = p.slice(first, i);
  return {
    end: i + 1,
    matches(c) {
      let hit = false;
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          hit ||= body[k] <= c && c <= body[k + 2];
          k += 2;
        } else hit ||= body[k] === c;
      }
      return hit !== negate;
    },
  };
}
