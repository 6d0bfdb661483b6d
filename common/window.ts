import { WEEKDAYS, type MaintenanceWindow } from './lb';

// Maintenance windows in the operator's time zone. Workflow-safe: only Intl and arithmetic, fed
// the workflow's own clock, so a replay computes the same waits.

interface LocalTime {
  day: number; // 0 = mon
  minute: number; // minutes since local midnight
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(at: number, timezone: string): LocalTime {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return {
    day: WEEKDAYS.indexOf(parts.weekday.toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number]),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
  };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Inside the window at `at`? A window over midnight belongs to the day it starts on. */
export function insideWindow(at: number, w: MaintenanceWindow): boolean {
  const t = localTime(at, w.timezone);
  const start = minutes(w.start);
  const end = minutes(w.end);
  const on = (day: number) => w.days.includes(WEEKDAYS[(day + 7) % 7]);
  if (start < end) return on(t.day) && t.minute >= start && t.minute < end;
  return (on(t.day) && t.minute >= start) || (on(t.day - 1) && t.minute < end);
}

/** The UTC instant of a wall-clock time in `timezone` (after the gap if the clocks skip it, the first if it repeats). */
function zonedInstant(y: number, mo: number, d: number, minute: number, timezone: string): number {
  const wall = Date.UTC(y, mo, d, 0, minute);
  let guess = wall;
  // Two rounds settle the offset, also when the guess and the answer sit on opposite sides of a change.
  for (let i = 0; i < 2; i++) guess = wall - (localWall(guess, timezone) - guess);
  // A wall time that happens twice (clocks going back): the first one.
  const hourEarlier = guess - 3_600_000;
  return localWall(hourEarlier, timezone) === wall ? hourEarlier : guess;
}

/** The wall-clock time at `at` in `timezone`, read as if it were UTC. */
const wallFormatters = new Map<string, Intl.DateTimeFormat>();

function localWall(at: number, timezone: string): number {
  const f =
    wallFormatters.get(timezone) ??
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  wallFormatters.set(timezone, f);
  const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (at % 1000);
}

/** Milliseconds until the window next opens (0 inside it), correct across DST changes. */
export function msUntilWindow(at: number, w: MaintenanceWindow): number {
  if (insideWindow(at, w)) return 0;
  const start = minutes(w.start);
  const today = new Date(localWall(at, w.timezone));
  // The window's start on each of the next eight local days; the first one after now that counts.
  for (let d = 0; d <= 8; d++) {
    const opens = zonedInstant(
      today.getUTCFullYear(),
      today.getUTCMonth(),
      today.getUTCDate() + d,
      start,
      w.timezone,
    );
    if (opens > at && insideWindow(opens, w)) return opens - at;
  }
  throw new Error(`the maintenance window ${w.days.join(',')} ${w.start}-${w.end} ${w.timezone} never opens`);
}
