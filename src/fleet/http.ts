/**
 * The fleet service's side of JSON over HTTP (src/http/json.ts): raw
 * bodies under a per-route limit, strict JSON objects and base64 members,
 * and the statuses of the codes only the fleet answers with.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FormatError, RateLimitError, UsageError } from '../errors.js';
import { isJsonRequest, readBody, sendError as sendJsonError, sendJson } from '../http/json.js';

/** Statuses for codes the daemon never answers with. */
const FLEET_STATUS: Readonly<Record<string, number>> = { E_ROLLBACK: 409, E_EXPIRED: 422 };

export { readBody, sendJson };

/** The body as a JSON object. @throws UsageError */
export function jsonObject(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  if (!isJsonRequest(req)) throw new UsageError('the request body must be JSON (Content-Type: application/json)');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new UsageError('the request body is not valid UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Checks that `body` has exactly these members. @throws UsageError */
export function members(body: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): void {
  for (const key of required) if (!Object.hasOwn(body, key)) throw new UsageError(`the request lacks "${key}"`);
  for (const key of Object.keys(body)) if (!required.includes(key) && !optional.includes(key)) throw new UsageError(`the request has an unknown member "${key.slice(0, 40)}"`);
}

// One character class, no groups: linear on uploads of many megabytes (a grouped pattern overflows the regex stack).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A canonical, non-empty standard-base64 member. @throws FormatError */
export function base64Member(body: Record<string, unknown>, key: string): Uint8Array {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0 || value.length % 4 !== 0 || !BASE64.test(value)) throw new FormatError(`"${key}" must be standard base64`);
  const bytes = Buffer.from(value, 'base64');
  // Only the one spelling of these bytes: padding in place, no stray bits in the last character.
  if (bytes.toString('base64') !== value) throw new FormatError(`"${key}" is not canonical base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes as standard base64, for answers. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Answers an error; unknown errors become a bare E_INTERNAL (details go to `onInternal`). A rate limit also says when to retry (RFC 9110 §10.2.3, whole seconds). */
export function sendError(res: ServerResponse, error: unknown, onInternal?: (error: unknown) => void): void {
  if (error instanceof RateLimitError && !res.headersSent) res.setHeader('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  sendJsonError(res, error, { onInternal, statuses: FLEET_STATUS });
}
