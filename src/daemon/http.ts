/**
 * The daemon's side of JSON over HTTP (src/http/json.ts): JSON bodies,
 * errors that carry a denial's step-up, and bearer tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';
import { isJsonRequest, readBody, sendError as sendJsonError, sendJson } from '../http/json.js';
import { DeniedError } from './gate.js';

/** Reads a JSON body of at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonRequest(req)) throw new UsageError('the request body must be JSON (Content-Type: application/json)');
  const text = (await readBody(req, limit)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

export { sendJson };

/** Answers an error; a policy denial names the step-up that would lift it. */
export function sendError(res: ServerResponse, error: unknown, onInternal?: (error: unknown) => void): void {
  sendJsonError(res, error, { onInternal, extra: (e) => (e instanceof DeniedError && e.decision.stepUp ? { step_up: e.decision.stepUp } : {}) });
}

/** The bearer token of a request, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
  return m ? m[1] : undefined;
}
