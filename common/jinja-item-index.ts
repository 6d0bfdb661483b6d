import nunjucks from 'nunjucks';
import { parseSubscript, type SubscriptParser } from './jinja-slices';

// Jinja2 reads `item.0` as `item[0]`: the way with_together, with_nested and with_subelements
// items are written (`item.0.name`, `item.1`). nunjucks only takes a name after the dot, so its
// postfix parser is taken over here, with a number after the dot as an index. The lexer reads
// `0.name` as the float `0.` before `name`, and `0.1` as one float: both are split back.

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface PostfixParser extends SubscriptParser {
  peekToken(): Token | null;
  nextToken(): Token;
  pushToken(t: Token): void;
  parseSignature(): unknown;
  fail(msg: string, lineno?: number, colno?: number): never;
}
interface Nodes {
  FunCall: new (l: number, c: number, name: unknown, args: unknown) => unknown;
  LookupVal: new (l: number, c: number, target: unknown, val: unknown) => unknown;
  Literal: new (l: number, c: number, value: unknown) => unknown;
}
const { lexer, nodes, parser } = nunjucks as unknown as {
  lexer: Record<string, string>;
  nodes: Nodes;
  parser: { Parser: { prototype: Record<string, unknown> } };
};

parser.Parser.prototype.parsePostfix = function (this: PostfixParser, start: unknown) {
  let node = start;
  let tok = this.peekToken();
  const lookup = (t: Token, value: unknown) =>
    (node = new nodes.LookupVal(t.lineno, t.colno, node, new nodes.Literal(t.lineno, t.colno, value)));
  while (tok) {
    if (tok.type === lexer.TOKEN_LEFT_PAREN) {
      node = new nodes.FunCall(tok.lineno, tok.colno, node, this.parseSignature());
    } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
      node = parseSubscript(this, node, tok);
    } else if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.') {
      this.nextToken();
      const val = this.nextToken();
      if (val.type === lexer.TOKEN_SYMBOL) lookup(val, val.value);
      else if (val.type === lexer.TOKEN_INT) lookup(val, Number(val.value));
      else if (val.type === lexer.TOKEN_FLOAT) {
        const [whole, fraction] = val.value.split('.');
        lookup(val, Number(whole));
        if (fraction) lookup(val, Number(fraction));
        // `item.0.name`: the dot went into the float; give it back before the name.
        else this.pushToken({ type: lexer.TOKEN_OPERATOR, value: '.', lineno: val.lineno, colno: val.colno });
      } else this.fail(`expected name as lookup value, got ${val.value}`, val.lineno, val.colno);
    } else break;
    tok = this.peekToken();
  }
  return node;
};
