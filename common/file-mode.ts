import { z } from 'zod';

// File modes as Ansible's modules read them. Workflow-safe: schema and pure functions only.
//
// A number is the mode's value (YAML 1.1 reads an unquoted 0644 as 420 == 0o644), a string of
// octal digits is octal ("0644", "644", "01777"), anything else is a chmod-style symbolic mode
// ("u=rw,g=r,o=r", "a+rX") applied to the file's current mode.

/** A mode once validated: a number is the whole mode, a string is a symbolic mode to apply. */
export type FileMode = number | string;

const MAX_MODE = 0o7777;
const OCTAL = /^(?:0o)?[0-7]+$/i;
/** One comma-separated clause: who, then one or more operator+permissions (`u=rw-x+X`). */
const CLAUSE = /^[ugoa]*(?:[-+=][rwxXstugo]*)+$/;
const OPERATION = /([-+=])([rwxXstugo]*)/g;

const invalid = (shown: string, why: string) => `mode ${shown} is not a valid file mode (${why})`;

/** Why a mode as written cannot be used, or undefined when it can. */
function problem(value: number | string): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_MODE) {
      const octal = Number.isInteger(value) && value >= 0 ? `octal ${value.toString(8)}; ` : '';
      return invalid(String(value), `${octal}a mode is at most 07777`);
    }
    return undefined;
  }
  const text = value.trim();
  if (OCTAL.test(text)) {
    return parseInt(text.replace(/^0o/i, ''), 8) > MAX_MODE
      ? invalid(JSON.stringify(value), 'a mode is at most 07777')
      : undefined;
  }
  // Ansible skips an empty clause (a trailing comma); an empty mode is surely a mistake.
  if (text === '' || !text.split(',').every((c) => c === '' || CLAUSE.test(c)))
    return invalid(JSON.stringify(value), 'give octal like "0644" or symbolic like "u=rw,g=r,o=r"');
  return undefined;
}

/** `mode:` of modules and of the cluster spec: checked here, so a bad mode fails before any host changes. */
export const FileModeSchema = z.union([z.number(), z.string()]).transform((value, ctx): FileMode => {
  const why = problem(value);
  if (why) {
    ctx.addIssue({ code: 'custom', message: why });
    return z.NEVER;
  }
  if (typeof value === 'number') return value;
  const text = value.trim();
  return OCTAL.test(text) ? parseInt(text.replace(/^0o/i, ''), 8) : text;
});

type Who = 'u' | 'g' | 'o';
const SHIFT: Record<Who, number> = { u: 6, g: 3, o: 0 };
const SPECIAL: Record<Who, { s: number; t: number }> = {
  u: { s: 0o4000, t: 0 },
  g: { s: 0o2000, t: 0 },
  o: { s: 0, t: 0o1000 },
};

/** The bits one permission letter stands for, for one class of user, as Ansible computes them. */
function bitsFor(who: Who, perm: string, before: number, isDir: boolean, umaskFrom: number): number {
  const shift = SHIFT[who];
  switch (perm) {
    case 'r':
    case 'w':
    case 'x': {
      const bit = { r: 4, w: 2, x: 1 }[perm] << shift;
      return bit & ~umaskFrom;
    }
    // X: execute only for a directory or a file that some class may already execute.
    case 'X':
      return isDir || (before & 0o111) !== 0 ? 1 << shift : 0;
    case 's':
    case 't':
      return SPECIAL[who][perm];
    default: {
      // u, g or o: copy that class's permissions (of the mode before this mode string).
      const rwx = (before >> SHIFT[perm as Who]) & 0o7;
      return rwx << shift;
    }
  }
}

/**
 * The mode a file ends with when `mode` is applied to it. Relative parts (`+`, `-`, `X`, `g=u`)
 * read the mode the file had before the whole string, as Ansible does (chmod(1) would read it
 * clause by clause). Without a user class (`+x`) the host's umask is respected, as chmod does.
 */
export function applyMode(current: number, mode: FileMode, isDir: boolean, umask = 0o022): number {
  if (typeof mode === 'number') return mode;
  const before = current & MAX_MODE;
  let result = before;
  for (const clause of mode.split(',')) {
    if (clause === '') continue;
    if (!CLAUSE.test(clause)) throw new Error(invalid(JSON.stringify(mode), `cannot read "${clause}"`));
    const users = /^[ugoa]*/.exec(clause)![0];
    const classes: Who[] =
      users === '' || users.includes('a') ? ['u', 'g', 'o'] : [...new Set(users)].map((u) => u as Who);
    const umaskFrom = users === '' ? umask : 0;
    for (const [, op, perms] of clause.slice(users.length).matchAll(OPERATION)) {
      for (const who of classes) {
        const bits = [...perms].reduce((m, p) => m | bitsFor(who, p, before, isDir, umaskFrom), 0);
        if (op === '+') result |= bits;
        else if (op === '-') result &= ~bits;
        else result = (result & ~((0o7 << SHIFT[who]) | SPECIAL[who].s | SPECIAL[who].t)) | bits;
      }
    }
  }
  return result & MAX_MODE;
}

/** How Ansible shows a mode (`0644`, `02775`): in messages and diffs. */
export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/**
 * The argument for chmod(1). Five digits, because GNU chmod keeps a directory's setuid/setgid bits
 * for a shorter numeric mode: `chmod 755` on a 2755 directory leaves 2755, `chmod 00755` gives 755.
 */
export function chmodArgument(mode: number): string {
  return `0${mode.toString(8).padStart(4, '0')}`;
}
