// Ansible's older task forms, as roles in the wild still write them: `apt: name=nginx
// state=present` (key=value arguments), `action: copy src=a dest=b` (the module named inside),
// and `args:` beside a free-form command. Each becomes the one mapping a module takes.

/**
 * Splits a line into words as Ansible's split_args does: quotes group, and are removed; a Jinja
 * expression (`{{ pkgs | join(' ') }}`) stays one piece of its word, its quotes and blanks kept.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  let jinja = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const pair = text.slice(i, i + 2);
    if (pair === '{{' || pair === '{%') {
      jinja++;
      word += pair;
      i++;
    } else if (jinja > 0 && (pair === '}}' || pair === '%}')) {
      jinja--;
      word += pair;
      i++;
    } else if (jinja > 0) word += c;
    else if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else word += c;
  }
  if (quote) throw new Error(`unbalanced ${quote} quote in "${text}"`);
  if (jinja > 0) throw new Error(`unclosed {{ in "${text}"`);
  if (started || word) words.push(word);
  return words;
}

/** `k=v k2="v 2"` as a mapping; a word without `=` is an error naming it. */
export function keyValueArgs(text: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const w of splitWords(text)) {
    const i = w.indexOf('=');
    if (i <= 0) throw new Error(`"${w}" is not key=value`);
    args[w.slice(0, i)] = w.slice(i + 1);
  }
  return args;
}

// The parameters a free-form command may carry inline (`command: make creates=/x`).
const COMMAND_PARAMS = ['creates', 'removes', 'chdir', 'stdin'];

/** A free-form command line with its inline parameters taken out. */
export function commandArgs(text: string): Record<string, unknown> {
  const inline = splitWords(text).filter((w) => COMMAND_PARAMS.some((p) => w.startsWith(`${p}=`)));
  if (!inline.length) return { cmd: text };
  let cmd = text;
  const args: Record<string, unknown> = {};
  for (const w of inline) {
    const i = w.indexOf('=');
    args[w.slice(0, i)] = w.slice(i + 1);
    // Only the parameter words go: the command keeps its own quoting.
    cmd = cmd.replace(new RegExp(`(^|\\s)${w.slice(0, i)}=("[^"]*"|'[^']*'|\\S+)`), ' ');
  }
  return { ...args, cmd: cmd.trim() };
}

/**
 * A task's `action:` as the module it names and the rest of its arguments: `action: copy src=a`
 * or `action: { module: copy, src: a }`.
 */
export function actionForm(action: unknown): { module: string; args: unknown } {
  if (typeof action === 'string') {
    const text = action.trim();
    const space = text.search(/\s/);
    return space < 0
      ? { module: text, args: {} }
      : { module: text.slice(0, space), args: text.slice(space + 1) };
  }
  if (action && typeof action === 'object' && !Array.isArray(action)) {
    const { module, ...rest } = action as Record<string, unknown>;
    if (typeof module === 'string') return { module, args: rest };
  }
  throw new Error('action: a module name with its arguments, or a mapping with module:');
}
