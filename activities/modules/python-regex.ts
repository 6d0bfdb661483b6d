import { PYTHON_LETTER_ESCAPES } from '../../common/python-escapes';
/**
 * Python's `re` syntax, as ansible-core's modules read a `regexp`, turned into JavaScript RegExps.
 * Pure: replace, find and anything else that takes a Python pattern share it.
 *
 * What is translated so that a match means what it means in Python: `.` never crosses `\n` only
 * (JavaScript's also stops at `\r`), `^`/`$` under MULTILINE see only `\n` as a line end, `$`
 * without it also matches before a final newline, `\A`, `\Z`, `(?P<name>…)`, `(?P=name)`,
 * `{,n}`, `(?#…)` and leading global flags `(?imsx)`. What has no JavaScript counterpart is
 * refused with a message, never matched differently: scoped flags `(?i:…)`, conditionals,
 * atomic groups and possessive quantifiers. Known difference: `\w`, `\d` and `\b` are ASCII
 * in JavaScript and Unicode in Python 3.
 */

export class PythonRegexError extends Error {}

export interface PythonFlags {
  multiline?: boolean;
  dotall?: boolean;
  ignorecase?: boolean;
}

const DOT = '[^\\n]';
const ANY = '[\\s\\S]';

/** Reads leading `(?aiLmsux)` groups; returns the flags and where the pattern proper begins. */
function leadingFlags(pattern: string, flags: PythonFlags & { verbose?: boolean }): number {
  let at = 0;
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(pattern.slice(at));
    if (!m) return at;
    for (const f of m[1]) {
      if (f === 'i') flags.ignorecase = true;
      else if (f === 'm') flags.multiline = true;
      else if (f === 's') flags.dotall = true;
      else if (f === 'x') flags.verbose = true;
      else if (f === 'L') throw new PythonRegexError('the (?L) flag is not supported');
      // a, u: ASCII/Unicode classes; JavaScript's are ASCII either way (see the header).
    }
    at += m[0].length;
  }
}

/** The end of a `[...]` class that starts at `start`, and the class rewritten for JavaScript. */
function translateClass(p: string, start: number): [string, number] {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  // In Python a `]` first in a class is a literal; in JavaScript `[]` is the empty class.
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === ']') return [`${out}]`, i + 1];
    if (c === '\\') {
      const e = p[i + 1];
      if (e === undefined) break;
      // In a class Python reads \b as a backspace; \A, \B and \Z are errors there.
      if (e === 'b') out += '\\x08';
      else if (e === 'A' || e === 'B' || e === 'Z')
        throw new PythonRegexError(`bad escape \\${e} in a character class`);
      else out += `\\${e}`;
      i++;
    } else if (c === '[') out += '\\[';
    else out += c;
  }
  throw new PythonRegexError(`unterminated character set at position ${start}`);
}

/** The pattern as a JavaScript regex source (no flags), and the flags Python's syntax asked for. */
export function translatePattern(
  pattern: string,
  given: PythonFlags = {},
): { source: string; flags: string } {
  const flags: PythonFlags & { verbose?: boolean } = { ...given };
  let i = leadingFlags(pattern, flags);
  let out = '';
  const p = pattern;
  while (i < p.length) {
    const c = p[i];
    if (flags.verbose && /\s/.test(c)) {
      i++;
      continue;
    }
    if (flags.verbose && c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
      continue;
    }
    if (c === '\\') {
      const e = p[i + 1];
      if (e === undefined) throw new PythonRegexError('bad escape (end of pattern)');
      if (e === 'A') out += '(?<![\\s\\S])';
      else if (e === 'Z') out += '(?![\\s\\S])';
      else if (e === 'N' || e === 'U') throw new PythonRegexError(`the escape \\${e} is not supported`);
      else out += `\\${e}`;
      i += 2;
      continue;
    }
    if (c === '[') {
      const [cls, next] = translateClass(p, i);
      out += cls;
      i = next;
      continue;
    }
    if (c === '.') out += flags.dotall ? ANY : DOT;
    else if (c === '^') out += flags.multiline ? '(?<![^\\n])' : '(?<![\\s\\S])';
    else if (c === '$') out += flags.multiline ? '(?![^\\n])' : '(?=\\n?(?![\\s\\S]))';
    else if (c === '{' && /^\{,\d+\}/.test(p.slice(i))) {
      out += '{0';
      i++;
      continue;
    } else if (c === '(' && p[i + 1] === '?') {
      const rest = p.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest))) {
        out += `(?<${m[1]}>`;
        i += m[0].length;
        continue;
      }
      if ((m = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest))) {
        out += `\\k<${m[1]}>`;
        i += m[0].length;
        continue;
      }
      if (rest.startsWith('(?#')) {
        const end = p.indexOf(')', i);
        if (end < 0) throw new PythonRegexError('missing ), unterminated comment');
        i = end + 1;
        continue;
      }
      if (/^\(\?(:|=|!|<=|<!|<[A-Za-z_])/.test(rest)) {
        out += '(?';
        i += 2;
        continue;
      }
      if (rest.startsWith('(?>')) throw new PythonRegexError('atomic groups (?>...) are not supported');
      if (rest.startsWith('(?(')) throw new PythonRegexError('conditional groups (?(...)) are not supported');
      if (/^\(\?[-aiLmsux]+[:)]/.test(rest))
        throw new PythonRegexError(
          'inline flags are supported only at the start of the pattern, as (?i) alone',
        );
      throw new PythonRegexError(`unknown extension ${rest.slice(0, 3)} at position ${i}`);
    } else if ((c === '+' || c === '?' || c === '*' || c === '}') && p[i + 1] === '+') {
      throw new PythonRegexError('possessive quantifiers (*+, ++, ?+) are not supported');
    } else out += c;
    i++;
  }
  return { source: out, flags: flags.ignorecase ? 'i' : '' };
}

