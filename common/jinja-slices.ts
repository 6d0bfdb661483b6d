import nunjucks from 'nunjucks';
import { pythonType } from './python-repr';

// Python's subscripts in Jinja2 expressions, which nunjucks lacks: slices (`groups['web'][:2]`,
// `name[1:]`, `items[::-1]`) and negative indexes (`hosts[-1]`). Without them a role failed to
// compile on `:` or, worse, read `hosts[-1]` as undefined. The postfix parser (jinja-item-index.ts)
// hands a bracket to `parseSubscript`; a slice compiles to `runtime.__cfSlice(...)`.

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
export interface SubscriptParser {
  peekToken(): Token | null;
  nextToken(): Token;
  parseExpression(): unknown;
  fail(msg: string, lineno?: number, colno?: number): never;
}
interface NodeClass {
  new (l: number, c: number, ...fields: unknown[]): unknown;
  extend(name: string, props: { fields: string[] }): NodeClass;
}
const { lexer, nodes, compiler, runtime } = nunjucks as unknown as {
  lexer: Record<string, string>;
  nodes: { Node: NodeClass; LookupVal: NodeClass; Literal: NodeClass };
  compiler: { Compiler: { prototype: Record<string, unknown> } };
  runtime: Record<string, unknown>;
};

const Slice = nodes.Node.extend('Slice', { fields: ['target', 'start', 'stop', 'step'] });

/** `[index]` or `[start:stop:step]` after `target`; the opening bracket is the next token. */
export function parseSubscript(p: SubscriptParser, target: unknown, open: Token): unknown {
  p.nextToken();
  const parts: unknown[] = [undefined];
  for (;;) {
    const t = p.peekToken();
    if (!t) p.fail('expected ] to close the subscript', open.lineno, open.colno);
    if (t.type === lexer.TOKEN_RIGHT_BRACKET) {
      p.nextToken();
      break;
    }
    if (t.type === lexer.TOKEN_COLON) {
      p.nextToken();
      if (parts.length === 3) p.fail('a slice has at most start:stop:step', t.lineno, t.colno);
      parts.push(undefined);
      continue;
    }
    if (parts[parts.length - 1] !== undefined) p.fail('invalid index', t.lineno, t.colno);
    parts[parts.length - 1] = p.parseExpression();
  }
  if (parts.length === 1) {
    if (parts[0] === undefined) p.fail('an empty subscript', open.lineno, open.colno);
    return new nodes.LookupVal(open.lineno, open.colno, target, parts[0]);
  }
  const none = () => new nodes.Literal(open.lineno, open.colno, null);
  const [start, stop, step] = [0, 1, 2].map((i) => parts[i] ?? none());
  return new Slice(open.lineno, open.colno, target, start, stop, step);
}

interface SliceCompiler {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
}
type SliceNode = { target: unknown; start: unknown; stop: unknown; step: unknown };
compiler.Compiler.prototype.compileSlice = function (this: SliceCompiler, node: SliceNode, frame: unknown) {
  this._emit('runtime.__cfSlice(');
  for (const [i, part] of [node.target, node.start, node.stop, node.step].entries()) {
    if (i) this._emit(', ');
    this.compile(part, frame);
  }
  this._emit(')');
};

/** Python's `seq[start:stop:step]` of a list or a string. */
export function pythonSlice(seq: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const text = typeof seq === 'string' || seq instanceof nunjucks.runtime.SafeString;
  if (!text && !Array.isArray(seq)) throw new Error(`'${pythonType(seq)}' object is not subscriptable`);
  const items: unknown[] = text ? [...String(seq)] : (seq as unknown[]);
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
    ['step', step],
  ] as const)
    if (v !== null && v !== undefined && !Number.isInteger(v))
      throw new Error(`slice ${name} must be an integer or None, not ${pythonType(v)}`);
  const by = (step as number | null) ?? 1;
  if (by === 0) throw new Error('slice step cannot be zero');
  const n = items.length;
  const clamp = (v: number | null, dflt: number, lo: number, hi: number) =>
    v === null || v === undefined ? dflt : Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const out: unknown[] = [];
  if (by > 0) {
    const [from, to] = [clamp(start as number | null, 0, 0, n), clamp(stop as number | null, n, 0, n)];
    for (let i = from; i < to; i += by) out.push(items[i]);
  } else {
    const [from, to] = [
      clamp(start as number | null, n - 1, -1, n - 1),
      clamp(stop as number | null, -1, -1, n - 1),
    ];
    for (let i = from; i > to; i += by) out.push(items[i]);
  }
  return text ? out.join('') : out;
}
runtime.__cfSlice = pythonSlice;

/** `seq[-1]`: a negative index counts from the end, as in Python. */
export function negativeIndex(obj: unknown, key: unknown): { value: unknown } | undefined {
  if (typeof key !== 'number' || key >= 0 || !Number.isInteger(key)) return undefined;
  if (Array.isArray(obj)) return { value: obj[obj.length + key] };
  if (typeof obj === 'string') return { value: obj[obj.length + key] };
  return undefined;
}
