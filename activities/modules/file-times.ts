import { shellQuote } from '../ssh/quote';
import type { Remote } from '../remote';

// The file module's modification_time and access_time. `now` is a change every run, as in
// Ansible (a touch always reports changed); an explicit time is a change only when the path's
// time differs; `preserve` leaves the time alone.

export interface TimeWanted {
  /** touch's flag for the time it sets. */
  flag: '-m' | '-a';
  what: 'modification time' | 'access time';
  /** `now`, or a time in touch -t form. */
  value: string;
}

/** Pure: which times a file task sets, with Ansible's defaults (now for touch, else preserve). */
export function wantedTimes(a: {
  state: string;
  modification_time?: string;
  access_time?: string;
}): TimeWanted[] {
  const fallback = a.state === 'touch' ? 'now' : 'preserve';
  const out: TimeWanted[] = [];
  const m = a.modification_time ?? fallback;
  const at = a.access_time ?? fallback;
  if (m !== 'preserve') out.push({ flag: '-m', what: 'modification time', value: m });
  if (at !== 'preserve') out.push({ flag: '-a', what: 'access time', value: at });
  return out;
}

/** Pure: a script that sets each wanted time that differs and prints the flag of each it set (or would). */
export function timesScript(path: string, times: TimeWanted[], check: boolean): string {
  const p = shellQuote(path);
  const lines = ['set -e', 'ref=$(mktemp)', 'trap \'rm -f "$ref"\' EXIT'];
  for (const t of times) {
    const field = t.flag === '-m' ? '%Y' : '%X';
    const set = check
      ? ''
      : `touch ${t.flag} ${t.value === 'now' ? '' : `-t ${shellQuote(t.value)} `}-- ${p}; `;
    if (t.value === 'now') lines.push(`${set}echo ${t.flag}`);
    else
      lines.push(
        `touch -t ${shellQuote(t.value)} -- "$ref"`,
        `if [ "$(stat -c ${field} -- ${p})" != "$(stat -c ${field} -- "$ref")" ]; then ${set}echo ${t.flag}; fi`,
      );
  }
  return lines.join('\n');
}

/** Sets the wanted times that differ; returns what it changed (or would, in check mode). */
export async function setTimes(
  remote: Remote,
  path: string,
  times: TimeWanted[],
  check: boolean,
): Promise<string[]> {
  if (!times.length) return [];
  const out = await remote.must(timesScript(path, times, check), `setting times of ${path}`);
  const set = out.stdout.split('\n').map((l) => l.trim());
  return times.filter((t) => set.includes(t.flag)).map((t) => `${t.what} ${t.value}`);
}
