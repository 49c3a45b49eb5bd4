/**
 * Reading "since when" from a person: an ISO 8601 date or date-time
 * (`2026-05-01`, `2026-05-01T09:30:00Z`) or a duration back from now
 * (`90s`, `15m`, `1h`, `7d`, `2w`).
 */
import { UsageError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The moment `text` names, durations counted back from `now`.
 * @throws UsageError when it is neither form.
 * @example parseSince('1h', new Date('2026-01-01T12:00:00Z')) // 2026-01-01T11:00:00.000Z
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const duration = /^(\d{1,9})([smhdw])$/.exec(trimmed);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const date = new Date(trimmed);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(`"${text.slice(0, 60)}" is neither an ISO 8601 time (2026-05-01T09:30:00Z) nor a duration such as 90s, 15m, 1h, 7d or 2w`);
}
