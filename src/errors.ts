/**
 * The one error type bioseal throws. Each subclass carries a stable `code`
 * that callers, scripts (through exit codes) and HTTP clients can switch on.
 *
 * Messages are written for the person at the terminal. Unlock failures say the
 * same thing whatever went wrong, so they leak nothing; the detail, when there
 * is any, goes in `cause` and is never shown over the network.
 */
export class BiosealError extends Error {
  /** Stable, machine-readable error code, for example `E_AUTH`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * No slot could be opened with the secrets given (wrong passphrase, wrong key
 * file, nothing supplied, ...). The message is the same whatever the cause.
 */
export class AuthError extends BiosealError {
  /** Public guidance that does not depend on what went wrong, e.g. which factors a file accepts. */
  readonly hint?: string;
  constructor(message = 'unlock failed: no key slot accepted the supplied factors', options?: { cause?: unknown; hint?: string }) {
    super('E_AUTH', message, options);
    this.hint = options?.hint;
  }
}

/** Authenticated data failed verification: the bytes were changed, truncated or extended. */
export class TamperedError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_TAMPERED', message, options);
  }
}

/** Input is not well-formed: bad magic, unknown version, lengths that do not add up. */
export class FormatError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_FORMAT', message, options);
  }
}

/** An unlock policy expression is malformed or not allowed. */
export class PolicyError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_POLICY', message, options);
  }
}

/** A publisher signature is missing, invalid, or from an untrusted key. */
export class SignatureError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SIGNATURE', message, options);
  }
}

/** A file or directory could not be read or written as asked. */
export class IOError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_IO', message, options);
  }
}

/** The command line or an options object is not usable. */
export class UsageError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_USAGE', message, options);
  }
}

/** The operation would destroy something the user did not ask to destroy. */
export class ExistsError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_EXISTS', message, options);
  }
}

/** Too many failed attempts: wait before trying again. */
export class RateLimitError extends BiosealError {
  /** Milliseconds until the next attempt is allowed. */
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('E_RATE_LIMIT', message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A model could not be loaded or run by the inference runtime. */
export class ModelError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_MODEL', message, options);
  }
}

/**
 * Why a device factor could not produce its secret, for scripts and pages to
 * switch on: the message says the same in words.
 */
export type DeviceFailure =
  /** The tool, library, TPM, token or browser is missing or unreachable. */
  | 'unavailable'
  /** The person cancelled, or no authenticator answered. */
  | 'cancelled'
  /** Nobody completed the ceremony in time. */
  | 'timeout'
  /** The authenticator lacks a capability bioseal requires (PRF, hmac-secret, user verification). */
  | 'unsupported'
  /** The device refused: wrong PIN, user verification failed, PCR values changed, key missing. */
  | 'refused'
  /** A response failed verification: wrong origin, replayed challenge, bad signature. */
  | 'invalid-response';

/** A device factor (passkey, fido2, tpm, pkcs11) could not be used. */
export class DeviceError extends BiosealError {
  readonly failure: DeviceFailure;
  constructor(failure: DeviceFailure, message: string, options?: { cause?: unknown }) {
    super('E_DEVICE', message, options);
    this.failure = failure;
  }
}

/** An update is not newer than the installed version of its model (a downgrade or a replayed manifest). */
export class RollbackError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ROLLBACK', message, options);
  }
}

/** A signed statement is outside its validity period (expired, or issued in the future). */
export class ExpiredError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_EXPIRED', message, options);
  }
}

/** A file's size or SHA-256 digest differs from the one a signed manifest names. */
export class DigestError extends BiosealError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_DIGEST', message, options);
  }
}
