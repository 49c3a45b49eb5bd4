/**
 * Canonical JSON for audit entries: the JSON Canonicalization Scheme (RFC
 * 8785) for the values an entry may hold, so that one entry has exactly one
 * byte string to hash. Object members are sorted by the UTF-16 code units of
 * their names (RFC 8785 §3.2.3), no whitespace is emitted, and strings and
 * numbers are written as ECMAScript's JSON.stringify writes them (RFC 8785
 * §3.2.2 is defined by that very algorithm).
 *
 * Refused, so that nothing is silently dropped or changed: undefined,
 * functions, symbols, bigints, non-finite numbers, strings with lone
 * surrogates (not representable in UTF-8), objects that are not plain,
 * nesting deeper than `maxDepth`.
 */
import { FormatError } from '../errors.js';

/** Plain JSON values. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The canonical JSON text of `value`.
 * @throws FormatError when the value holds something JSON cannot carry exactly.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, maxDepth = 16, where = 'value'): string {
  return write(value, 0, maxDepth, where);
}

function write(value: unknown, depth: number, maxDepth: number, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new FormatError(`${where} holds ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new FormatError(`${where} holds a string with a lone surrogate (not valid Unicode)`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new FormatError(`${where} holds a ${typeof value}, which JSON cannot represent`);
  }
  if (depth >= maxDepth) throw new FormatError(`${where} is nested more than ${maxDepth} levels deep`);
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => write(v, depth + 1, maxDepth, `${where}[${i}]`)).join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new FormatError(`${where} is not a plain JSON object`);
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 asks.
  const keys = Object.keys(record).sort();
  const members = keys.map((k) => {
    if (LONE_SURROGATE.test(k)) throw new FormatError(`${where} has a member name with a lone surrogate`);
    return `${JSON.stringify(k)}:${write(record[k], depth + 1, maxDepth, `${where}.${k}`)}`;
  });
  return `{${members.join(',')}}`;
}
