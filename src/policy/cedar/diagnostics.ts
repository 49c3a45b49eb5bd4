/**
 * Cedar's error reports turned into messages for people: source offsets
 * become line and column of the policy file, the label and help are kept,
 * Cedar's generated ids (`policy3`) become the policy's own `@id`.
 */
import type { DetailedError } from './cedar.js';

/** At most this many errors are spelled out in one message. */
const MAX_LISTED = 5;

/** 1-based line and column of a byte offset into `text` (Cedar counts UTF-8 bytes). */
export function lineColumn(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: [...lines[lines.length - 1]!].length + 1 };
}

/** One error as "line L, column C: message (label); help". */
export function describeCedarError(e: DetailedError, text: string, rename: (id: string) => string = (id) => id): string {
  const at = e.sourceLocations?.[0];
  const where = at ? (({ line, column }) => `line ${line}, column ${column}: `)(lineColumn(text, at.start)) : '';
  const label = at?.label ? ` (${at.label})` : '';
  const help = e.help ? `; ${e.help}` : '';
  const message = e.message.replace(/`(policy\d+)`/g, (_, id: string) => `"${rename(id)}"`);
  return `${where}${message}${label}${help}`;
}

/** Several errors in one line, the first few spelled out. */
export function describeCedarErrors(errors: readonly DetailedError[], text: string, rename?: (id: string) => string): string {
  const listed = errors.slice(0, MAX_LISTED).map((e) => describeCedarError(e, text, rename));
  if (errors.length > MAX_LISTED) listed.push(`and ${errors.length - MAX_LISTED} more`);
  return listed.join('; ');
}
