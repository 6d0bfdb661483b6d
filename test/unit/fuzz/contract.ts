/**
 * The contract every parser keeps under fuzzing: it returns a value, or throws one of its own
 * error classes with a message an operator can act on. Anything else (a TypeError from a missing
 * check, a stack overflow, the library's raw output) is a bug in the parser.
 */

type ErrorClass = abstract new (...args: never[]) => Error;

/** Text that only ever reaches a message by accident. */
const LEAKS: [RegExp, string][] = [
  [/TypeError|RangeError|ReferenceError|SyntaxError/, 'a JavaScript error name'],
  [/Cannot read propert/, 'a property read on undefined'],
  [/is not a function|is not iterable|is not an object/, 'a runtime type error'],
  [/Maximum call stack/, 'a stack overflow'],
  [/\n\s+at \S.*\(.*:\d+:\d+\)/, 'a stack trace'],
  [/"code"\s*:\s*"|"path"\s*:\s*\[/, 'raw zod JSON'],
];

/** Why a message breaks the contract, or undefined when it keeps it. */
export function messageProblem(message: string, names: string[]): string | undefined {
  if (!message.trim()) return 'the message is empty';
  const first = message.split('\n')[0];
  if (!names.some((n) => first.includes(n))) return `the first line names none of ${names.join(', ')}`;
  for (const [re, what] of LEAKS) if (re.test(message)) return `the message shows ${what}`;
  return undefined;
}

export interface Outcome<T> {
  value?: T;
  error?: Error;
  ms: number;
}

/**
 * Runs one parse and throws (so fast-check shrinks the input) unless it returned, or failed with
 * one of `accept` with a clean message whose first line names one of `names` (the input files),
 * within `maxMs`.
 */
export function keepsContract<T>(
  parse: () => T,
  options: { accept: ErrorClass[]; names: string[]; maxMs: number },
): Outcome<T> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { value: parse(), ms: 0 };
  } catch (err) {
    outcome = { error: err as Error, ms: 0 };
  }
  outcome.ms = performance.now() - started;
  const { error } = outcome;
  if (error) {
    if (!options.accept.some((c) => error instanceof c))
      throw new Error(
        `uncaught ${error?.constructor?.name ?? typeof error}: ${String(error?.message ?? error)}`,
      );
    const problem = messageProblem(error.message, options.names);
    if (problem) throw new Error(`${problem}: ${JSON.stringify(error.message)}`);
  }
  if (outcome.ms > options.maxMs)
    throw new Error(`one parse took ${Math.round(outcome.ms)} ms (bound ${options.maxMs} ms)`);
  return outcome;
}
