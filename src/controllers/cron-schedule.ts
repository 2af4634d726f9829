// CronJob schedules, read as Kubernetes reads them (robfig/cron's ParseStandard): five fields, names of months
// and weekdays, `?`, the @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly descriptors, day-of-month
// and day-of-week ORed when both are restricted, in spec.timeZone (UTC without one). croner does the calendar
// arithmetic; this file keeps Kubernetes' rules around it (no TZ= prefix in the schedule, no seconds field).
import { Cron } from 'croner';

export interface Schedule {
  /** The first activation strictly after `t`, or undefined when the schedule never fires again. */
  next(t: Date): Date | undefined;
}

export class ScheduleError extends Error {}

/** A valid IANA time zone name (as Go's time.LoadLocation would find it). */
export function checkTimeZone(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone ${tz}`;
  }
}

/** Parses `spec` in `timeZone`; throws ScheduleError with robfig-like messages. */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  const text = spec.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new ScheduleError('CRON_TZ or TZ used in schedule is not supported, use spec.timeZone instead');
  if (text.startsWith('@every')) throw new ScheduleError(`@every schedules are not supported by convergit: ${text}`);
  if (text.startsWith('@') && !/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(text)) throw new ScheduleError(`unrecognized descriptor: ${text}`);
  const fields = text.startsWith('@') ? 5 : text.split(/\s+/).length;
  if (fields !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${fields}: ${text}`);
  let cron: Cron;
  try {
    cron = new Cron(text, { mode: '5-part', paused: true, timezone: timeZone ?? 'Etc/UTC', domAndDow: false });
  } catch (e) {
    throw new ScheduleError((e as Error).message.replace(/^CronPattern: /, ''));
  }
  return { next: (t) => cron.nextRun(t) ?? undefined };
}

/** `2024-05-01T12:00:00+02:00` (RFC 3339 in the zone, `Z` for UTC), as Go formats time.RFC3339. */
export function rfc3339In(d: Date, timeZone?: string): string {
  const offsetMin = zoneOffsetMinutes(d, timeZone);
  const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().replace(/\.\d+Z$/, '');
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function zoneOffsetMinutes(d: Date, timeZone?: string): number {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(d);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
}

/** `Wed, 01 May 2024 10:00:00 +0000`, Go's time.RFC1123Z in UTC, as the MissSchedule event writes it. */
export function rfc1123z(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}
