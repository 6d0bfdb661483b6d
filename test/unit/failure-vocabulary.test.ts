import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FAILURES, FailureTypes, innermostCause, nonRetryableFailureTypes } from '../../common/errors';

// One failure vocabulary: every type a throw site raises, and every retry policy, comes from
// common/errors.ts. A type spelled out as a string somewhere else would escape the retry policy
// and the meaning the operator reads.

const root = path.join(__dirname, '../..');
const sourceDirs = ['activities', 'workflows', 'common', 'client', 'worker'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

const files = sourceDirs.flatMap((d) => sources(path.join(root, d)));
const where = (file: string, text: string, index: number) =>
  `${path.relative(root, file)}:${text.slice(0, index).split('\n').length}`;

/** The second top-level argument of a call's argument text. */
function secondArgument(args: string): string {
  let depth = 0;
  let quote = '';
  const commas: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) commas.push(i);
  }
  return args.slice((commas[0] ?? args.length) + 1, commas[1] ?? args.length).trim();
}

describe('the failure vocabulary', () => {
  it('names the type of every ApplicationFailure thrown, from common/errors.ts', () => {
    const bad: string[] = [];
    let throwSites = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/ApplicationFailure\.(?:nonRetryable|retryable)\(/g)) {
        throwSites++;
        // the call's arguments, up to its closing parenthesis
        let depth = 1;
        let i = (m.index ?? 0) + m[0].length;
        const start = i;
        while (depth > 0 && i < text.length) {
          if (text[i] === '(') depth++;
          else if (text[i] === ')') depth--;
          i++;
        }
        const type = secondArgument(text.slice(start, i - 1));
        const named = /^FailureTypes\.(\w+)$/.exec(type);
        // or a lookup in a map typed as the vocabulary (host-key verdicts)
        const map = /^(\w+)\[[^\]]+\]$/.exec(type);
        const typedMap = map && new RegExp(`const ${map[1]}: Record<.*, FailureType> =`).test(text);
        if (!(named && named[1] in FAILURES) && !typedMap)
          bad.push(`${where(file, text, m.index ?? 0)}: ${type}`);
      }
    }
    expect(throwSites).toBeGreaterThan(40);
    expect(bad).toEqual([]);
  });

  it('has no failure type spelled as a string outside common/errors.ts', () => {
    const names = Object.keys(FAILURES);
    const pattern = new RegExp(`['"\`](${names.join('|')})['"\`]`, 'g');
    const found = files
      .filter((f) => !f.endsWith(path.join('common', 'errors.ts')))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        return [...text.matchAll(pattern)].map((m) => `${where(file, text, m.index ?? 0)}: ${m[0]}`);
      });
    expect(found).toEqual([]);
  });

  it("builds every workflow's retry policy from the vocabulary", () => {
    const lists = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/nonRetryableErrorTypes:\s*([^,\n}]+)/g)].map((m) => [
        where(file, text, m.index ?? 0),
        m[1].trim(),
      ]);
    });
    expect(lists.length).toBeGreaterThan(5);
    expect(lists.filter(([, list]) => list !== 'nonRetryableFailureTypes')).toEqual([]);
  });

  it('retries only what a retry can help', () => {
    expect(nonRetryableFailureTypes).toContain(FailureTypes.HostKeyChanged);
    expect(nonRetryableFailureTypes).toContain(FailureTypes.CommandFailed);
    expect(nonRetryableFailureTypes).not.toContain(FailureTypes.HostUnreachable);
    expect(nonRetryableFailureTypes).not.toContain(FailureTypes.DatabaseUnreachable);
    expect(nonRetryableFailureTypes).not.toContain(FailureTypes.LicenseServiceUnavailable);
    for (const [name, kind] of Object.entries(FAILURES))
      expect([name, kind.meaning.length > 10]).toEqual([name, true]);
  });

  it('finds the innermost cause through activity and child workflow wrappers', () => {
    const inner = Object.assign(new Error('cxdb2: mysqld did not start'), { type: 'CommandFailed' });
    const activity = Object.assign(new Error('Activity task failed'), { cause: inner });
    const child = Object.assign(new Error('Child Workflow execution failed'), { cause: activity });
    expect(innermostCause(child)).toEqual({ message: 'cxdb2: mysqld did not start', type: 'CommandFailed' });
    expect(innermostCause('plain')).toEqual({ message: 'plain' });
  });
});
