/**
 * PKCS#11 return values as bioseal DeviceErrors: the person learns what the
 * token said in words (wrong PIN, PIN locked, token gone), scripts get the
 * failure kind, and the CKR_ name stays in the message for support.
 */
import { DeviceError, type DeviceFailure } from '../../errors.js';

/** Return values that mean the same whatever call produced them. */
const KNOWN: Readonly<Record<string, { failure: DeviceFailure; say: (token: string) => string }>> = {
  CKR_PIN_INCORRECT: { failure: 'refused', say: (t) => `wrong PIN for the PKCS#11 token "${t}"` },
  CKR_PIN_INVALID: { failure: 'refused', say: (t) => `wrong PIN for the PKCS#11 token "${t}" (characters the token does not accept)` },
  CKR_PIN_LEN_RANGE: { failure: 'refused', say: (t) => `wrong PIN for the PKCS#11 token "${t}" (a length the token does not accept)` },
  CKR_PIN_LOCKED: { failure: 'refused', say: (t) => `the PIN of the PKCS#11 token "${t}" is locked after too many wrong PINs; unblock it with the token's SO PIN` },
  CKR_PIN_EXPIRED: { failure: 'refused', say: (t) => `the PIN of the PKCS#11 token "${t}" has expired; set a new one with the token's tools` },
  CKR_TOKEN_NOT_PRESENT: { failure: 'unavailable', say: (t) => `the PKCS#11 token "${t}" is not present` },
  CKR_TOKEN_NOT_RECOGNIZED: { failure: 'unavailable', say: (t) => `the PKCS#11 token "${t}" is not recognised by its module` },
  CKR_DEVICE_REMOVED: { failure: 'unavailable', say: (t) => `the PKCS#11 token "${t}" was removed` },
  CKR_DEVICE_ERROR: { failure: 'unavailable', say: (t) => `the PKCS#11 token "${t}" reported a device error` },
  CKR_DEVICE_MEMORY: { failure: 'unavailable', say: (t) => `the PKCS#11 token "${t}" is out of memory` },
  CKR_SLOT_ID_INVALID: { failure: 'unavailable', say: (t) => `the slot of the PKCS#11 token "${t}" went away` },
  CKR_SESSION_CLOSED: { failure: 'unavailable', say: (t) => `the session with the PKCS#11 token "${t}" was closed (token removed?)` },
  CKR_SESSION_HANDLE_INVALID: { failure: 'unavailable', say: (t) => `the session with the PKCS#11 token "${t}" was lost (token removed?)` },
};

/** The CKR_ name of a pkcs11js error, or undefined for other errors. */
export function returnValueName(error: unknown): string | undefined {
  const name = (error as Error | undefined)?.name;
  const message = (error as Error | undefined)?.message;
  return name === 'Pkcs11Error' && typeof message === 'string' && message.startsWith('CKR_') ? message : undefined;
}

/** The DeviceError for a return value with a fixed meaning (wrong PIN, token gone), or undefined. */
export function knownFailure(error: unknown, token: string): DeviceError | undefined {
  const ckr = returnValueName(error);
  const known = ckr ? KNOWN[ckr] : undefined;
  return known ? new DeviceError(known.failure, `${known.say(token)} (${ckr})`, { cause: error }) : undefined;
}

/** The CKR_ name, or the message, of an error from a PKCS#11 call. */
export function failureDetail(error: unknown): string {
  return returnValueName(error) ?? (error as Error | undefined)?.message ?? String(error);
}

/**
 * Translates an error thrown by a PKCS#11 call. DeviceErrors pass through;
 * TypeErrors (a bug in the caller) propagate unchanged.
 * @param what  what was being done, e.g. "unwrapping the secret"
 * @param otherwise  the failure for return values without a fixed meaning
 */
export function pkcs11Failure(error: unknown, token: string, what: string, otherwise: DeviceFailure): Error {
  if (error instanceof DeviceError || error instanceof TypeError) return error;
  return (
    knownFailure(error, token) ??
    new DeviceError(otherwise, `the PKCS#11 token "${token}" failed while ${what}: ${failureDetail(error)}`, { cause: error })
  );
}
