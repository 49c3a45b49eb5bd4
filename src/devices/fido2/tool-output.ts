/**
 * Strict parsing of what `fido2-cred -M` and `fido2-assert -G` print, per the
 * OUTPUT FORMAT sections of fido2-cred(1) and fido2-assert(1) (libfido2 1.12):
 * base64 blobs and UTF-8 strings, one per line.
 *
 * fido2-cred -M:  client data hash, relying party id, credential format,
 *                 authenticator data, credential id, attestation signature,
 *                 attestation certificate (if present).
 * fido2-assert -G (one credential, -h, no -r or -b): client data hash,
 *                 relying party id, authenticator data, assertion signature,
 *                 hmac secret.
 *
 * The authenticator data lines hold the CBOR byte string the authenticator
 * sent (fido_cred_authdata_ptr / fido_assert_authdata_ptr return the
 * CBOR-encoded form); it is unwrapped here with the CBOR decoder of
 * @simplewebauthn/server. Parsing checks shape only; verify.ts checks meaning.
 * Anything else is a DeviceError('invalid-response').
 */
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { DeviceError } from '../../errors.js';
import { constantTimeEqual } from '../../util/bytes.js';

export interface MadeCredential {
  readonly clientDataHash: Uint8Array;
  readonly rpId: string;
  readonly format: string;
  /** The raw authenticator data (unwrapped from its CBOR byte string). */
  readonly authData: Uint8Array;
  readonly credentialId: Uint8Array;
  readonly signature: Uint8Array;
  /** The attestation certificate (DER), when the key sent one. */
  readonly x5c?: Uint8Array;
}

export interface AssertionOutput {
  readonly clientDataHash: Uint8Array;
  readonly rpId: string;
  /** The raw authenticator data (unwrapped from its CBOR byte string). */
  readonly authData: Uint8Array;
  readonly signature: Uint8Array;
  /** The hmac-secret output; undefined when the tool printed no such line. */
  readonly hmacSecret?: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_LINE = 16 * 1024;

function invalid(tool: string, why: string): DeviceError {
  return new DeviceError('invalid-response', `${tool} printed something other than its documented output: ${why}`);
}

/** The output's lines; it must end with a newline and hold no empty line except where a blob may be empty. */
function lines(tool: string, stdout: string, min: number, max: number): string[] {
  if (!stdout.endsWith('\n')) throw invalid(tool, 'the output is truncated (no final newline)');
  const out = stdout.slice(0, -1).split('\n');
  if (out.length < min) throw invalid(tool, `${out.length} lines where at least ${min} were expected (truncated?)`);
  if (out.length > max) throw invalid(tool, `${out.length} lines where at most ${max} were expected`);
  if (out.some((l) => l.length > MAX_LINE)) throw invalid(tool, 'a line is too long');
  return out;
}

function blob(tool: string, line: string, what: string, size: { length?: number; min?: number } = {}): Uint8Array<ArrayBuffer> {
  if (!BASE64.test(line) || line.length % 4 !== 0) throw invalid(tool, `the ${what} is not base64`);
  const decoded = Buffer.from(line, 'base64');
  const bytes = new Uint8Array(decoded);
  decoded.fill(0); // small Buffers share a pool: do not leave a copy of a secret there
  if (size.length !== undefined && bytes.length !== size.length) throw invalid(tool, `the ${what} is ${bytes.length} bytes, not ${size.length}`);
  if (bytes.length < (size.min ?? 1)) throw invalid(tool, `the ${what} is empty or too short`);
  return bytes;
}

/** Unwraps the CBOR byte string that holds the authenticator data, refusing anything left over. */
function authenticatorData(tool: string, line: string): Uint8Array {
  const cbor = blob(tool, line, 'authenticator data', { min: 2 });
  let decoded: unknown;
  try {
    decoded = isoCBOR.decodeFirst(cbor);
  } catch (error) {
    throw invalid(tool, `the authenticator data is not CBOR (${(error as Error).message})`);
  }
  if (!(decoded instanceof Uint8Array)) throw invalid(tool, 'the authenticator data is not a CBOR byte string');
  // Re-encoding must give the same bytes: this refuses trailing bytes, and a byte string shorter
  // than its header says (the decoder would silently return what there is).
  if (!constantTimeEqual(isoCBOR.encode(new Uint8Array(decoded)), cbor)) throw invalid(tool, 'the authenticator data is truncated or has trailing bytes');
  return decoded;
}

/** Parses `fido2-cred -M` output (6 lines, or 7 with an attestation certificate). */
export function parseMakeCredentialOutput(stdout: string): MadeCredential {
  const tool = 'fido2-cred';
  const l = lines(tool, stdout, 6, 7);
  const format = l[2]!;
  if (!/^[a-z0-9-]{1,32}$/.test(format)) throw invalid(tool, 'the credential format is not a format name');
  return {
    clientDataHash: blob(tool, l[0]!, 'client data hash', { length: 32 }),
    rpId: l[1]!,
    format,
    authData: authenticatorData(tool, l[3]!),
    credentialId: blob(tool, l[4]!, 'credential id'),
    // "none" attestation carries no signature.
    signature: format === 'none' ? new Uint8Array(0) : blob(tool, l[5]!, 'attestation signature'),
    x5c: l[6] === undefined ? undefined : blob(tool, l[6], 'attestation certificate'),
  };
}

/** Parses `fido2-assert -G -h` output for one credential (5 lines; 4 when the key gave no hmac-secret). */
export function parseAssertionOutput(stdout: string): AssertionOutput {
  const tool = 'fido2-assert';
  const l = lines(tool, stdout, 4, 5);
  return {
    clientDataHash: blob(tool, l[0]!, 'client data hash', { length: 32 }),
    rpId: l[1]!,
    authData: authenticatorData(tool, l[2]!),
    signature: blob(tool, l[3]!, 'assertion signature'),
    hmacSecret: l[4] === undefined ? undefined : blob(tool, l[4], 'hmac-secret output', { length: 32 }),
  };
}
