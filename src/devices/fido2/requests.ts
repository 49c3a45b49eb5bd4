/**
 * The exact tool invocations of the fido2 factor: argv and stdin for
 * `fido2-token -L` / `-I`, `fido2-cred -M` and `fido2-assert -G`, following
 * the INPUT FORMAT sections of fido2-cred(1) and fido2-assert(1) (libfido2
 * 1.12): base64 blobs and UTF-8 strings, one per line.
 *
 * User verification takes two forms (fido2-assert(1), -v and -t):
 * - `builtin`: the key verifies the person itself (a fingerprint reader).
 *   fido2-cred gets `-v`; fido2-assert gets `-t uv=true`, which asks the key
 *   for user verification without prompting for a PIN (`-v` would always
 *   prompt for one).
 * - `pin`: a key without built-in verification, protected by a PIN.
 *   fido2-assert gets `-v` (prompt for the PIN, request user verification).
 *   fido2-cred gets no `-v`: sending the uv option to such a key fails with
 *   FIDO_ERR_UNSUPPORTED_OPTION (CTAP 2.0/2.1); without it the key answers
 *   FIDO_ERR_PIN_REQUIRED and the tool asks for the PIN, which sets the UV
 *   flag. A key that would make a credential without it (makeCredUvNotRqd)
 *   is asked for a resident credential (`-r`), which always needs the PIN.
 * Either way the UV flag of the signed authenticator data is checked (verify.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { UsageError } from '../../errors.js';
import type { ToolRequest } from './tool-runner.js';

/**
 * The relying party id of every bioseal credential. Not a domain on purpose
 * (like OpenSSH's "ssh:"): no web page can claim it, so no site can ask a
 * browser for assertions of these credentials.
 */
export const RP_ID = 'bioseal:fido2';
/** How long a person has to touch the key (or present a finger). */
export const TOUCH_TIMEOUT_MS = 60_000;
/** How long the tools may take for questions that need no touch (list, info). */
export const QUERY_TIMEOUT_MS = 15_000;
/** The hmac-secret salt and output length (CTAP2 hmac-secret, one salt). */
export const SALT_LENGTH = 32;

export type UserVerification = 'builtin' | 'pin';

/** A fresh challenge, in client data whose SHA-256 the authenticator signs. */
export interface ClientData {
  readonly json: string;
  readonly hash: Uint8Array;
}

/** New client data for a `create` (enrolment) or `get` (unlock) ceremony, with a random 32-byte challenge. */
export function newClientData(type: 'create' | 'get'): ClientData {
  const json = JSON.stringify({ type: `bioseal.fido2.${type}`, challenge: randomBytes(32).toString('base64url'), rpId: RP_ID });
  return { json, hash: new Uint8Array(createHash('sha256').update(json).digest()) };
}

/**
 * Refuses device paths that a tool would read as an option (glibc getopt
 * takes `-x` anywhere in argv) or that would break the line format.
 * @throws UsageError
 */
export function checkDevicePath(device: string): string {
  if (device.length === 0 || device.length > 1024 || device.startsWith('-') || /[\n\r\0]/.test(device)) {
    throw new UsageError(`not a FIDO2 device path: ${JSON.stringify(device)} (e.g. /dev/hidraw0; see fido2-token -L)`);
  }
  return device;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function utf8Line(text: string, what: string): string {
  if (text.length === 0 || /[\n\r\0]/.test(text)) throw new UsageError(`${what} must be one line of text`);
  return text;
}

/** `fido2-token -L`: the authenticators the operating system sees. */
export function listDevicesRequest(): ToolRequest {
  return { tool: 'fido2-token', args: ['-L'], timeoutMs: QUERY_TIMEOUT_MS };
}

/** `fido2-token -I DEVICE`: versions, extensions and options of one authenticator (no touch, no PIN). */
export function deviceInfoRequest(device: string): ToolRequest {
  return { tool: 'fido2-token', args: ['-I', checkDevicePath(device)], timeoutMs: QUERY_TIMEOUT_MS };
}

export interface MakeCredentialParams {
  readonly device: string;
  readonly clientDataHash: Uint8Array;
  readonly userName: string;
  readonly userId: Uint8Array;
  readonly uv: UserVerification;
  /** Ask for a resident (discoverable) credential: see the module comment. */
  readonly resident?: boolean;
  readonly pin?: () => Promise<Uint8Array | undefined>;
  readonly timeoutMs?: number;
}

/** `fido2-cred -M -h [-v|-r] DEVICE es256`: a new ES256 credential with the hmac-secret extension. */
export function makeCredentialRequest(p: MakeCredentialParams): ToolRequest {
  const flags = ['-M', '-h', ...(p.uv === 'builtin' ? ['-v'] : []), ...(p.resident ? ['-r'] : [])];
  const input = [b64(p.clientDataHash), RP_ID, utf8Line(p.userName, 'the user name'), b64(p.userId)].join('\n') + '\n';
  return { tool: 'fido2-cred', args: [...flags, checkDevicePath(p.device), 'es256'], input, pin: p.pin, timeoutMs: p.timeoutMs ?? TOUCH_TIMEOUT_MS };
}

export interface GetAssertionParams {
  readonly device: string;
  /** The credential's relying party id (RP_ID for bioseal's own). */
  readonly rpId: string;
  readonly clientDataHash: Uint8Array;
  readonly credentialId: Uint8Array;
  readonly salt: Uint8Array;
  readonly uv: UserVerification;
  readonly pin?: () => Promise<Uint8Array | undefined>;
  readonly timeoutMs?: number;
}

/** `fido2-assert -G -h (-t uv=true | -v) DEVICE`: an assertion with the hmac-secret of one salt. */
export function getAssertionRequest(p: GetAssertionParams): ToolRequest {
  if (p.salt.length !== SALT_LENGTH) throw new RangeError(`the hmac-secret salt must be ${SALT_LENGTH} bytes`);
  if (p.credentialId.length === 0) throw new RangeError('empty credential id');
  const flags = ['-G', '-h', ...(p.uv === 'builtin' ? ['-t', 'uv=true'] : ['-v'])];
  const input = [b64(p.clientDataHash), utf8Line(p.rpId, 'the relying party id'), b64(p.credentialId), b64(p.salt)].join('\n') + '\n';
  return { tool: 'fido2-assert', args: [...flags, checkDevicePath(p.device)], input, pin: p.pin, timeoutMs: p.timeoutMs ?? TOUCH_TIMEOUT_MS };
}
