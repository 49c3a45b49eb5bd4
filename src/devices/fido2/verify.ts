/**
 * Verification of the authenticator's answers, as a WebAuthn relying party
 * would (W3C WebAuthn §7.1, §7.2; CTAP 2.1 §6), so that bioseal does not
 * take libfido2's word or a tampered output for it:
 *
 * - new credential: our challenge and relying party id, the rpIdHash, the
 *   attested credential (an ES256 COSE key), the attestation signature
 *   ("packed": by the certificate's key, or self-attestation by the new key;
 *   the certificate's chain is not checked), the UP and UV flags, and that the
 *   hmac-secret extension was enabled for the credential;
 * - assertion: our fresh challenge and relying party id, the rpIdHash, the
 *   ES256 signature over authenticatorData || clientDataHash with the stored
 *   key (node:crypto), the UP and UV flags, a signature counter that moved
 *   forward, and an hmac-secret output both printed and present (encrypted)
 *   in the signed extensions.
 *
 * The hmac-secret output itself travels encrypted between the key and
 * libfido2 (CTAP's shared secret); bioseal cannot check it beyond its length.
 *
 * Authenticator data and COSE keys are decoded with @simplewebauthn/server's
 * helpers (a maintained CBOR decoder), not by hand.
 */
import { createHash, createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeCredentialPublicKey, parseAuthenticatorData, type ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import { DeviceError } from '../../errors.js';
import { concatBytes, constantTimeEqual, toHex } from '../../util/bytes.js';
import type { AssertionOutput, MadeCredential } from './tool-output.js';

/** COSE key parameters (RFC 9053) of the one key type bioseal asks for: ES256 on P-256. */
const COSE_KTY_EC2 = 2;
const COSE_ALG_ES256 = -7;
const COSE_CRV_P256 = 1;

export interface VerifiedCredential {
  readonly credentialId: Uint8Array;
  /** The credential's COSE public key, as the authenticator encoded it. */
  readonly publicKey: Uint8Array;
  /** The authenticator model's AAGUID (hex; zeros when the key hides it). */
  readonly aaguid: string;
  readonly counter: number;
  /** `packed` with a certificate, `self` (packed, signed by the new key) or `none`. */
  readonly attestation: 'packed' | 'self' | 'none';
}

export interface VerifiedAssertion {
  readonly counter: number;
  /** The 32-byte hmac-secret output: the factor's secret. */
  readonly secret: Uint8Array;
}

function invalid(message: string): DeviceError {
  return new DeviceError('invalid-response', message);
}

/** The authenticator's extension outputs, by name. */
function extension(ad: ParsedAuthenticatorData, name: string): unknown {
  return (ad.extensionsData as Readonly<Record<string, unknown>> | undefined)?.[name];
}

function parseAuthData(authData: Uint8Array): ParsedAuthenticatorData {
  try {
    // A copy: the helper may patch a byte of its input while it parses.
    return parseAuthenticatorData(new Uint8Array(authData));
  } catch (error) {
    throw invalid(`the FIDO2 authenticator data is malformed: ${(error as Error).message}`);
  }
}

function checkEcho(got: { clientDataHash: Uint8Array; rpId: string }, expected: { clientDataHash: Uint8Array; rpId: string }): void {
  if (!constantTimeEqual(got.clientDataHash, expected.clientDataHash)) throw invalid('the FIDO2 answer is for another challenge (a replayed or mixed-up answer)');
  if (got.rpId !== expected.rpId) throw invalid(`the FIDO2 answer is for the relying party "${got.rpId}", not "${expected.rpId}"`);
}

function checkRpIdHash(ad: ParsedAuthenticatorData, rpId: string): void {
  const expected = new Uint8Array(createHash('sha256').update(rpId, 'utf8').digest());
  if (!constantTimeEqual(ad.rpIdHash, expected)) throw invalid(`the FIDO2 authenticator data names another relying party than "${rpId}"`);
}

function checkUser(ad: ParsedAuthenticatorData): void {
  if (!ad.flags.up) throw new DeviceError('refused', 'the FIDO2 security key did not confirm the presence of its user (no touch)');
  if (!ad.flags.uv) throw new DeviceError('refused', 'the FIDO2 security key did not verify its user (no fingerprint or PIN check): user verification is required');
}

function signatureVerifies(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false; // malformed DER, or a key of another kind
  }
}

/**
 * The node:crypto key of an ES256 COSE public key.
 * @throws DeviceError('invalid-response') for anything else, or a point off the curve.
 */
