/**
 * The fleet service's HTTP plumbing: raw bodies read under a per-route
 * limit (a declared Content-Length over it is refused before a byte is
 * read; a body that grows past it while streaming is cut off), strict JSON
 * and base64 fields, and answers shaped like the daemon's:
 * `{"error": {"code", "message"}}` with the status of its code, where an
 * unexpected error is a bare E_INTERNAL.
 *
 * This is not the daemon's http.ts on purpose: that one knows the daemon's
 * policy gate, which the fleet service does not load.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BiosealError, FormatError, UsageError } from '../errors.js';
import { httpStatusFor, MethodNotAllowedError, TooLargeError } from '../daemon/errors.js';

/** Statuses for codes the daemon never answers with. */
const FLEET_STATUS: Readonly<Record<string, number>> = { E_ROLLBACK: 409, E_EXPIRED: 422 };

/** Reads the raw body, at most `limit` bytes. @throws TooLargeError */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= limit)) throw new TooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TooLargeError(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object. @throws UsageError */
export function jsonObject(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  if (!/^application\/json(\s*;|$)/i.test(req.headers['content-type'] ?? '')) throw new UsageError('the request body must be JSON (Content-Type: application/json)');
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Answers an error; unknown errors become a bare E_INTERNAL (details go to `onInternal`). */
export function sendError(res: ServerResponse, error: unknown, onInternal?: (error: unknown) => void): void {
  const known = error instanceof BiosealError;
  if (!known) onInternal?.(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const code = known ? error.code : 'E_INTERNAL';
  const message = known ? error.message : 'internal error';
  const allow: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {};
  // A body left unread (refused early) would keep the connection busy: close it.
  sendJson(res, FLEET_STATUS[code] ?? httpStatusFor(code), { error: { code, message } }, { ...allow, connection: 'close' });
}
