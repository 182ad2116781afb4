/**
 * A date-time a request may carry: RFC 3339 text that names a real moment the
 * database can store. JSON Schema's `date-time` format takes year 0000 and
 * offsets of +23:59, which PostgreSQL refuses (and would answer 500 to); this
 * check is the one both the API's validators and lineage ingestion use.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** The widest UTC offset PostgreSQL accepts (±15:59). */
const MAX_OFFSET_HOURS = 15;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True for `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`: year 0001–9999, a real day and time, a storable offset. */
export function isRealDateTime(text: string): boolean {
  const match = RFC3339.exec(text);
  if (!match) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  // A leap second (:60) is a real moment; PostgreSQL takes it as the next minute.
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (match[9] !== undefined) {
    const offsetHours = Number(match[10]);
    const offsetMinutes = Number(match[11]);
    if (offsetHours > MAX_OFFSET_HOURS || offsetMinutes > 59) return false;
  }
  return true;
}

/** Why a date-time is refused, for error messages. */
export const REAL_DATE_TIME =
  'must be an RFC 3339 date-time with year 0001-9999, a real month, day and time, and an offset within ±15:59';
