// An application's JSON settings file with one value set at a dotted path (`db.host`), for the
// products that keep their database host in JSON (seed 003: Pydio's bootstrap.json). Pure, so
// the rules are unit-tested without hosts.

/** `text` with `path` set to `value`; its indentation and final newline kept. Throws on a path through a non-object. */
export function jsonWithSetting(text: string, path: string, value: string): string {
  const doc = JSON.parse(text) as unknown;
  // Checked before the walk: a path into `null` or a number would throw a TypeError instead.
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error('the file is not a JSON object');
  const keys = path.split('.');
  let at = doc as Record<string, unknown>;
  keys.slice(0, -1).forEach((key, i) => {
    const next = at[key] ?? (at[key] = {});
    if (typeof next !== 'object' || next === null || Array.isArray(next))
      throw new Error(`${keys.slice(0, i + 1).join('.')} is not an object`);
    at = next as Record<string, unknown>;
  });
  at[keys[keys.length - 1]] = value;
  const indent = /^\{\s*\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  return JSON.stringify(doc, null, indent) + (text.endsWith('\n') ? '\n' : '');
}
