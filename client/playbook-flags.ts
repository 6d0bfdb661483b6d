import { readFileSync } from 'node:fs';
import type { PlayInput } from '../common/play';
import { parseAnsibleYaml } from './yaml';
import { readVarsText } from './vault';

// ansible-playbook's flags, read as ansible-playbook reads them, so a command line an operator
// already has means the same here.

export class ExtraVarsError extends Error {}

export type Vars = Record<string, unknown>;

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function asMapping(value: unknown, what: string): Vars {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ExtraVarsError(`${what}: extra vars must be a mapping of names to values`);
  return value as Vars;
}

/**
 * Splits `a=1 b="two words" c={{ x | default(1) }}` at blanks outside quotes and Jinja braces;
 * quotes stay in the word, as in Ansible's split_args, and are taken off the value later.
 */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let jinja = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const pair = text.slice(i, i + 2);
    if (quote) {
      if (c === '\\' && i + 1 < text.length) {
        word += text.slice(i, i + 2);
        i++;
        continue;
      }
      if (c === quote) quote = undefined;
    } else if (pair === '{{' || pair === '{%') {
      jinja++;
      word += pair;
      i++;
      continue;
    } else if ((pair === '}}' || pair === '%}') && jinja > 0) {
      jinja--;
      word += pair;
      i++;
      continue;
    } else if (jinja === 0 && (c === '"' || c === "'")) {
      quote = c;
    } else if (jinja === 0 && /\s/.test(c)) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    word += c;
  }
  if (quote) throw new ExtraVarsError(`-e "${text}": unbalanced ${quote}`);
  if (word) words.push(word);
  return words;
}

function unquote(value: string): string {
  const q = value[0];
  return value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q) ? value.slice(1, -1) : value;
}

/** `key=value` words; every value is a string, as ansible-playbook gives it. */
function parseKeyValues(text: string): Vars {
  const vars: Vars = {};
  for (const word of splitWords(text)) {
    const eq = word.indexOf('=');
    if (eq <= 0)
      throw new ExtraVarsError(`-e "${text}": "${word}" is not key=value (or give JSON/YAML, or @file)`);
    const key = word.slice(0, eq);
    if (!VAR_NAME.test(key))
      throw new ExtraVarsError(`-e "${text}": "${key}" is not a variable name (letters, digits, _)`);
    vars[key] = unquote(word.slice(eq + 1));
  }
  return vars;
}

/** One `-e` argument: `@file` (YAML or JSON), an inline JSON/YAML mapping, or `key=value` words. */
export function parseExtraVarsArgument(arg: string): Vars {
  if (arg.startsWith('@')) {
    const file = arg.slice(1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ExtraVarsError(
        `-e @${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    try {
      return asMapping(readVarsText(text), `-e @${file}`);
    } catch (err) {
      if (err instanceof ExtraVarsError) throw err;
      throw new ExtraVarsError(`-e @${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const trimmed = arg.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = parseAnsibleYaml(trimmed);
    } catch (err) {
      throw new ExtraVarsError(`-e '${arg}': ${(err as Error).message.split('\n')[0]}`);
    }
    return asMapping(value, `-e '${arg}'`);
  }
  return parseKeyValues(trimmed);
}

/** Every `-e` in order; a later one replaces the same top-level name of an earlier one. */
export function parseExtraVars(args: readonly string[]): Vars {
  return Object.assign({}, ...args.map(parseExtraVarsArgument)) as Vars;
}

/** `-t a,b -t c`: the union, as ansible-playbook takes repeated and comma-separated tags. */
export function tagList(values: readonly string[]): string[] {
  return [
    ...new Set(
      values
        .flatMap((v) => v.split(','))
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * --skip-tags: tasks carrying any of `skip` are left out before the workflow starts; `always`
 * tasks too when `always` itself is skipped, as in ansible-playbook.
 */
export function skipTagged(input: PlayInput, skip: readonly string[]): PlayInput {
  if (skip.length === 0) return input;
  return {
    ...input,
    plays: input.plays.map((play) => {
      const kept: number[] = [];
      play.tasks.forEach((task, i) => {
        if (!task.tags.some((t) => skip.includes(t))) kept.push(i);
      });
      // A flush point stays after the last task still there at or before it.
      const flushAfter = [
        ...new Set(
          (play.flushAfter ?? [])
            .map((f) => kept.filter((i) => i <= f).length - 1)
            .filter((i) => i >= 0 && i < kept.length - 1),
        ),
      ];
      const rest = { ...play };
      delete rest.flushAfter;
      return {
        ...rest,
        tasks: kept.map((i) => play.tasks[i]),
        ...(flushAfter.length ? { flushAfter } : {}),
      };
    }),
  };
}

/** Commander's collector for a flag that may be given more than once. */
export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
