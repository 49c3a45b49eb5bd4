/**
 * Strict reading of what a ceremony page posts back: a credential as
 * WebAuthn's JSON form (byte strings in base64url), or a browser error.
 * Every field is type-checked and capped before anything else looks at it;
 * unknown fields are dropped.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { DeviceError } from '../errors.js';
import { PRF_OUTPUT_LENGTH } from './relying-party.js';

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Caps in base64url characters (WebAuthn credential ids are at most 1023 bytes). */
const MAX_ID = 1400;
const MAX_FIELD = 16 * 1024;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

function invalid(what: string): never {
  throw new DeviceError('invalid-response', `the browser's passkey response is malformed: ${what}`);
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function b64url(v: unknown, what: string, max: number, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length > max || !B64URL.test(v)) invalid(`${what} must be base64url of at most ${max} characters`);
  return v;
}

function credentialCore(v: unknown): { id: string; body: Record<string, unknown>; response: Record<string, unknown> } {
  const body = object(v, 'the credential');
  const id = b64url(body.id, 'id', MAX_ID)!;
  if (body.rawId !== id) invalid('rawId must equal id');
  if (body.type !== 'public-key') invalid('type must be public-key');
  return { id, body, response: object(body.response, 'response') };
}

/** The PRF extension output: `{ enabled?: boolean, results?: { first: base64url } }`. */
function prfOutputs(v: unknown): Record<string, unknown> {
  const ext = v === undefined ? {} : object(v, 'clientExtensionResults');
  if (ext.prf === undefined) return {};
  const prf = object(ext.prf, 'clientExtensionResults.prf');
  const out: Record<string, unknown> = {};
  if (prf.enabled !== undefined) {
    if (typeof prf.enabled !== 'boolean') invalid('prf.enabled must be true or false');
    out.enabled = prf.enabled;
  }
  if (prf.results !== undefined) {
    const results = object(prf.results, 'prf.results');
    out.results = { first: b64url(results.first, 'prf.results.first', 64) };
  }
  return { prf: out };
}

/** A registration response, checked and capped. */
export function parseRegistrationResponse(v: unknown): RegistrationResponseJSON {
  const { id, body, response } = credentialCore(v);
  const transports = response.transports === undefined ? [] : response.transports;
  if (!Array.isArray(transports) || transports.length > 8 || !transports.every((t) => typeof t === 'string' && TRANSPORTS.has(t))) {
    invalid('transports must be a list of known transports');
  }
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64url(response.clientDataJSON, 'clientDataJSON', MAX_FIELD)!,
      attestationObject: b64url(response.attestationObject, 'attestationObject', MAX_FIELD)!,
      transports: transports as RegistrationResponseJSON['response']['transports'],
    },
    clientExtensionResults: prfOutputs(body.clientExtensionResults) as RegistrationResponseJSON['clientExtensionResults'],
  };
}

/** An authentication response, checked and capped. */
export function parseAuthenticationResponse(v: unknown): AuthenticationResponseJSON {
  const { id, body, response } = credentialCore(v);
  const userHandle = b64url(response.userHandle === null ? undefined : response.userHandle, 'userHandle', 128, true);
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64url(response.clientDataJSON, 'clientDataJSON', MAX_FIELD)!,
      authenticatorData: b64url(response.authenticatorData, 'authenticatorData', MAX_FIELD)!,
      signature: b64url(response.signature, 'signature', 1024)!,
      ...(userHandle === undefined ? {} : { userHandle }),
    },
    clientExtensionResults: prfOutputs(body.clientExtensionResults) as AuthenticationResponseJSON['clientExtensionResults'],
  };
}

/** Whether a registration response says the credential supports PRF. */
export function prfEnabled(r: RegistrationResponseJSON): boolean {
  return (r.clientExtensionResults as { prf?: { enabled?: boolean } }).prf?.enabled === true;
}

/** The 32-byte PRF output of an assertion, or undefined when the authenticator returned none. */
export function prfFirstOutput(r: AuthenticationResponseJSON): Uint8Array | undefined {
  const first = (r.clientExtensionResults as { prf?: { results?: { first?: string } } }).prf?.results?.first;
  if (first === undefined) return undefined;
  const bytes = new Uint8Array(Buffer.from(first, 'base64url'));
  if (bytes.length !== PRF_OUTPUT_LENGTH) {
    bytes.fill(0);
    invalid(`the PRF output must be ${PRF_OUTPUT_LENGTH} bytes`);
  }
  return bytes;
}

/** A browser error reported by the page: its DOMException name and message. */
export interface BrowserError {
  readonly name: string;
  readonly message: string;
}

/** A reported browser error, with both fields reduced to short printable text. */
export function parseBrowserError(v: unknown): BrowserError {
  const body = object(v, 'the error report');
  const clean = (x: unknown, max: number) => (typeof x === 'string' ? x.replace(/[^\x20-\x7e]/g, '?').slice(0, max) : '');
  return { name: clean(body.name, 64), message: clean(body.message, 300) };
}
