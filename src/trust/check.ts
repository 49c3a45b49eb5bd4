/**
 * Input checks shared by the trust code: every number that reaches the
 * arithmetic is finite and in its range, so a NaN or a negative time becomes
 * a typed error instead of a score that silently turns into NaN.
 */
import { UsageError } from '../errors.js';

/**
 * `value` as a finite number in [min, max].
 * @throws {UsageError} when it is not a number, not finite, or out of range
 */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`trust: ${name} must be a finite number, got ${describe(value)}`);
  if (value < min || value > max) throw new UsageError(`trust: ${name} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/**
 * A point in time in milliseconds (any epoch, the same for every call): finite and not negative.
 * @throws {UsageError} otherwise
 */
export function checkTime(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`trust: ${name} must be a time in milliseconds, got ${describe(value)}`);
  if (value < 0) throw new UsageError(`trust: ${name} must not be negative, got ${value}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined || value === null) return String(value);
  return typeof value;
}
