/**
 * Wrapping the factor secret with the token's key: AES-256-GCM computed by
 * the token (CKM_AES_GCM), a random 96-bit IV, a 128-bit tag, and additional
 * data binding the ciphertext to its enrolment, so a wrapped secret cannot be
 * moved into another enrolment record.
 */
import { randomBytes } from 'node:crypto';
import { DeviceError } from '../../errors.js';
import { concatBytes, utf8, wipe } from '../../util/bytes.js';
import type { Handle } from './binding.js';
import { failureDetail, knownFailure, pkcs11Failure } from './errors.js';
import type { TokenSession } from './token.js';

export const SECRET_LENGTH = 32;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
/** The record names the mechanism so that another one can be added later. */
export const WRAP_MECHANISM = 'CKM_AES_GCM';

const CONTEXT = 'bioseal/v1 pkcs11 wrapped factor secret';

/** The additional authenticated data for an enrolment: context string | enrolment id. */
export function wrapAad(enrolmentId: Uint8Array): Uint8Array {
  return concatBytes(utf8(CONTEXT), enrolmentId);
}

function gcm(s: TokenSession, iv: Uint8Array, aad: Uint8Array) {
  return {
    mechanism: s.pk.CKM_AES_GCM,
    parameter: { type: s.pk.CK_PARAMS_AES_GCM, iv: Buffer.from(iv), aad: Buffer.from(aad), ivBits: IV_LENGTH * 8, tagBits: TAG_LENGTH * 8 },
  };
}

/**
 * Whether the token offers AES-GCM.
 * @throws DeviceError ('unsupported') when it does not.
 */
export function requireGcm(s: TokenSession): void {
  let mechanisms: number[];
  try {
    mechanisms = s.lib.C_GetMechanismList(s.slot);
  } catch (error) {
    throw pkcs11Failure(error, s.token.label, 'listing its mechanisms', 'unavailable');
  }
  if (!mechanisms.includes(s.pk.CKM_AES_GCM)) {
    throw new DeviceError('unsupported', `the PKCS#11 token "${s.token.label}" does not offer AES-GCM (CKM_AES_GCM), which bioseal uses to wrap its secret`);
  }
}

/** Encrypts the secret under the key on the token. */
export function wrapSecret(s: TokenSession, key: Handle, secret: Uint8Array, aad: Uint8Array): { iv: Uint8Array; wrapped: Uint8Array } {
  const iv = new Uint8Array(randomBytes(IV_LENGTH));
  const input = Buffer.from(secret);
  try {
    s.lib.C_EncryptInit(s.session, gcm(s, iv, aad), key);
    const out = s.lib.C_Encrypt(s.session, input, Buffer.alloc(secret.length + TAG_LENGTH));
    if (out.length !== secret.length + TAG_LENGTH) throw new DeviceError('invalid-response', `the PKCS#11 token "${s.token.label}" returned ${out.length} bytes for AES-GCM`);
    return { iv, wrapped: new Uint8Array(out) };
  } catch (error) {
    throw pkcs11Failure(error, s.token.label, 'wrapping the secret with AES-GCM', 'unsupported');
  } finally {
    wipe(input);
  }
}

/**
 * Decrypts a wrapped secret on the token.
 * @throws DeviceError ('refused') when the token cannot decrypt it: the record
 * was changed, or the key is not the one it was wrapped with.
 */
export function unwrapSecret(s: TokenSession, key: Handle, iv: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = Buffer.alloc(wrapped.length);
  try {
    s.lib.C_DecryptInit(s.session, gcm(s, iv, aad), key);
    const plain = s.lib.C_Decrypt(s.session, Buffer.from(wrapped), out);
    if (plain.length !== SECRET_LENGTH) throw new DeviceError('refused', `the PKCS#11 token "${s.token.label}" unwrapped ${plain.length} bytes, not a ${SECRET_LENGTH}-byte secret`);
    return new Uint8Array(plain);
  } catch (error) {
    if (error instanceof DeviceError || error instanceof TypeError) throw error;
    // Any other failure of AES-GCM means the ciphertext, IV or binding changed, or the key differs
    // (tokens differ in the code they return: CKR_ENCRYPTED_DATA_INVALID, CKR_GENERAL_ERROR, ...).
    throw (
      knownFailure(error, s.token.label) ??
      new DeviceError(
        'refused',
        `the PKCS#11 token "${s.token.label}" could not unwrap the secret: the enrolment record was altered, or the key on the token is not the one it was made with (${failureDetail(error)})`,
        { cause: error },
      )
    );
  } finally {
    wipe(out);
  }
}
