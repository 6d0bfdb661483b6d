import fc from 'fast-check';
import { stringify } from 'yaml';

/**
 * Structure-aware fuzzing: start from a document that is valid or nearly so, then break it the way
 * people and tools do (a wrong type, a key too many or too few, null, huge numbers, unicode,
 * tabs, duplicated lines). Random bytes alone would stop at the first YAML syntax check.
 */

/** Values that stand in for a field's real value: wrong types, edge numbers, odd strings. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0, 0.5, 1e308, -1e308, 2 ** 53 + 1, Infinity, -Infinity, NaN),
  fc.integer(),
  fc.constantFrom(
    '',
    ' ',
    '\t',
    'env:',
    'file:',
    'file:relative',
    'env:A B',
    '{{ inventory_hostname }}',
    '{{',
    '{% if %}',
    '%',
    '~',
    '*',
    'node[0:3]',
    'all',
    'db1',
    'app1',
    '__proto__',
    'constructor',
    'toString',
    'ü',
    '🙂',
    '\u0000',
    'a\nb',
    "'",
    '"',
    'yes',
    'no',
    '0644',
    '-o ProxyJump=a:b:c',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)), {
    maxKeys: 2,
  }),
);

const oddKey = fc.oneof(
  fc.constantFrom('unknown', '__proto__', 'constructor', 'hosts', 'vars', 'children', 'name', 'tasks', ''),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);

type Step = {
  kind: 'replace' | 'delete' | 'addKey' | 'wrap' | 'stringify';
  path: number[];
  key: string;
  value: unknown;
};

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'addKey', 'wrap', 'stringify'),
  path: fc.array(fc.nat(50), { maxLength: 6 }),
  key: oddKey,
  value: oddValue,
});

function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  // `__proto__` must become a key of the document, not the object's prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies one mutation at the node `path` leads to (each number picks a child, modulo). */
function apply(tree: unknown, s: Step): unknown {
  const root = { root: structuredClone(tree) } as Record<string, unknown>;
  let parent: Record<string, unknown> | unknown[] = root;
  let key: string | number = 'root';
  for (const n of s.path) {
    const node: unknown = (parent as Record<string, unknown>)[key as string];
    if (!node || typeof node !== 'object') break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (!keys.length) break;
    parent = node as Record<string, unknown>;
    key = keys[n % keys.length];
  }
  const holder = parent as Record<string, unknown>;
  const node = holder[key as string];
  switch (s.kind) {
    case 'replace':
      setOwn(holder, String(key), s.value);
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent !== root) delete holder[key as string];
      break;
    case 'addKey':
      if (Array.isArray(node)) node.push(s.value);
      else if (node && typeof node === 'object') setOwn(node as Record<string, unknown>, s.key, s.value);
      break;
    case 'wrap':
      setOwn(holder, String(key), [node]);
      break;
    case 'stringify':
      setOwn(holder, String(key), typeof node === 'object' ? JSON.stringify(node) : String(node));
      break;
  }
  return root.root;
}

/** A tree from `base`, with up to `max` mutations applied. */
export function mutatedTree(base: fc.Arbitrary<unknown>, max = 3): fc.Arbitrary<unknown> {
  return fc
    .tuple(base, fc.array(step, { maxLength: max }))
    .map(([tree, steps]) => steps.reduce<unknown>((t, s) => apply(t, s), tree));
}

type TextStep = {
  kind: 'tab' | 'dupLine' | 'dropLine' | 'insert' | 'truncate' | 'anchor';
  at: number;
  text: string;
};

const textStep: fc.Arbitrary<TextStep> = fc.record({
  kind: fc.constantFrom('tab', 'dupLine', 'dropLine', 'insert', 'truncate', 'anchor'),
  at: fc.nat(10_000),
  text: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.constantFrom(
      ':',
      '- ',
      '[',
      '{',
      '&a ',
      '*a',
      '<<: *a',
      '"',
      "'",
      '#',
      '\r',
      '\t',
      '? ',
      '!!str ',
      '%',
    ),
  ),
});

/** Line- and character-level damage to a serialized document. */
export function mutateText(text: string, steps: TextStep[]): string {
  return steps.reduce((t, s) => {
    const lines = t.split('\n');
    const line = s.at % Math.max(lines.length, 1);
    switch (s.kind) {
      case 'tab':
        lines[line] = `\t${lines[line]}`;
        return lines.join('\n');
      case 'dupLine':
        lines.splice(line, 0, lines[line]);
        return lines.join('\n');
      case 'dropLine':
        lines.splice(line, 1);
        return lines.join('\n');
      case 'anchor':
        lines[line] = lines[line].replace(/: /, `: ${s.text.startsWith('*') ? '*a' : '&a '}`);
        return lines.join('\n');
      case 'insert': {
        const at = s.at % (t.length + 1);
        return t.slice(0, at) + s.text + t.slice(at);
      }
      case 'truncate':
        return t.slice(0, s.at % (t.length + 1));
    }
  }, text);
}

/** YAML text for a mutated tree, then mutated as text too. */
export function mutatedYaml(base: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(mutatedTree(base), fc.array(textStep, { maxLength: 2 }))
    .map(([tree, steps]) => mutateText(stringify(tree, { aliasDuplicateObjects: false }), steps));
}

export const textSteps = fc.array(textStep, { maxLength: 3 });
