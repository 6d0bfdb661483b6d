import { pythonType } from './python-repr';
import { parse, parseAllDocuments, stringify } from 'yaml';

// Ansible's filters that roles use to write files: comment blocks (`{{ ansible_managed | comment }}`
// heads most role templates), YAML, and path and list helpers, as ansible-core defines them. The
// ones that need the machine (digests, the home directory, links) are activities/worker-filters.ts.

const COMMENT_STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

/** `comment`: the text as a comment block of a style, with ansible-core's layout and options. */
export function comment(text: unknown, style = 'plain', kw: Record<string, unknown> = {}): string {
  const styleParams = COMMENT_STYLES[style];
  if (!styleParams) throw new Error(`comment: unknown style ${style}`);
  const deco = String(kw.decoration ?? styleParams.decoration);
  const p: Record<string, string | number> = {
    newline: '\n',
    beginning: '',
    prefix: deco.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: deco.trimEnd(),
    postfix_count: 1,
    end: '',
    ...styleParams,
    ...(kw as Record<string, string | number>),
  };
  const nl = String(p.newline);
  const repeat = (s: string, n: unknown) => Array.from({ length: Number(n) }, () => s);
  const prefix = String(p.prefix);
  const postfix = String(p.postfix);
  return [
    p.beginning ? `${String(p.beginning)}${nl}` : '',
    prefix ? repeat(prefix === nl ? nl : `${prefix}${nl}`, p.prefix_count).join('') : '',
    String(text)
      .split(nl)
      .map((line) => `${String(p.decoration)}${line}`)
      .join(nl) + nl,
    postfix
      ? postfix === nl
        ? repeat(nl, p.postfix_count).join('')
        : repeat(postfix, p.postfix_count).join(nl)
      : '',
    p.end ? `${nl}${String(p.end)}` : '',
  ].join('');
}

const UNITS = 'KMGTPEZY';
/** `human_to_bytes`: '10M' (or '10 MB', '1.5G') as bytes, 1024-based as Ansible's is. */
export function humanToBytes(v: unknown, defaultUnit?: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTPEZY]?)(?:i?B)?\s*$/i.exec(String(v));
  if (!m) throw new Error(`human_to_bytes: cannot read ${JSON.stringify(v)}`);
  const unit = (m[2] || defaultUnit || '').toUpperCase();
  return Math.round(Number(m[1]) * 1024 ** (unit ? UNITS.indexOf(unit) + 1 : 0));
}

export const TEXT_FILTERS: Record<string, (...args: never[]) => unknown> = {
  comment: (text: unknown, style: unknown = 'plain', kw?: Record<string, unknown>) =>
    // nunjucks hands keyword arguments over as a last object argument.
    typeof style === 'object' && style !== null
      ? comment(text, 'plain', style as Record<string, unknown>)
      : comment(text, String(style), kw),
  to_yaml: (v: unknown) => stringify(v, { indent: 2, indentSeq: false }),
  to_nice_yaml: (v: unknown, kw?: { indent?: number }) =>
    stringify(v, { indent: kw?.indent ?? 4, indentSeq: false }),
  from_yaml: (v: unknown) => (typeof v === 'string' ? parse(v) : v),
  from_yaml_all: (v: unknown) => parseAllDocuments(String(v)).map((d) => d.toJS()),
  regex_escape: (v: unknown) => String(v).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'),
  // As Python's os.path.splitext: the last dot of the last part, not a leading one.
  splitext: (v: unknown) => {
    const s = String(v);
    const m = /^(.*[^/.][^/]*?)(\.[^./]*)$/s.exec(s);
    return m ? [m[1], m[2]] : [s, ''];
  },
  zip: (a: unknown[], ...rest: unknown[][]) =>
    (a ?? [])
      .slice(0, Math.min(...[a, ...rest].map((l) => (l ?? []).length)))
      .map((x, i) => [x, ...rest.map((l) => l[i])]),
  product: (a: unknown[], ...rest: unknown[][]) =>
    rest.reduce<unknown[][]>(
      (acc, l) => acc.flatMap((p) => (l ?? []).map((x) => [...p, x])),
      (a ?? []).map((x) => [x]),
    ),
  human_to_bytes: humanToBytes,
  type_debug: pythonType,
  extract: (key: unknown, container: Record<string, unknown>, morekeys?: unknown) =>
    [morekeys ?? []]
      .flat()
      .reduce<unknown>(
        (v, k) => (v as Record<string, unknown> | undefined)?.[String(k)],
        container?.[String(key)],
      ),
};
