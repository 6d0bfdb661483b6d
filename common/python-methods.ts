// The Python methods templates in the wild call on values (`out.stdout.split()[2]`,
// `name.startswith('web')`, `conf.get('port', 80)`), with Python's meaning where JavaScript has a
// method of the same name that means something else (`split()`, `replace`).

type Fn = (...args: unknown[]) => unknown;

const WS = /\s+/;

function pySplit(s: string, sep?: unknown, maxsplit: unknown = -1): string[] {
  const max = Number(maxsplit);
  if (sep === undefined || sep === null) {
    const words = s.trim().split(WS).filter(Boolean);
    if (max < 0 || words.length <= max + 1) return words;
    // Python keeps the rest of the text, runs of blanks and all, after the last split.
    let rest = s.trimStart();
    const out: string[] = [];
    for (let i = 0; i < max; i++) {
      const m = WS.exec(rest);
      if (!m) break;
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return [...out, rest];
  }
  const parts = s.split(String(sep));
  return max < 0 || parts.length <= max + 1
    ? parts
    : [...parts.slice(0, max), parts.slice(max).join(String(sep))];
}

function strip(s: string, chars: unknown, start: boolean, end: boolean): string {
  if (chars === undefined || chars === null)
    return start && end ? s.trim() : start ? s.trimStart() : s.trimEnd();
  const set = new Set(String(chars));
  let a = 0;
  let b = s.length;
  while (start && a < b && set.has(s[a])) a++;
  while (end && b > a && set.has(s[b - 1])) b--;
  return s.slice(a, b);
}

const prefixes = (p: unknown) => (Array.isArray(p) ? p.map(String) : [String(p)]);

const STRING: Record<string, (s: string) => Fn> = {
  split: (s) => (sep, max) => pySplit(s, sep, max),
  rsplit: (s) => (sep, max) =>
    max === undefined || Number(max) < 0
      ? pySplit(s, sep)
      : pySplit(
          s.split('').reverse().join(''),
          sep === undefined ? sep : String(sep).split('').reverse().join(''),
          max,
        )
          .map((w) => w.split('').reverse().join(''))
          .reverse(),
  splitlines: (s) => () => s.split(/\r\n|\r|\n/).filter((l, i, all) => i < all.length - 1 || l !== ''),
  startswith: (s) => (p) => prefixes(p).some((x) => s.startsWith(x)),
  endswith: (s) => (p) => prefixes(p).some((x) => s.endsWith(x)),
  lower: (s) => () => s.toLowerCase(),
  upper: (s) => () => s.toUpperCase(),
  capitalize: (s) => () => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s) => () => s.toLowerCase().replace(/(^|[^A-Za-z])([a-z])/g, (_, a, b) => a + b.toUpperCase()),
  strip: (s) => (c) => strip(s, c, true, true),
  lstrip: (s) => (c) => strip(s, c, true, false),
  rstrip: (s) => (c) => strip(s, c, false, true),
  replace: (s) => (a, b, count) => {
    const n = count === undefined ? -1 : Number(count);
    const parts = s.split(String(a));
    if (n < 0 || parts.length <= n + 1) return parts.join(String(b));
    return parts.slice(0, n + 1).join(String(b)) + String(a) + parts.slice(n + 1).join(String(a));
  },
  find: (s) => (x) => s.indexOf(String(x)),
  count: (s) => (x) => (String(x) === '' ? s.length + 1 : s.split(String(x)).length - 1),
  isdigit: (s) => () => /^\d+$/.test(s),
  isalpha: (s) => () => /^[A-Za-z]+$/.test(s),
  join: (s) => (items) => (Array.isArray(items) ? items.map(String).join(s) : String(items)),
};

const MAPPING: Record<string, (o: Record<string, unknown>) => Fn> = {
  get:
    (o) =>
    (k, d = null) =>
      Object.hasOwn(o, String(k)) ? o[String(k)] : d,
  keys: (o) => () => Object.keys(o),
  values: (o) => () => Object.values(o),
  items: (o) => () => Object.entries(o),
};

const LIST: Record<string, (l: unknown[]) => Fn> = {
  index: (l) => (x) => {
    const i = l.indexOf(x);
    if (i < 0) throw new Error(`${JSON.stringify(x)} is not in list`);
    return i;
  },
  count: (l) => (x) => l.filter((y) => y === x).length,
};

/** The Python method `name` of a value, or undefined when Python has none for its type. */
export function pythonMethod(obj: unknown, name: unknown): Fn | undefined {
  const key = String(name);
  if (typeof obj === 'string' && Object.hasOwn(STRING, key)) return STRING[key](obj);
  if (Array.isArray(obj)) return Object.hasOwn(LIST, key) ? LIST[key](obj) : undefined;
  if (obj && typeof obj === 'object' && Object.getPrototypeOf(obj) === Object.prototype) {
    // A key of that name is the value's own entry (`out.items` of a registered loop): it wins.
    if (Object.hasOwn(obj, key)) return undefined;
    if (Object.hasOwn(MAPPING, key)) return MAPPING[key](obj as Record<string, unknown>);
  }
  return undefined;
}
