/**
 * Timestamps in update documents: RFC 3339 UTC with second precision
 * (`2025-01-31T12:00:00Z`), one spelling per instant, so that a signed
 * document has exactly one valid encoding. Also parses the `--expires` option.
 */
import { FormatError, UsageError } from '../errors.js';

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Formats an instant as `YYYY-MM-DDTHH:MM:SSZ` (milliseconds dropped). */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parses a canonical timestamp.
 * @throws FormatError when it is not exactly `YYYY-MM-DDTHH:MM:SSZ` for a real instant.
 */
export function parseTimestamp(text: unknown, what: string): Date {
  if (typeof text !== 'string' || !TIMESTAMP.test(text)) throw new FormatError(`${what} must be a UTC time like 2025-01-31T12:00:00Z`);
  const date = new Date(text);
  // Rejects impossible dates (2025-02-30) that Date would roll over.
  if (Number.isNaN(date.getTime()) || formatTimestamp(date) !== text) throw new FormatError(`${what} "${text}" is not a real time`);
  return date;
}

const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses `--expires`: a duration from `now` (`90d`, `12h`, `30m`, `45s`, `2w`)
 * or an ISO 8601 date or time (`2026-01-01`, `2026-01-01T00:00:00Z`).
 * @returns the expiry, rounded down to the second.
 * @throws UsageError when it is neither, or not after `now`.
 */
export function parseExpiry(text: string, now: Date): Date {
  let at: Date;
  const duration = DURATION.exec(text);
  if (duration) {
    at = new Date(now.getTime() + Number(duration[1]) * UNIT_SECONDS[duration[2]!]! * 1000);
  } else if (ISO_DATE.test(text) && !Number.isNaN(Date.parse(text))) {
    at = new Date(Date.parse(text));
  } else {
    throw new UsageError(`--expires "${text}" is neither a duration (90d, 12h, 30m, 45s, 2w) nor an ISO date (2026-01-01T00:00:00Z)`);
  }
  at = new Date(Math.floor(at.getTime() / 1000) * 1000);
  if (at.getTime() <= now.getTime()) throw new UsageError(`--expires ${text} is not in the future`);
  return at;
}
