/**
 * Pure edits of configuration text: what lineinfile, blockinfile, properties and ini change,
 * computed without a host so that each is unit-tested on its own.
 */

function splitLines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}

function joinLines(lines: string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function lastIndexMatching(lines: string[], re: RegExp): number {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i])) return i;
  return -1;
}

/** Where a new line or block goes: after the last match of `insertafter`, before the first of `insertbefore`. */
function insertionIndex(lines: string[], at: { insertafter?: string; insertbefore?: string }): number {
  if (at.insertbefore) {
    if (at.insertbefore === 'BOF') return 0;
    const i = lines.findIndex((l) => new RegExp(at.insertbefore!).test(l));
    return i >= 0 ? i : lines.length;
  }
  if (at.insertafter && at.insertafter !== 'EOF') {
    const i = lastIndexMatching(lines, new RegExp(at.insertafter));
    return i >= 0 ? i + 1 : lines.length;
  }
  return lines.length;
}

export interface LineInFile {
  line?: string;
  regexp?: string;
  state: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
}

export function lineInFile(text: string, a: LineInFile): string {
  const lines = splitLines(text);
  const re = a.regexp !== undefined ? new RegExp(a.regexp) : undefined;
  if (a.state === 'absent') return joinLines(lines.filter((l) => (re ? !re.test(l) : l !== a.line)));
  const line = a.line!;
  if (re) {
    const i = lastIndexMatching(lines, re);
    if (i >= 0) {
      lines[i] = line;
      return joinLines(lines);
    }
  }
  if (lines.includes(line)) return joinLines(lines);
  lines.splice(insertionIndex(lines, a), 0, line);
  return joinLines(lines);
}

export interface BlockInFile {
  block: string;
  marker: string;
  state: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
}

export function blockInFile(text: string, a: BlockInFile): string {
  const lines = splitLines(text);
  const begin = a.marker.replace('{mark}', 'BEGIN');
  const end = a.marker.replace('{mark}', 'END');
  const start = lines.indexOf(begin);
  const stop = start >= 0 ? lines.indexOf(end, start + 1) : -1;
  const body = [begin, ...splitLines(a.block), end];
  if (start >= 0 && stop >= 0) {
    lines.splice(start, stop - start + 1, ...(a.state === 'present' ? body : []));
    return joinLines(lines);
  }
  if (a.state === 'absent') return joinLines(lines);
  lines.splice(insertionIndex(lines, a), 0, ...body);
  return joinLines(lines);
}

/** `key=value`, `key: value` or `key value` as java.util.Properties reads them; null for comments and blanks. */
export function propertyKey(line: string, separator: string): string | null {
  const trimmed = line.trimStart();
  if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith('!')) return null;
  const at = trimmed.indexOf(separator);
  return (at >= 0 ? trimmed.slice(0, at) : trimmed.split(/\s/)[0]).trim();
}

function propertyValue(line: string, separator: string): string {
  const at = line.indexOf(separator);
  return at >= 0 ? line.slice(at + separator.length).trim() : '';
}

/** The line with a new value, its own layout kept (`pm.max_children = 8` stays spaced). */
function withValue(line: string, key: string, value: string, separator: string): string {
  const at = line.indexOf(separator);
  if (at < 0) return `${key}${separator}${value}`;
  const space = /^[ \t]*/.exec(line.slice(at + separator.length))?.[0] ?? '';
  return `${line.slice(0, at + separator.length)}${space}${value}`;
}

/**
 * Sets and removes keys of a Java-style properties file, keeping comments, order and untouched
 * lines byte for byte, and a changed line's layout; new keys go at the end.
 */
export function editProperties(
  text: string,
  a: { set: Record<string, string>; remove: string[]; separator: string },
): string {
  let lines = splitLines(text);
  const remove = new Set(a.remove);
  lines = lines.filter((l) => !remove.has(propertyKey(l, a.separator) ?? '\0'));
  for (const [key, value] of Object.entries(a.set)) {
    const i = lines.findIndex((l) => propertyKey(l, a.separator) === key);
    if (i < 0) lines.push(`${key}${a.separator}${value}`);
    else if (propertyValue(lines[i], a.separator) !== value)
      lines[i] = withValue(lines[i], key, value, a.separator);
    // Later duplicates would override the value we set when the product reads the file.
    lines = lines.filter((l, j) => j <= i || i < 0 || propertyKey(l, a.separator) !== key);
  }
  return joinLines(lines);
}

/** Reads a properties file into a map (the last occurrence of a key wins, as Java does). */
export function parseProperties(text: string, separator = '='): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of splitLines(text)) {
    const key = propertyKey(line, separator);
    if (key) map.set(key, propertyValue(line, separator));
  }
  return map;
}

/** my.cnf treats `log-bin` and `log_bin` as the same option. */
const normalizeOption = (key: string) => key.trim().replace(/-/g, '_').toLowerCase();

function iniOption(line: string): { key: string; value: string | undefined } | null {
  const trimmed = line.trim();
  if (
    !trimmed ||
    trimmed.startsWith('#') ||
    trimmed.startsWith(';') ||
    trimmed.startsWith('[') ||
    trimmed.startsWith('!')
  ) {
    return null;
  }
  const at = trimmed.indexOf('=');
  return at < 0
    ? { key: trimmed, value: undefined }
    : { key: trimmed.slice(0, at).trim(), value: trimmed.slice(at + 1).trim() };
}

/**
 * Sets options in INI sections (my.cnf style): an empty value writes a bare option
 * (`skip-name-resolve`), null removes it. Missing sections are appended.
 */
export function editIni(text: string, settings: Record<string, Record<string, string | null>>): string {
  const lines = splitLines(text);
  for (const [section, options] of Object.entries(settings)) {
    let head = lines.findIndex((l) => l.trim() === `[${section}]`);
    if (head < 0 && Object.values(options).some((v) => v !== null)) {
      if (lines.length && lines[lines.length - 1].trim() !== '') lines.push('');
      lines.push(`[${section}]`);
      head = lines.length - 1;
    }
    if (head < 0) continue;
    for (const [key, value] of Object.entries(options)) {
      let end = lines.findIndex((l, i) => i > head && /^\s*\[/.test(l));
      if (end < 0) end = lines.length;
      const i = lines.findIndex(
        (l, j) => j > head && j < end && normalizeOption(iniOption(l)?.key ?? '\0') === normalizeOption(key),
      );
      if (value === null) {
        if (i >= 0) lines.splice(i, 1);
        continue;
      }
      const wanted = value === '' ? key : `${key} = ${value}`;
      const current = i >= 0 ? iniOption(lines[i]) : null;
      if (current && (current.value ?? '') === value) continue;
      if (i >= 0) {
        lines[i] = wanted;
      } else {
        let at = end;
        while (at > head + 1 && lines[at - 1].trim() === '') at--;
        lines.splice(at, 0, wanted);
      }
    }
  }
  return joinLines(lines);
}
