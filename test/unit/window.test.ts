import type { MaintenanceWindow } from '../../common/lb';
import { insideWindow, msUntilWindow } from '../../common/window';

const HOUR = 3_600_000;
const WORKDAYS: MaintenanceWindow['days'] = ['mon', 'tue', 'wed', 'thu', 'fri'];

const window = (
  timezone: string,
  days: MaintenanceWindow['days'],
  start: string,
  end: string,
): MaintenanceWindow => ({ timezone, days, start, end });

// January 2026: Wed 14, Fri 16, Sat 17, Sun 18, Mon 19. Berlin is UTC+1 in winter, UTC+2 in summer.
const utc = (month: number, day: number, hour: number, minute = 0, second = 0, ms = 0) =>
  Date.UTC(2026, month - 1, day, hour, minute, second, ms);

describe('inside a window', () => {
  const office = (tz: string) => window(tz, WORKDAYS, '09:00', '17:00');

  it("reads the clock in the window's time zone", () => {
    expect(insideWindow(utc(1, 14, 8, 30), office('Europe/Berlin'))).toBe(true);
    expect(insideWindow(utc(1, 14, 8, 30), office('UTC'))).toBe(false);
    expect(insideWindow(utc(1, 14, 16, 30), office('Europe/Berlin'))).toBe(false);
    expect(insideWindow(utc(1, 14, 16, 30), office('UTC'))).toBe(true);
  });

  it('includes the start minute and excludes the end minute, in summer time too', () => {
    const berlin = office('Europe/Berlin');
    expect(insideWindow(utc(7, 15, 6, 59, 59), berlin)).toBe(false);
    expect(insideWindow(utc(7, 15, 7, 0), berlin)).toBe(true);
    expect(insideWindow(utc(7, 15, 14, 59, 59), berlin)).toBe(true);
    expect(insideWindow(utc(7, 15, 15, 0), berlin)).toBe(false);
  });

  it('takes the weekday in the time zone: Friday 23:30 UTC is Saturday in Berlin', () => {
    expect(insideWindow(utc(1, 16, 23, 30), window('Europe/Berlin', ['sat'], '00:00', '02:00'))).toBe(true);
    expect(insideWindow(utc(1, 16, 23, 30), window('UTC', ['sat'], '00:00', '02:00'))).toBe(false);
  });

  it('lets a window over midnight belong to the day it starts on', () => {
    const saturdayNight = window('UTC', ['sat'], '22:00', '04:00');
    const at = (day: number, hour: number, minute = 0) =>
      insideWindow(utc(1, day, hour, minute), saturdayNight);
    expect(at(17, 21, 59)).toBe(false);
    expect(at(17, 22)).toBe(true);
    expect(at(17, 23)).toBe(true);
    expect(at(18, 3)).toBe(true);
    expect(at(18, 3, 59)).toBe(true);
    expect(at(18, 4)).toBe(false);
    // Saturday early morning is Friday's night, Sunday night is Sunday's.
    expect(at(17, 3)).toBe(false);
    expect(at(18, 22, 30)).toBe(false);
    expect(at(19, 3)).toBe(false);
    expect(insideWindow(utc(1, 19, 3), window('UTC', ['sat', 'sun'], '22:00', '04:00'))).toBe(true);
  });

  it('runs a Berlin window over midnight by the Berlin clock', () => {
    const saturdayNight = window('Europe/Berlin', ['sat'], '22:00', '04:00');
    expect(insideWindow(utc(1, 17, 20, 59), saturdayNight)).toBe(false);
    expect(insideWindow(utc(1, 17, 21, 0), saturdayNight)).toBe(true);
    expect(insideWindow(utc(1, 18, 2, 59), saturdayNight)).toBe(true);
    expect(insideWindow(utc(1, 18, 3, 0), saturdayNight)).toBe(false);
  });
});

describe('time until a window opens', () => {
  it('is 0 inside the window', () => {
    expect(msUntilWindow(utc(1, 14, 9, 0), window('UTC', WORKDAYS, '09:00', '17:00'))).toBe(0);
    expect(msUntilWindow(utc(1, 18, 3, 59, 59), window('UTC', ['sat'], '22:00', '04:00'))).toBe(0);
  });

  it('counts to the exact millisecond of the opening later the same day', () => {
    expect(msUntilWindow(utc(1, 14, 8, 15, 30, 250), window('UTC', WORKDAYS, '09:00', '17:00'))).toBe(
      44 * 60_000 + 29_750,
    );
  });

  it('waits for the next listed day once the window has closed', () => {
    const office = window('UTC', WORKDAYS, '09:00', '17:00');
    expect(msUntilWindow(utc(1, 14, 17, 0), office)).toBe(16 * HOUR);
    // Friday evening to Monday morning.
    expect(msUntilWindow(utc(1, 16, 17, 0), office)).toBe(64 * HOUR);
    // From the end of Saturday night to the next Saturday 22:00.
    expect(msUntilWindow(utc(1, 18, 4, 0), window('UTC', ['sat'], '22:00', '04:00'))).toBe(
      (6 * 24 + 18) * HOUR,
    );
  });

  it("counts to the opening by the window's own clock", () => {
    expect(msUntilWindow(utc(1, 14, 7, 0), window('Europe/Berlin', WORKDAYS, '09:00', '17:00'))).toBe(HOUR);
    expect(msUntilWindow(utc(1, 14, 7, 0), window('UTC', WORKDAYS, '09:00', '17:00'))).toBe(2 * HOUR);
  });

  // Berlin, Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC); from Saturday 12:00
  // CET (11:00 UTC) a Sunday window opens one real hour earlier than the wall clock says.
  it('opens on time on the day the clocks go forward', () => {
    const saturdayNoon = utc(3, 28, 11, 0);
    const sunday = (start: string, end: string) =>
      msUntilWindow(saturdayNoon, window('Europe/Berlin', ['sun'], start, end));
    expect({
      before: sunday('01:00', '05:00'), // 01:00 CET = 00:00 UTC
      atTheGap: sunday('03:00', '05:00'), // 03:00 CEST = 01:00 UTC
      morning: sunday('09:00', '10:00'), // 09:00 CEST = 07:00 UTC
    }).toEqual({ before: 13 * HOUR, atTheGap: 14 * HOUR, morning: 20 * HOUR });
  });

  it('is inside a Berlin window right after the skipped hour', () => {
    expect(insideWindow(utc(3, 29, 1, 0), window('Europe/Berlin', ['sun'], '03:00', '05:00'))).toBe(true);
    expect(insideWindow(utc(3, 29, 0, 59), window('Europe/Berlin', ['sun'], '03:00', '05:00'))).toBe(false);
  });

  // Berlin, Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); from Saturday 12:00
  // CEST (10:00 UTC) a Sunday window after the change opens one real hour later than the wall clock says.
  it('opens on time on the day the clocks go back', () => {
    const saturdayNoon = utc(10, 24, 10, 0);
    const sunday = (start: string, end: string) =>
      msUntilWindow(saturdayNoon, window('Europe/Berlin', ['sun'], start, end));
    expect({
      firstOfTwo: sunday('02:30', '04:00'), // the first 02:30, CEST = 00:30 UTC
      after: sunday('03:00', '05:00'), // 03:00 CET = 02:00 UTC
      morning: sunday('09:00', '10:00'), // 09:00 CET = 08:00 UTC
    }).toEqual({ firstOfTwo: 14.5 * HOUR, after: 16 * HOUR, morning: 22 * HOUR });
  });
});
