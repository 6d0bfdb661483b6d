import nunjucks from 'nunjucks';
import { truthy } from './jinja-ansible';
import type { Condition, TaskControl } from './task-control';
import { expressionValue, renderArgs, renderTemplate, type Vars } from './templates';
import { isWithLookup, lookupLoopItems } from './lookup-loops';

// Ansible's conditions and loops, evaluated: whether a `when` (or `until`, `changed_when`,
// `failed_when`, `that`) holds, and what a loop iterates over. The activity runs them on the
// worker, with the host's variables.

interface AstNode {
  typename: string;
  fields: string[];
  value?: unknown;
  [field: string]: unknown;
}

// nunjucks' parser is part of its API, though its type declarations omit it.
const parser = (nunjucks as unknown as { parser: { parse(src: string): unknown } }).parser;

const UNDEFINED_SAFE_TESTS = ['defined', 'undefined'];
const UNDEFINED_SAFE_FILTERS = ['default', 'd', 'mandatory'];

/**
 * The variables an expression reads that the host does not have. Jinja2 would compare such a
 * value quietly (`missing == 1` is false); ansible-core refuses the condition instead, and so do
 * we, except where the expression asks (`is defined`, `| default(…)`).
 */
export function undefinedNames(
  expression: string,
  vars: Vars,
  globals: string[] = ['range', 'lookup', 'query', 'q', 'omit', 'True', 'False', 'None'],
): string[] {
  const found = new Set<string>();
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const node = n as AstNode;
    if (!Array.isArray(node.fields)) return;
    switch (node.typename) {
      case 'Symbol': {
        const name = String(node.value);
        if (!Object.hasOwn(vars, name) && !globals.includes(name)) found.add(name);
        return;
      }
      case 'Is': {
        const right = node.right as AstNode;
        const test = right.typename === 'FunCall' ? (right.name as AstNode).value : right.value;
        if (UNDEFINED_SAFE_TESTS.includes(String(test))) return;
        walk(node.left);
        if (right.typename === 'FunCall') walk(right.args);
        return;
      }
      case 'Filter': {
        const args = ((node.args as AstNode).children as unknown[]) ?? [];
        const name = String((node.name as AstNode).value);
        args.forEach((a, i) => (i === 0 && UNDEFINED_SAFE_FILTERS.includes(name) ? undefined : walk(a)));
        return;
      }
      case 'FunCall':
        if ((node.name as AstNode).typename !== 'Symbol') walk(node.name);
        walk(node.args);
        return;
      case 'KeywordArgs':
        // name=value arguments: the names are the callee's, only the values are read.
        for (const pair of (node.children as AstNode[]) ?? []) walk(pair.value);
        return;
      case 'LookupVal':
        walk(node.target);
        if ((node.val as AstNode)?.typename !== 'Literal') walk(node.val);
        return;
    }
    for (const f of node.fields) {
      const child = node[f];
      if (Array.isArray(child)) child.forEach(walk);
      else walk(child);
    }
  };
  walk(parsed(expression));
  return [...found];
}

// A condition is evaluated per host and per loop item: parse each expression once.
const ASTS = new Map<string, unknown>();
function parsed(expression: string): unknown {
  let ast = ASTS.get(expression);
  if (ast === undefined) {
    ast = parser.parse(`{{ (${expression}) }}`);
    if (ASTS.size >= 1000) ASTS.clear();
    ASTS.set(expression, ast);
  }
  return ast;
}

/** Ansible evaluates a bare expression; a templated one (`"{{ x }}"`) works too, with a warning. */
export function conditionHolds(conditions: Condition[] | undefined, vars: Vars): boolean {
  for (const c of conditions ?? []) {
    if (typeof c === 'boolean') {
      if (!c) return false;
      continue;
    }
    const text = c.trim();
    const bare = text.replace(/^\{\{(.*)\}\}$/s, '$1');
    const missing = undefinedNames(bare, vars);
    if (missing.length) throw new Error(`'${missing[0]}' is undefined`);
    const value = /^\{\{.*\}\}$/s.test(text) ? renderArgs(text, vars) : expressionValue(text, vars);
    // A condition that renders to the text "False" (from a templated one) is false, as in Ansible.
    if (typeof value === 'string' ? /^(false|no|off|0|)$/i.test(value.trim()) : !truthy(value)) return false;
  }
  return true;
}

/** The first condition that does not hold, for the skip message (`false_condition` in Ansible). */
export function falseCondition(conditions: Condition[] | undefined, vars: Vars): Condition | undefined {
  return (conditions ?? []).find((c) => !conditionHolds([c], vars));
}

/** The items a loop runs over: a list, a mapping's entries for `with_dict`, a lookup's for `with_<lookup>`. */
export function loopItems(loop: NonNullable<TaskControl['loop']>, vars: Vars): unknown[] {
  if (isWithLookup(loop.kind)) return lookupLoopItems(loop.kind, loop.items, vars);
  const items = renderArgs(loop.items, vars);
  if (loop.kind === 'with_dict') {
    if (!items || typeof items !== 'object' || Array.isArray(items))
      throw new Error(`with_dict expects a mapping, got ${JSON.stringify(items)}`);
    return Object.entries(items).map(([key, value]) => ({ key, value }));
  }
  if (typeof items === 'string')
    throw new Error(`${loop.kind} expects a list, got the text ${JSON.stringify(items)}`);
  if (!Array.isArray(items)) throw new Error(`${loop.kind} expects a list, got ${JSON.stringify(items)}`);
  // with_items flattens one level, as Ansible's lookup does; loop does not.
  return loop.kind === 'with_items' ? items.flat(1) : items;
}

/** What a loop result shows for its item: the label, rendered, or the item itself. */
export function itemLabel(control: TaskControl, vars: Vars, item: unknown): unknown {
  return control.label ? renderTemplate(control.label, vars) : item;
}
