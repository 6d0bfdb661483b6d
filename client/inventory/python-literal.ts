import { PYTHON_LETTER_ESCAPES } from '../../common/python-escapes';
// Python literals as Ansible's INI inventory reads values: `ast.literal_eval`, and the text itself
// when that fails. Numbers, True/False/None, quoted strings, lists, tuples, dicts and sets; a
// tuple or set becomes a list, as Ansible makes it. Anything else (a bare word, an address, `yes`)
// stays the text as written.

class NotALiteral extends Error {}

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?)/;

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  /** Skips blanks and a `#` comment, which Python ends at the line's end. */
  private blank(): void {
    for (;;) {
      while (this.at < this.text.length && /[ \t\f\r\n]/.test(this.text[this.at])) this.at++;
      if (this.text[this.at] !== '#') return;
      while (this.at < this.text.length && this.text[this.at] !== '\n') this.at++;
    }
  }

  private peek(): string {
    this.blank();
    return this.text[this.at] ?? '';
  }

  private take(token: string): boolean {
    if (this.peek() !== token) return false;
    this.at++;
    return true;
  }

  whole(): unknown {
    const value = this.value();
    if (this.peek() !== '') throw new NotALiteral();
    return value;
  }

  private value(): unknown {
    const c = this.peek();
    if (c === '[') return this.sequence(']');
    if (c === '(') {
      this.at++;
      if (this.take(')')) return [];
      const first = this.value();
      // A parenthesised value is that value; a comma makes it a tuple.
      if (this.take(')')) return first;
      if (!this.take(',')) throw new NotALiteral();
      return [first, ...this.items(')')];
    }
    if (c === '{') return this.mapping();
    if (c === '+' || c === '-') {
      this.at++;
      const n = this.value();
      if (typeof n !== 'number') throw new NotALiteral();
      return c === '-' ? -n : n;
    }
    if (c === '"' || c === "'" || /[rRuUbB]/.test(c)) {
      const s = this.strings();
      if (s !== undefined) return s;
    }
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.at));
    if (word) {
      this.at += word[0].length;
      if (word[0] === 'True') return true;
      if (word[0] === 'False') return false;
      if (word[0] === 'None') return null;
      throw new NotALiteral();
    }
    if (this.text.startsWith('...', this.at)) {
      this.at += 3;
      return '...';
    }
    return this.number();
  }

  private number(): number {
    const m = NUMBER.exec(this.text.slice(this.at));
    const text = m?.[0] ?? '';
    const leadingZeros = /^0\d*[1-9]/.test(text) && !/[.eExXoObB]/.test(text);
    // No digits, an integer with leading zeros (Python's SyntaxError), or 1j, 1abc: no number.
    if (!/\d/.test(text) || leadingZeros || /\w/.test(this.text[this.at + text.length] ?? ''))
      throw new NotALiteral();
    this.at += text.length;
    const digits = text.replace(/_/g, '');
    const n = /^0[xob]/i.test(digits) ? Number(digits.toLowerCase()) : Number(digits);
    // An integer past 2^53 would silently lose digits here: keep the text instead.
    if (!/[.eE]/.test(digits) && !/^0[x]/i.test(digits) && !Number.isSafeInteger(n)) throw new NotALiteral();
    return n;
  }

  /** One or more adjacent string literals ('a' 'b' is 'ab'); undefined if this is no string. */
  private strings(): string | undefined {
    let out: string | undefined;
    for (;;) {
      const m = /^([rRuUbB]{0,2})("""|'''|"|')/.exec(this.text.slice(this.at));
      if (!m || (m[1] && !/^(?:[rRuUbB]|[rR][bB]|[bB][rR])$/.test(m[1]))) return out;
      this.at += m[0].length;
      const raw = /[rR]/.test(m[1]);
      const quote = m[2];
      let s = '';
      for (;;) {
        if (this.at >= this.text.length) throw new NotALiteral();
        if (this.text.startsWith(quote, this.at)) {
          this.at += quote.length;
          break;
        }
        const ch = this.text[this.at++];
        if (ch === '\n' && quote.length === 1) throw new NotALiteral();
        if (ch !== '\\') {
          s += ch;
          continue;
        }
        const next = this.text[this.at++] ?? '';
        if (raw) s += `\\${next}`;
        else s += escaped(next, this);
      }
      out = (out ?? '') + s;
      this.blank();
      if (!/^[rRuUbB]{0,2}["']/.test(this.text.slice(this.at))) return out;
    }
  }

  /** Reads `\x41`-style escapes' digits for `escaped`. */
  hex(count: number): number {
    const digits = this.text.slice(this.at, this.at + count);
    if (!new RegExp(`^[0-9a-fA-F]{${count}}$`).test(digits)) throw new NotALiteral();
    this.at += count;
    return parseInt(digits, 16);
  }

  octal(first: string): number {
    let digits = first;
    while (digits.length < 3 && /[0-7]/.test(this.text[this.at] ?? '')) digits += this.text[this.at++];
    return parseInt(digits, 8);
  }

  private items(close: string): unknown[] {
    const out: unknown[] = [];
    while (!this.take(close)) {
      out.push(this.value());
      if (!this.take(',')) {
        if (!this.take(close)) throw new NotALiteral();
        break;
      }
    }
    return out;
  }

  private sequence(close: string): unknown[] {
    this.at++;
    return this.items(close);
  }

  private mapping(): unknown {
    this.at++;
    if (this.take('}')) return {};
    const first = this.value();
    if (!this.take(':')) {
      // A set: Ansible turns it into a list.
      if (this.take('}')) return [first];
      if (!this.take(',')) throw new NotALiteral();
      return [first, ...this.items('}')];
    }
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      if (typeof key === 'object' && key !== null) throw new NotALiteral();
      out[String(key)] = this.value();
      if (this.take('}')) return out;
      if (!this.take(',')) throw new NotALiteral();
      if (this.take('}')) return out;
      key = this.value();
      if (!this.take(':')) throw new NotALiteral();
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  ...PYTHON_LETTER_ESCAPES,
};

function escaped(next: string, reader: Reader): string {
  if (next in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[next];
  if (/[0-7]/.test(next)) return String.fromCodePoint(reader.octal(next));
  if (next === 'x') return String.fromCodePoint(reader.hex(2));
  if (next === 'u') return String.fromCodePoint(reader.hex(4));
  if (next === 'U') return String.fromCodePoint(reader.hex(8));
  // Python keeps an unknown escape as it is.
  return `\\${next}`;
}

/** An INI inventory value as Ansible reads it: a Python literal's value, else the text itself. */
export function pythonLiteral(text: string): unknown {
  try {
    return new Reader(text.replace(/^[ \t]+/, '')).whole();
  } catch (err) {
    if (err instanceof NotALiteral || err instanceof RangeError) return text;
    throw err;
  }
}
