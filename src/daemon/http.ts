/**
 * The daemon's HTTP plumbing: bodies read with a limit enforced before and
 * while reading, JSON answers, and errors as `{"error": {"code", "message"}}`
 * with fitting statuses. Internal errors never leak their details.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BiosealError, UsageError } from '../errors.js';
import { httpStatusFor, MethodNotAllowedError, TooLargeError } from './errors.js';
import { DeniedError } from './gate.js';

/** Reads a JSON body of at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json(\s*;|$)/i.test(type)) throw new UsageError('the request body must be JSON (Content-Type: application/json)');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw new TooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TooLargeError(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the request body is not valid JSON: ${(error as Error).message}`);
  }
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

/** Answers an error; unknown errors become a bare E_INTERNAL (details go to the log hook). */
export function sendError(res: ServerResponse, error: unknown, onInternal?: (error: unknown) => void): void {
  const known = error instanceof BiosealError;
  if (!known) onInternal?.(error);
  const code = known ? error.code : 'E_INTERNAL';
  const message = known ? error.message : 'internal error';
  const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {};
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A body left unread (refused early) would keep the connection busy: close it.
  // A policy denial names the step-up that would lift it.
  const stepUp = error instanceof DeniedError && error.decision.stepUp ? { step_up: error.decision.stepUp } : {};
  sendJson(res, httpStatusFor(code), { error: { code, message, ...stepUp } }, { ...headers, connection: 'close' });
}

/** The bearer token of a request, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
  return m ? m[1] : undefined;
}