/** A Python pattern as a JavaScript RegExp; `extraFlags` adds JavaScript's own (`g`, `y`, `d`). */
export function pythonRegExp(pattern: string, flags: PythonFlags = {}, extraFlags = ''): RegExp {
  const t = translatePattern(pattern, flags);
  try {
    return new RegExp(t.source, t.flags + extraFlags);
  } catch (err) {
    throw new PythonRegexError(
      `${pattern}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
  }
}

/** Python's `re.match`: a match that starts at the beginning of `text`. */
export function pythonMatch(re: RegExp, text: string): boolean {
  const sticky = new RegExp(re.source, `${re.flags.replace(/[gy]/g, '')}y`);
  return sticky.test(text);
}

/** The backslash escapes Python's re.sub expands in a replacement; other letters are errors. */
const TEMPLATE_ESCAPES: Record<string, string> = { ...PYTHON_LETTER_ESCAPES, '\\': '\\' };

type TemplatePart = string | { group: number | string };

/** Pure: Python's replacement template (`\1`, `\g<name>`, `\g<0>`, `\n`) as literal text and group references. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push(text);
    text = '';
  };
  const isOct = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '\\') {
      text += c;
      continue;
    }
    const e = template[i + 1];
    if (e === undefined) throw new PythonRegexError('bad escape (end of pattern)');
    i++;
    if (e === 'g') {
      const m = /^<([^>]*)>/.exec(template.slice(i + 1));
      if (!m) throw new PythonRegexError('missing < or > in \\g<...>');
      i += m[0].length;
      flush();
      parts.push({ group: /^\d+$/.test(m[1]) ? Number(m[1]) : m[1] });
    } else if (e === '0') {
      let digits = '0';
      while (digits.length < 3 && isOct(template[i + 1])) digits += template[++i];
      text += String.fromCharCode(parseInt(digits, 8) & 0xff);
    } else if (isDigit(e)) {
      let digits = e;
      if (isDigit(template[i + 1])) {
        digits += template[++i];
        if (isOct(digits[0]) && isOct(digits[1]) && isOct(template[i + 1])) {
          const code = parseInt(digits + template[++i], 8);
          if (code > 0o377)
            throw new PythonRegexError(`octal escape value \\${digits} outside of range 0-0o377`);
          text += String.fromCharCode(code);
          continue;
        }
      }
      flush();
      parts.push({ group: Number(digits) });
    } else if (Object.hasOwn(TEMPLATE_ESCAPES, e)) {
      text += TEMPLATE_ESCAPES[e];
    } else if (/[A-Za-z]/.test(e)) {
      throw new PythonRegexError(`bad escape \\${e} in the replacement`);
    } else {
      // Python keeps an unknown non-letter escape as written, backslash included.
      text += `\\${e}`;
    }
  }
  flush();
  return parts;
}

/**
 * Python's `re.subn(pattern, template, ·)` for a pattern made with pythonRegExp, checked once (a
 * bad group reference fails before any text is read, as in Python): gives the new text and how
 * many matches were replaced. A group that did not take part gives '' (Python 3.5+).
 */
export function pythonReplacer(
  re: RegExp,
  template: string,
): (text: string) => { text: string; count: number } {
  const parts = parseTemplate(template);
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  for (const part of parts) {
    if (typeof part === 'string') continue;
    if (typeof part.group === 'number' && part.group > groups)
      throw new PythonRegexError(`invalid group reference ${part.group}`);
    if (typeof part.group === 'string' && !re.source.includes(`(?<${part.group}>`))
      throw new PythonRegexError(`unknown group name '${part.group}'`);
  }
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return (text) => {
    let count = 0;
    const out = text.replace(global, (...args: unknown[]) => {
      count++;
      const last = args[args.length - 1];
      const named = typeof last === 'object' && last !== null ? (last as Record<string, unknown>) : {};
      return parts
        .map((part) => {
          if (typeof part === 'string') return part;
          const v = typeof part.group === 'number' ? args[part.group] : named[part.group];
          return typeof v === 'string' ? v : '';
        })
        .join('');
    });
    return { text: out, count };
  };
}

/**
 * Python's fnmatch (as find's `patterns` use it): `*`, `?`, `[seq]`, `[!seq]`, no backslash
 * escapes, the whole name must match; a `*` also matches a leading dot.
 */
export function fnmatchRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, j);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, (ch) => `\\${ch}`)}]`;
      i = j;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, (ch) => `\\${ch}`);
  }
  return new RegExp(`^(?:${out})$`);
}
