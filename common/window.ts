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

/** Milliseconds until the window next opens (0 inside it). Steps through DST changes correctly. */
export function msUntilWindow(at: number, w: MaintenanceWindow): number {
  const start = minutes(w.start);
  let t = at;
  // Jump to the next local start time; a jump lands off by the DST shift at most, so re-check.
  for (let i = 0; i < 32; i++) {
    if (insideWindow(t, w)) return t - at;
    const local = localTime(t, w.timezone);
    const wait = (start - local.minute + 1440) % 1440 || 1440;
    t += wait * 60_000 - local.second * 1000 - (t % 1000);
    // DST can put the wall clock at start - 60 min; step over it on the next round.
    if (!insideWindow(t, w) && localTime(t, w.timezone).minute !== start) t += 60_000;
  }
  throw new Error(`the maintenance window ${w.days.join(',')} ${w.start}-${w.end} ${w.timezone} never opens`);
}
