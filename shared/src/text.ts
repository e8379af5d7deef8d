import * as v from "valibot";

/*
 * What a schema must refuse because the database cannot store it, so that it is a 400 `validation_failed`
 * (or a typed WebSocket error) at the edge and never a 500 from deep inside a query.
 */

/** PostgreSQL `text` cannot hold U+0000. */
export const noNul = () =>
  v.check<string, string>((s) => !s.includes("\u0000"), "must not contain NUL characters");

/** Years a timestamp may name: well inside both JavaScript's and PostgreSQL's range. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;

const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * Whether an ISO 8601 string is a real instant the database can store: it parses, the calendar date exists
 * (no 31 February rolled over into March), and its year is in MIN_YEAR..MAX_YEAR.
 */
export function isStorableTimestamp(s: string): boolean {
  const at = new Date(s);
  if (Number.isNaN(at.getTime())) return false;
  const m = DATE_PART.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < MIN_YEAR || year > MAX_YEAR) return false;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return false;
  // An offset may carry the instant itself past the range (9999-12-31T23:59-23:59 is in the year 10000).
  return isStorableDate(at);
}

/** An instant as a string (ISO 8601) that Date parses and the database stores. */
export const storableTimestamp = () =>
  v.check<string, string>(isStorableTimestamp, `must be a real date between ${MIN_YEAR} and ${MAX_YEAR}`);

/** Whether a Date is inside MIN_YEAR..MAX_YEAR (a cursor's, say). */
export const isStorableDate = (at: Date): boolean => {
  const year = at.getUTCFullYear();
  return !Number.isNaN(at.getTime()) && year >= MIN_YEAR && year <= MAX_YEAR;
};
