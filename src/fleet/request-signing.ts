/**
 * Device authentication for the fleet service: every request a device makes
 * is signed with the Ed25519 key (RFC 8032) it registered. Four headers:
 *
 *   X-Bioseal-Device     the device id
 *   X-Bioseal-Timestamp  milliseconds since 1970, within 5 minutes of the service's clock
 *   X-Bioseal-Nonce      16 random bytes, 32 lower-case hex digits, never reused
 *   X-Bioseal-Signature  128 hex digits: Ed25519 over the message below
 *
 *   "bioseal/v1 fleet request\0" || METHOD || "\0" || PATH (with query) || "\0"
 *   || device id || "\0" || timestamp (decimal) || "\0" || nonce || "\0" || SHA-256(body)
 *
 * Every field is checked against a character set without NUL before it is
 * used, so the separators cannot be forged. The signature binds the request
 * to its method, path, body and moment; the service remembers each nonce
 * until its timestamp leaves the window (in the store, so every service
 * sharing a database refuses a replay), and refuses timestamps outside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import { AuthError } from '../errors.js';

const LABEL = 'bioseal/v1 fleet request\0';
/** How far a request's timestamp may be from the service's clock, either way. */
export const REQUEST_WINDOW_MS = 5 * 60 * 1000;
/** Device ids: also path segments. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const METHOD_PATTERN = /^[A-Z]{3,7}$/;
const PATH_PATTERN = /^\/[\x21-\x7e]{0,2047}$/;
const NONCE_PATTERN = /^[0-9a-f]{32}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{128}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,15}$/;

/** The signed headers of a request, parsed. */
export interface RequestCredentials {
  readonly deviceId: string;
  readonly timestamp: number;
  readonly nonce: string;
  readonly signature: Uint8Array;
}

/** What a signature covers (see the file comment). */
export function requestMessage(method: string, path: string, deviceId: string, timestamp: number, nonce: string, body: Uint8Array): Uint8Array {
  if (!METHOD_PATTERN.test(method) || !PATH_PATTERN.test(path) || !DEVICE_ID_PATTERN.test(deviceId) || !NONCE_PATTERN.test(nonce) || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError('a fleet request field is malformed');
  }
  const digest = new Uint8Array(createHash('sha256').update(body).digest());
  return concatBytes(utf8(`${LABEL}${method}\0${path}\0${deviceId}\0${timestamp}\0${nonce}\0`), digest);
}

/**
 * The headers that authenticate a request as `deviceId`.
 * @example fetch(url + path, { method: 'POST', body, headers: { ...signRequest({ method: 'POST', path, body, deviceId, secretKey }), 'content-type': 'application/json' } })
 */
export function signRequest(request: { method: string; path: string; body: Uint8Array; deviceId: string; secretKey: Uint8Array; timestamp?: number; nonce?: string }): Record<string, string> {
  const timestamp = request.timestamp ?? Date.now();
  const nonce = request.nonce ?? randomBytes(16).toString('hex');
  const signature = ed25519.sign(requestMessage(request.method, request.path, request.deviceId, timestamp, nonce, request.body), request.secretKey);
  return {
    'x-bioseal-device': request.deviceId,
    'x-bioseal-timestamp': String(timestamp),
    'x-bioseal-nonce': nonce,
    'x-bioseal-signature': toHex(signature),
  };
}

const refused = (why: string) => new AuthError('device authentication failed', { cause: new Error(why) });

/**
 * Reads the signed headers, and checks the timestamp against `now`.
 * @throws AuthError (one message whatever is wrong; the reason is in `cause`).
 */
export function readCredentials(headers: IncomingHttpHeaders, now: number): RequestCredentials {
  const one = (name: string, pattern: RegExp): string => {
    const value = headers[name];
    if (typeof value !== 'string' || !pattern.test(value)) throw refused(`${name} missing or malformed`);
    return value;
  };
  const deviceId = one('x-bioseal-device', DEVICE_ID_PATTERN);
  const timestamp = Number(one('x-bioseal-timestamp', TIMESTAMP_PATTERN));
  const nonce = one('x-bioseal-nonce', NONCE_PATTERN);
  const signature = new Uint8Array(Buffer.from(one('x-bioseal-signature', SIGNATURE_PATTERN), 'hex'));
  if (Math.abs(now - timestamp) > REQUEST_WINDOW_MS) throw refused('timestamp outside the window');
  return { deviceId, timestamp, nonce, signature };
}

/**
 * Checks the signature of a request (RFC 8032 strict verification).
 * @throws AuthError when it does not verify under `publicKey`.
 */
export function checkRequestSignature(credentials: RequestCredentials, method: string, path: string, body: Uint8Array, publicKey: Uint8Array): void {
  let ok = false;
  try {
    const message = requestMessage(method, path, credentials.deviceId, credentials.timestamp, credentials.nonce, body);
    ok = ed25519.verify(credentials.signature, message, publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) throw refused('signature does not verify');
}

/** The replay error, the same as every other authentication failure. */
export function replayRefused(): AuthError {
  return refused('nonce already used');
}

/** Refusal for an unknown or revoked device, the same as every other authentication failure. */
export function unknownDevice(): AuthError {
  return refused('no such device, or revoked');
}
