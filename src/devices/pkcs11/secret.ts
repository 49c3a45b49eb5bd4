/**
 * Unlocking: the token unwraps the enrolment's secret after the user PIN.
 */
import { DeviceError } from '../../errors.js';
import { findKeys } from './key.js';
import type { Pkcs11Enrolment } from './record.js';
import { withTokenSession } from './token.js';
import { unwrapSecret, wrapAad } from './wrap.js';
import { enrolmentIdBytes } from '../../enrolment/record-store.js';

export interface UnwrapOptions {
  /** The user PIN, UTF-8 (not kept). */
  readonly pin: Uint8Array;
  /** Called once the token is found, just before the PIN is tried (to count the attempt). */
  readonly beforeLogin?: () => void;
}

/**
 * The enrolment's 32-byte secret, unwrapped by its token.
 * @throws DeviceError: 'unavailable' (module, token absent), 'refused' (wrong
 * or locked PIN, key gone from the token, record altered).
 */
export function unwrapEnrolledSecret(e: Pkcs11Enrolment, o: UnwrapOptions): Uint8Array {
  return withTokenSession({ module: e.module, tokenLabel: e.tokenLabel, tokenSerial: e.tokenSerial, pin: o.pin, beforeLogin: o.beforeLogin }, (s) => {
    const [key] = findKeys(s, e.key, 1);
    if (!key) {
      throw new DeviceError('refused', `the key "${e.key.label}" of enrolment "${e.record.name}" is no longer on the PKCS#11 token "${s.token.label}"; re-enrol with bioseal enroll pkcs11 --force, or unlock with another factor`);
    }
    return unwrapSecret(s, key, e.iv, e.wrapped, wrapAad(enrolmentIdBytes(e.record)));
  });
}