export function publicKeyFromCose(coseKey: Uint8Array): KeyObject {
  let m: unknown;
  try {
    m = decodeCredentialPublicKey(new Uint8Array(coseKey));
  } catch (error) {
    throw invalid(`the FIDO2 credential public key is not CBOR: ${(error as Error).message}`);
  }
  if (!(m instanceof Map)) throw invalid('the FIDO2 credential public key is not a COSE key');
  const x = m.get(-2);
  const y = m.get(-3);
  if (m.get(1) !== COSE_KTY_EC2 || m.get(3) !== COSE_ALG_ES256 || m.get(-1) !== COSE_CRV_P256 || !(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) {
    throw invalid('the FIDO2 credential public key is not an ES256 (P-256) key');
  }
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') }, format: 'jwk' });
  } catch (error) {
    throw invalid(`the FIDO2 credential public key is not a valid P-256 point: ${(error as Error).message}`);
  }
}

function certificateKey(der: Uint8Array): KeyObject {
  try {
    return new X509Certificate(der).publicKey;
  } catch (error) {
    throw invalid(`the FIDO2 attestation certificate is not a valid X.509 certificate: ${(error as Error).message}`);
  }
}

/** Verifies `fido2-cred -M` output against the challenge and relying party bioseal sent. */
export function verifyMadeCredential(c: MadeCredential, expected: { clientDataHash: Uint8Array; rpId: string }): VerifiedCredential {
  checkEcho(c, expected);
  const ad = parseAuthData(c.authData);
  checkRpIdHash(ad, expected.rpId);
  if (!ad.flags.at || !ad.credentialID || !ad.credentialPublicKey || !ad.aaguid) throw invalid('the FIDO2 authenticator data holds no attested credential');
  if (!constantTimeEqual(ad.credentialID, c.credentialId)) throw invalid('the FIDO2 credential id printed does not match the attested one');
  const key = publicKeyFromCose(ad.credentialPublicKey);

  let attestation: VerifiedCredential['attestation'];
  const signed = concatBytes(c.authData, c.clientDataHash);
  if (c.format === 'packed') {
    attestation = c.x5c ? 'packed' : 'self';
    if (!signatureVerifies(c.x5c ? certificateKey(c.x5c) : key, signed, c.signature)) throw invalid('the FIDO2 attestation signature does not verify');
  } else if (c.format === 'none') {
    if (c.x5c) throw invalid('a FIDO2 "none" attestation came with a certificate');
    attestation = 'none';
  } else {
    throw new DeviceError('unsupported', `the FIDO2 attestation format "${c.format}" is not supported by bioseal (packed or none)`);
  }

  checkUser(ad);
  if (!ad.flags.ed || extension(ad, 'hmac-secret') !== true) {
    throw new DeviceError('unsupported', 'the FIDO2 security key did not enable the hmac-secret extension for the new credential');
  }
  return { credentialId: c.credentialId, publicKey: ad.credentialPublicKey, aaguid: toHex(ad.aaguid), counter: ad.counter, attestation };
}

/**
 * Verifies `fido2-assert -G -h` output against the fresh challenge, the
 * stored public key and the stored signature counter.
 */
export function verifyAssertion(a: AssertionOutput, expected: { clientDataHash: Uint8Array; rpId: string; publicKey: Uint8Array; counter: number }): VerifiedAssertion {
  checkEcho(a, expected);
  const ad = parseAuthData(a.authData);
  checkRpIdHash(ad, expected.rpId);
  if (!signatureVerifies(publicKeyFromCose(expected.publicKey), concatBytes(a.authData, expected.clientDataHash), a.signature)) {
    throw invalid('the FIDO2 assertion signature does not verify with the enrolled public key');
  }
  checkUser(ad);
  if ((ad.counter !== 0 || expected.counter !== 0) && ad.counter <= expected.counter) {
    throw invalid(`the FIDO2 signature counter went from ${expected.counter} to ${ad.counter}, not forward: a replayed answer or a cloned key`);
  }
  if (!a.hmacSecret) throw new DeviceError('unsupported', 'the FIDO2 security key returned no hmac-secret output (was the credential made without it?)');
  const ext = extension(ad, 'hmac-secret');
  if (!ad.flags.ed || !(ext instanceof Uint8Array) || ext.length < 32) {
    throw invalid('an hmac-secret output was printed but the signed authenticator data carries none');
  }
  return { counter: ad.counter, secret: a.hmacSecret };
}
