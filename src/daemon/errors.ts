/**
 * Errors only the daemon raises, and the HTTP status of every error code.
 */
import { BiosealError } from '../errors.js';

/** The session is locked: a step-up (a fresh unlock) is required. HTTP 423. */
export class LockedError extends BiosealError {
  constructor(reason: string) {
    super('E_LOCKED', `locked (${reason}): step-up required, unlock again with POST /v1/models`);
  }
}

/** No such model or route. HTTP 404. */
export class NotFoundError extends BiosealError {
  constructor(message: string) {
    super('E_NOT_FOUND', message);
  }
}

/** A request body over the limit, refused before it is read. HTTP 413. */
export class TooLargeError extends BiosealError {
  constructor(limit: number) {
    super('E_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  }
}

/** The request is not allowed from where it came (not loopback, wrong Host). HTTP 403. */
export class ForbiddenError extends BiosealError {
  constructor(message: string) {
    super('E_FORBIDDEN', message);
  }
}

/** The method is not defined on the route. HTTP 405. */
export class MethodNotAllowedError extends BiosealError {
  readonly allow: readonly string[];
  constructor(allow: readonly string[]) {
    super('E_METHOD', `method not allowed here (allowed: ${allow.join(', ')})`);
    this.allow = allow;
  }
}

const STATUS: Readonly<Record<string, number>> = {
  E_USAGE: 400,
  E_FORMAT: 400,
  E_AUTH: 401,
  E_FORBIDDEN: 403,
  E_POLICY: 403,
  E_SIGNATURE: 403,
  E_NOT_FOUND: 404,
  E_METHOD: 405,
  E_EXISTS: 409,
  E_TOO_LARGE: 413,
  E_TAMPERED: 422,
  E_MODEL: 422,
  E_IMAGE: 422,
  E_ENROLMENT: 422,
  E_FACE_NOT_FOUND: 422,
  E_FACE_MULTIPLE: 422,
  E_FACE_QUALITY: 422,
  E_LOCKED: 423,
  E_RATE_LIMIT: 429,
  E_DEVICE: 503,
};

/** The HTTP status for an error code (500 for anything unexpected). */
export function httpStatusFor(code: string): number {
  return STATUS[code] ?? 500;
}
