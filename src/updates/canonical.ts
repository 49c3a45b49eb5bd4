/**
 * Canonical JSON for signed update documents: the JSON Canonicalization
 * Scheme (RFC 8785) restricted to the values those documents hold, which are
 * objects, arrays, strings and safe integers. For these, RFC 8785 is exactly
 * ECMAScript `JSON.stringify` of strings and integers (§3.2.2.2, §3.2.2.3),
 * no whitespace, and object members sorted by their names' UTF-16 code units
 * (§3.2.3), which is JavaScript's default sort order.
 */
import { FormatError } from '../errors.js';
import { utf8 } from '../util/bytes.js';

/** A value canonical JSON can hold. */
export type CanonicalValue = string | number | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

/**
 * Serialises a value canonically (RFC 8785 subset).
 * @throws FormatError for numbers that are not safe integers and for other types.
 * @example canonicalJson({ b: 1, a: 'x' }) === '{"a":"x","b":1}'
 */
export function canonicalJson(value: CanonicalValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new FormatError(`canonical JSON holds only safe integers, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v as CanonicalValue)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, CanonicalValue>)[k]!)}`);
    return `{${entries.join(',')}}`;
  }
  throw new FormatError(`canonical JSON cannot hold a ${value === null ? 'null' : typeof value}`);
}

/** The UTF-8 bytes of the canonical serialisation. */
export function canonicalBytes(value: CanonicalValue): Uint8Array {
  return utf8(canonicalJson(value));
}
