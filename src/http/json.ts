/**
 * JSON over HTTP, as the daemon and the fleet service answer it: bodies read
 * under a limit (a declared Content-Length over it is refused before a byte
 * is read; a body that grows past it while streaming is cut off), JSON
 * answers that are never cached, and errors as `{"error": {"code",
 * "message", ...}}` with the status of their code, where an unexpected error
 * is a bare E_INTERNAL whose details go only to the server's own log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BiosealError } from '../errors.js';
import { httpStatusFor, MethodNotAllowedError, TooLargeError } from '../daemon/errors.js';

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

/** Whether the request says its body is JSON. */
export function isJsonRequest(req: IncomingMessage): boolean {
  return /^application\/json(\s*;|$)/i.test(req.headers['content-type'] ?? '');
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

export interface ErrorAnswerOptions {
  /** Told about unexpected errors (never sent to the client). */
  readonly onInternal?: (error: unknown) => void;
  /** Statuses for codes the shared table does not know. */
  readonly statuses?: Readonly<Record<string, number>>;
  /** More members of the error object for some errors (a step-up, say). */
  readonly extra?: (error: BiosealError) => Record<string, unknown>;
}

/** Answers an error; the connection is closed, since a body refused early may be left unread. */
export function sendError(res: ServerResponse, error: unknown, options: ErrorAnswerOptions = {}): void {
  const known = error instanceof BiosealError;
  if (!known) options.onInternal?.(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const code = known ? error.code : 'E_INTERNAL';
  const message = known ? error.message : 'internal error';
  const allow: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {};
  const extra = known ? (options.extra?.(error) ?? {}) : {};
  sendJson(res, options.statuses?.[code] ?? httpStatusFor(code), { error: { code, message, ...extra } }, { ...allow, connection: 'close' });
}
