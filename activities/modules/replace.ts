import type { z } from 'zod';
import type { ReplaceArgs } from '../../common/modules';
import { failed, type ModuleRunner } from './context';
import { editFile } from './files';
import { PythonRegexError, pythonReplacer, pythonRegExp } from './python-regex';

// `replace`: every match of a Python regex in a file (MULTILINE, as ansible-core compiles it)
// replaced by a Python template (`\1`, `\g<name>`), optionally only in the part of the file
// between the first `after` match and the `before` match that follows it.

type Replace = z.infer<typeof ReplaceArgs>;

export interface Replacement {
  text: string;
  /** Matches replaced; 0 when nothing matched or every replacement left the text as it was. */
  count: number;
  msg: string;
}

/**
 * Pure: compiles the patterns once (a bad pattern throws PythonRegexError before any file is
 * read) and gives what `replace` makes of a file's text.
 */
export function planReplace(
  a: Pick<Replace, 'regexp' | 'replace' | 'after' | 'before'>,
): (text: string) => Replacement {
  // ansible-core's own section pattern: after, the shortest stretch up to before, DOTALL.
  const section =
    a.after && a.before
      ? `${a.after}(?P<subsection>.*?)${a.before}`
      : a.after
        ? `${a.after}(?P<subsection>.*)`
        : a.before
          ? `(?P<subsection>.*)${a.before}`
          : '';
  const sectionRe = section ? pythonRegExp(section, { dotall: true }, 'd') : undefined;
  const substitute = pythonReplacer(pythonRegExp(a.regexp, { multiline: true }), a.replace);
  return (text) => {
    let [start, end] = [0, text.length];
    if (sectionRe) {
      const m = sectionRe.exec(text);
      const span = m?.indices?.groups?.subsection;
      if (!span)
        return {
          text,
          count: 0,
          msg: `Pattern for before/after params did not match the given file: ${section}`,
        };
      [start, end] = span;
    }
    const part = text.slice(start, end);
    const r = substitute(part);
    if (r.count === 0 || r.text === part) return { text, count: 0, msg: '' };
    return {
      text: text.slice(0, start) + r.text + text.slice(end),
      count: r.count,
      msg: `${r.count} replacements made`,
    };
  };
}

export const replace: ModuleRunner<Replace> = async (ctx, a) => {
  let plan: (text: string) => Replacement;
  try {
    plan = planReplace(a);
  } catch (err) {
    if (err instanceof PythonRegexError)
      return failed(`Unable to process replace due to error: ${err.message}`);
    throw err;
  }
  let outcome: Replacement | undefined;
  const result = await editFile(
    ctx,
    a.path,
    { ...a, create: false, missing: `Path ${a.path} does not exist !` },
    (text) => (outcome = plan(text)).text,
  );
  if (result.failed || !outcome) return result;
  // Ansible's message for the content; an attribute-only change keeps editFile's.
  if (outcome.count > 0)
    return { ...result, rc: 0, msg: ctx.check ? `would make ${outcome.msg}` : outcome.msg };
  return { ...result, rc: 0, msg: result.changed ? result.msg : outcome.msg || result.msg };
};
