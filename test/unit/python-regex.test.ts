import {
  fnmatchRegExp,
  parseTemplate,
  PythonRegexError,
  pythonMatch,
  pythonRegExp,
  pythonReplacer,
} from '../../activities/modules/python-regex';

// Expected values are what CPython's re.subn(re.compile(p, re.MULTILINE), r, t) gives.
const subn = (p: string, r: string, t: string) => pythonReplacer(pythonRegExp(p, { multiline: true }), r)(t);

describe('Python regexes, as ansible-core modules read them', () => {
  it('expands \\1, \\g<1> and \\g<name> in the replacement, and \\n to a newline', () => {
    expect(subn('^(ListenAddress[ ]+)[^\\n]+$', '\\g<1>0.0.0.0', 'Port 22\nListenAddress 1.2.3.4\n')).toEqual(
      {
        text: 'Port 22\nListenAddress 0.0.0.0\n',
        count: 1,
      },
    );
    expect(
      subn(
        '^(?P<d>ListenAddress[ ]+)(?P<h>[^\\n]+)$',
        '#\\g<d>\\g<h>\\n\\g<d>0.0.0.0',
        'ListenAddress 1.2.3.4\n',
      ).text,
    ).toBe('#ListenAddress 1.2.3.4\nListenAddress 0.0.0.0\n');
    expect(subn('\\b(localhost)(\\d*)\\b', '\\1\\2.localdomain\\2 \\1\\2', 'localhost6\n').text).toBe(
      'localhost6.localdomain6 localhost6\n',
    );
  });

  it('keeps $ literal in the replacement and an unknown non-letter escape as written', () => {
    expect(subn('a', '$1$&', 'a').text).toBe('$1$&');
    expect(subn('a', '\\&\\\\', 'a').text).toBe('\\&\\');
    expect(subn('(a)', '\\g<0>\\101', 'a').text).toBe('aA');
  });

  it('gives an empty string for a group that did not take part', () => {
    expect(subn('(a)|(b)', '[\\1\\2]', 'ab')).toEqual({ text: '[a][b]', count: 2 });
  });

  it('refuses a reference to a group the pattern lacks, before reading any text', () => {
    expect(() => pythonReplacer(pythonRegExp('(a)'), '\\2')).toThrow(/invalid group reference 2/);
    expect(() => pythonReplacer(pythonRegExp('(a)'), '\\g<x>')).toThrow(/unknown group name 'x'/);
    expect(() => parseTemplate('\\q')).toThrow(/bad escape \\q/);
  });

  it('sees only \\n as a line end under MULTILINE, so CRLF lines keep their \\r in play', () => {
    expect(subn('.$', 'X', 'ab\r\ncd\r\n').text).toBe('abX\ncdX\n');
    expect(subn('$', '!', 'a\nb\n')).toEqual({ text: 'a!\nb!\n!', count: 3 });
  });

  it('replaces empty matches as Python 3.7+ does', () => {
    expect(subn('x*', '-', 'abxd')).toEqual({ text: '-a-b--d-', count: 5 });
  });

  it('reads \\A, \\Z, (?P=name), {,n}, comments and leading flags', () => {
    expect(subn('\\Aa', 'Z', 'a\na\n').text).toBe('Z\na\n');
    expect(subn('a\\Z', 'Z', 'a\na').text).toBe('a\nZ');
    expect(subn('(?P<w>\\w+)=(?P=w)', 'same', 'x=x y=z').text).toBe('same y=z');
    expect(subn('a{,2}', 'X', 'aaa').text).toBe('XXX');
    expect(subn('(?#why)a', 'b', 'aa').text).toBe('bb');
    expect(subn('(?i)HELLO', 'bye', 'hello Hello').text).toBe('bye bye');
    expect(subn('(?s)a.b', 'X', 'a\nb').text).toBe('X');
    expect(subn('(?x) a  b # comment\n c', 'X', 'abc ab c').text).toBe('X ab c');
  });

  it('reads a ] first in a class as a literal, as Python does', () => {
    expect(subn('[]a]+', 'X', ']a]b').text).toBe('Xb');
  });

  it('refuses what JavaScript cannot match the same way, rather than matching differently', () => {
    for (const p of ['(?i:a)b', 'a(?i)b', '(?>a)', 'a++', '(?(1)a|b)'])
      expect(() => pythonRegExp(p)).toThrow(PythonRegexError);
  });

  it('anchors re.match at the start only', () => {
    expect(pythonMatch(pythonRegExp('app'), 'app.log')).toBe(true);
    expect(pythonMatch(pythonRegExp('log'), 'app.log')).toBe(false);
  });
});

describe('fnmatch globs', () => {
  it('matches the whole name, a leading dot included, with [seq] and [!seq]', () => {
    expect(fnmatchRegExp('*.log').test('.hidden.log')).toBe(true);
    expect(fnmatchRegExp('*.log').test('a.log.1')).toBe(false);
    expect(fnmatchRegExp('app?.[ch]').test('app1.c')).toBe(true);
    expect(fnmatchRegExp('[!a]*').test('abc')).toBe(false);
    expect(fnmatchRegExp('[^a]').test('^')).toBe(true);
    expect(fnmatchRegExp('a[b').test('a[b')).toBe(true);
    expect(fnmatchRegExp('a\\*').test('a\\xyz')).toBe(true);
  });
});
