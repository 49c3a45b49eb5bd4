/**
 * Who bioseal is to WebAuthn, and the options a ceremony page passes to
 * `navigator.credentials.create()` / `.get()` (as JSON: byte strings in
 * base64url, decoded by the page).
 *
 * The relying party is `localhost`: an IP address is not a valid RP ID, and
 * the port is not part of it, so a passkey registered on one ceremony server
 * works with the next, whatever port that one gets.
 */
import { randomBytes } from 'node:crypto';

export const RP_ID = 'localhost';
export const RP_NAME = 'bioseal';
/** Bytes of a PRF salt (any length works; bioseal uses 32 random bytes per slot). */
export const PRF_SALT_LENGTH = 32;
/** Bytes of a PRF output (HMAC-SHA-256 in CTAP2 hmac-secret). */
export const PRF_OUTPUT_LENGTH = 32;
/** COSE algorithms accepted, in order of preference: ES256, EdDSA, RS256. */
export const ALGORITHMS = [-7, -8, -257] as const;

/** The origin of a ceremony server listening on `port`. */
export function originFor(port: number): string {
  return `http://${RP_ID}:${port}`;
}

/** A fresh random challenge (base64url). */
export function newChallenge(): string {
  return randomBytes(32).toString('base64url');
}

/** A credential as the server knows it (public data only). */
export interface StoredCredential {
  /** The raw credential id. */
  readonly id: Uint8Array;
  /** COSE public key. */
  readonly publicKey: Uint8Array;
  /** Signature counter last seen (0 for authenticators that do not count). */
  readonly counter: number;
  readonly transports: readonly string[];
}

/**
 * Options for registering a passkey. User verification is asked as
 * "preferred" and required by the server (the UV flag is signed by the
 * authenticator): browsers answer a failed "required" request with the same
 * opaque NotAllowedError as a cancel, while this way an authenticator that
 * cannot verify the user still answers, and bioseal can say so.
 */
export function creationOptions(challenge: string, userHandle: Uint8Array, userName: string, timeoutMs: number): Record<string, unknown> {
  return {
    rp: { id: RP_ID, name: RP_NAME },
    user: { id: Buffer.from(userHandle).toString('base64url'), name: userName, displayName: userName },
    challenge,
    pubKeyCredParams: ALGORITHMS.map((alg) => ({ type: 'public-key', alg })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    attestation: 'none',
    extensions: { prf: {} },
    timeout: timeoutMs,
  };
}

/** Options for an assertion by one credential, with user verification required and PRF evaluated on `salt`. */
export function requestOptions(challenge: string, credential: StoredCredential, salt: Uint8Array, timeoutMs: number): Record<string, unknown> {
  return {
    challenge,
    rpId: RP_ID,
    allowCredentials: [{ type: 'public-key', id: Buffer.from(credential.id).toString('base64url'), transports: credential.transports }],
    userVerification: 'required',
    extensions: { prf: { eval: { first: Buffer.from(salt).toString('base64url') } } },
    timeout: timeoutMs,
  };
}
