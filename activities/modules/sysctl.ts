import type { z } from 'zod';
import type { SysctlArgs } from '../../common/modules';
import { shellJoin, shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

// `sysctl` (ansible.posix): a kernel parameter in a sysctl file (default /etc/sysctl.conf), then
// `sysctl -p` of that file when something changed (reload), and the running value set directly
// with `sysctl -w` when sysctl_set is on. Decided as ansible.posix decides it, down to its quirks:
// the file is rewritten as `key=value` lines, stripped, each key once; with reload on, a running
// value that differs from the file is a change even when the file is right.

type Sysctl = z.infer<typeof SysctlArgs>;

const TRUE = ['y', 'yes', 'on', '1', 'true', 't'];
const FALSE = ['n', 'no', 'off', '0', 'false', 'f'];

/** ansible.posix's reading of `value`: booleans as 1/0, anything else trimmed. */
export function sysctlValue(value: string | undefined): string {
  if (value === undefined) return '';
  if (TRUE.includes(value.toLowerCase())) return '1';
  if (FALSE.includes(value.toLowerCase())) return '0';
  return value.trim();
}

/** Two values the same word for word (`4096 87380  6291456` equals `4096\t87380\t6291456`). */
const sameWords = (a: string, b: string) =>
  a.split(/\s+/).filter(Boolean).join(' ') === b.split(/\s+/).filter(Boolean).join(' ');

export interface SysctlPlan {
  changed: boolean;
  /** The file's new text, when it is to be written. */
  file?: string;
  /** Set the running value with `sysctl -w`. */
  setRunning: boolean;
  /** Run `sysctl -p <file>` afterwards. */
  reload: boolean;
  value: string;
}

const setting = (line: string) => {
  if (!line || line.startsWith('#') || line.startsWith(';') || !line.includes('=')) return undefined;
  const at = line.indexOf('=');
  return { key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() };
};

/**
 * Pure: what to do, given the file's text (undefined: no file) and the running value (undefined:
 * `sysctl -n` failed).
 */
export function planSysctl(
  text: string | undefined,
  running: string | undefined,
  a: Pick<Sysctl, 'name' | 'value' | 'state' | 'reload' | 'sysctl_set'>,
): SysctlPlan {
  const value = sysctlValue(a.value);
  const lines = text
    ? text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => l.trim())
    : [];
  let inFile: string | undefined;
  for (const l of lines) {
    const s = setting(l);
    if (s?.key === a.name) inFile = s.value;
  }
  const seen = new Set<string>();
  const fixed: string[] = [];
  for (const l of lines) {
    const s = setting(l);
    if (!s) fixed.push(l);
    else if (!seen.has(s.key)) {
      seen.add(s.key);
      if (s.key !== a.name) fixed.push(`${s.key}=${s.value}`);
      else if (a.state === 'present') fixed.push(`${s.key}=${value}`);
    }
  }
  if (!seen.has(a.name) && a.state === 'present') fixed.push(`${a.name}=${value}`);

  let changed = false;
  let write = false;
  if (inFile === undefined) {
    if (a.state === 'present') changed = write = true;
  } else if (a.state === 'absent') {
    if (inFile) changed = write = true;
  } else if (inFile !== value) {
    changed = write = true;
  } else if (a.reload && (running === undefined || !sameWords(running, value))) {
    changed = true;
  }
  let setRunning = false;
  if (a.sysctl_set && a.state === 'present') {
    if (running === undefined) changed = true;
    else if (!sameWords(running, value)) changed = setRunning = true;
  }
  return {
    changed,
    file: write ? fixed.map((l) => `${l}\n`).join('') : undefined,
    setRunning,
    reload: changed && a.reload,
    value,
  };
}

/** Pure: reads the file (as its real path: a link is written through), and the running value. */
export function sysctlReadScript(a: Pick<Sysctl, 'name' | 'sysctl_file'>): string {
  const f = shellQuote(a.sysctl_file);
  return [
    'export LC_ALL=C',
    'command -v sysctl >/dev/null || { echo \'Failed to find required executable "sysctl"\' >&2; exit 127; }',
    `readlink -f -- ${f} || echo ${f}`,
    `if [ -f ${f} ]; then printf 'file '; base64 -w0 -- ${f}; echo; else echo nofile; fi`,
    `if v=$(sysctl -e -n ${shellQuote(a.name)} 2>/dev/null); then printf 'running '; printf '%s' "$v" | base64 -w0; echo; else echo norunning; fi`,
  ].join('\n');
}

export function parseSysctlRead(out: string): { real: string; text?: string; running?: string } {
  const [real, file, running] = out.split('\n');
  const decoded = (line: string, tag: string) =>
    line?.startsWith(`${tag} `)
      ? Buffer.from(line.slice(tag.length + 1), 'base64').toString('utf8')
      : undefined;
  return { real, text: decoded(file, 'file'), running: decoded(running, 'running') };
}

/** sysctl may exit 0 and still not have set a key; ansible.posix reads these from stderr. */
const SET_FAILED = /^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$/m;

export const sysctl: ModuleRunner<Sysctl> = async (ctx, a) => {
  const read = await ctx.remote.run(sysctlReadScript(a));
  if (read.exitCode !== 0) return failed((read.stderr || read.stdout).trim());
  const current = parseSysctlRead(read.stdout);
  const plan = planSysctl(current.text, current.running, a);
  const what = a.state === 'absent' ? `remove ${a.name}` : `set ${a.name}=${plan.value}`;
  if (!plan.changed) return ok(`${a.name} is as wanted`);
  const diff =
    plan.file !== undefined
      ? { path: a.sysctl_file, before: current.text ?? '', after: plan.file }
      : undefined;
  if (ctx.check) return changed(ctx, what, diff);
  const e = a.ignoreerrors ? ['-e'] : [];
  if (plan.setRunning) {
    const r = await ctx.remote.run(
      `export LC_ALL=C\n${shellJoin(['sysctl', ...e, '-w', `${a.name}=${plan.value}`])}`,
    );
    if (r.exitCode !== 0 || SET_FAILED.test(r.stderr))
      return failed(`setting ${a.name} failed: ${r.stdout}${r.stderr}`);
  }
  if (plan.file !== undefined) await ctx.remote.writeFile(current.real, plan.file, {});
  if (plan.reload) {
    const r = await ctx.remote.run(`export LC_ALL=C\n${shellJoin(['sysctl', ...e, '-p', a.sysctl_file])}`);
    if (r.exitCode !== 0 || SET_FAILED.test(r.stderr))
      return failed(`Failed to reload sysctl: ${r.stdout}${r.stderr}`);
  }
  return changed(ctx, what, diff);
};
