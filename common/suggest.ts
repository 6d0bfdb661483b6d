// "Did you mean ...?" for a key nobody expects: the closest known name, offered only when it is
// close enough to be the likely typo. Pure, so the spec, playbook and inventory errors share it.

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string alignment), since
 * `tiemout` for `timeout` is one slip of the fingers, not two.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name `word` most likely meant, or undefined when none is close: at most a third of the
 * word's length in edits, and at least one (with two, `date` would "mean" `path` and `to` `tcp`).
 * Case, `-` and `_` are ignored, so `drain_timeout_seconds` finds `drainTimeoutSeconds`. Ties go
 * to the earlier name.
 */
export function suggest(word: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const w = norm(word);
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    if (name === word) continue;
    const distance = editDistance(w, norm(name));
    if (distance > limit || distance >= Math.max(w.length, norm(name).length)) continue;
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}

/** The message for a key that is not one of `known`: the likely meant one, else the list. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const meant = suggest(key, known);
  if (meant) return `unknown key; did you mean ${meant}?`;
  return known.length ? `unknown key (expected one of: ${known.join(', ')})` : 'unknown key';
}
