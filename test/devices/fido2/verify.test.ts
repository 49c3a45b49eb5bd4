/**
 * Parsing and verification of fido2-cred / fido2-assert output. No FIDO2
 * device exists where these tests run: the outputs come from the
 * SoftwareAuthenticator stand-in (a real ES256 key, authenticator data laid
 * out per WebAuthn/CTAP) and from real authenticators' answers recorded in
 * libfido2's regression tests. A correct answer passes; each kind of bad
 * answer fails with its own typed error.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { DeviceError } from '../../../src/errors.js';
import { getAssertionRequest, makeCredentialRequest, newClientData, RP_ID } from '../../../src/devices/fido2/requests.js';
import { SoftwareAuthenticator, buildAuthData, FLAG } from '../../../src/devices/fido2/software-authenticator.js';
import { parseAssertionOutput, parseMakeCredentialOutput } from '../../../src/devices/fido2/tool-output.js';
import { publicKeyFromCose, verifyAssertion, verifyMadeCredential } from '../../../src/devices/fido2/verify.js';
import type { Tamper } from '../../../src/devices/fido2/software-authenticator.js';
import { LIBFIDO2_ASSERTION, LIBFIDO2_CREDENTIAL, LIBFIDO2_RP_ID } from './libfido2-vectors.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function rejects(fn: () => unknown, failure: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DeviceError, `expected a DeviceError, got ${String(e)}`);
    assert.equal(e.failure, failure, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A credential made on a fresh stand-in, with the output text and the challenge it answered. */
async function makeCredential(tamper: Tamper = {}) {
  const auth = new SoftwareAuthenticator();
  const clientData = newClientData('create');
  auth.tamper = tamper;
  const r = await auth.run(makeCredentialRequest({ device: auth.path, clientDataHash: clientData.hash, userName: 'bioseal default', userId: new Uint8Array(32).fill(7), uv: 'builtin' }));
  assert.equal(r.exitCode, 0);
  return { auth, stdout: r.stdout, expected: { clientDataHash: clientData.hash, rpId: RP_ID } };
}

/** An enrolled stand-in and a function that asks it for an assertion. */
async function enrolled() {
  const { auth, stdout, expected } = await makeCredential();
  const credential = verifyMadeCredential(parseMakeCredentialOutput(stdout), expected);
  const salt = new Uint8Array(32).fill(9);
  const assertion = async (tamper: Tamper = {}, s = salt) => {
    const clientData = newClientData('get');
    auth.tamper = tamper;
    const r = await auth.run(getAssertionRequest({ device: auth.path, rpId: RP_ID, clientDataHash: clientData.hash, credentialId: credential.credentialId, salt: s, uv: 'builtin' }));
    assert.equal(r.exitCode, 0);
    return { stdout: r.stdout, clientDataHash: clientData.hash };
  };
  const verify = (a: { stdout: string; clientDataHash: Uint8Array }, counter = 0) =>
    verifyAssertion(parseAssertionOutput(a.stdout), { clientDataHash: a.clientDataHash, rpId: RP_ID, publicKey: credential.publicKey, counter });
  return { auth, credential, assertion, verify };
}

/** Replaces line `i` of a tool output. */
function withLine(stdout: string, i: number, line: string): string {
  const lines = stdout.split('\n');
  lines[i] = line;
  return lines.join('\n');
}

describe('fido2-cred -M output', () => {
  test('a correct credential verifies: id, ES256 COSE key, counter, self attestation', async () => {
    const { stdout, expected } = await makeCredential();
    const parsed = parseMakeCredentialOutput(stdout);
    assert.equal(parsed.format, 'packed');
    assert.equal(parsed.rpId, RP_ID);
    const c = verifyMadeCredential(parsed, expected);
    assert.equal(c.credentialId.length, 64);
    assert.deepEqual(c.credentialId, parsed.credentialId);
    assert.equal(c.attestation, 'self');
    assert.equal(c.counter, 0);
    assert.equal(c.aaguid, 'd8522d9f575b486688a9ba99fa02f35b');
    assert.equal(publicKeyFromCose(c.publicKey).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  test('tampered authenticator data: the attestation signature fails', async () => {
    const { stdout, expected } = await makeCredential({ authData: true });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'invalid-response', /attestation signature/);
  });

  test('a signature by another key fails', async () => {
    const { stdout, expected } = await makeCredential({ wrongKey: true });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'invalid-response', /attestation signature/);
  });

  test('no UV flag: refused (user verification is required)', async () => {
    const { stdout, expected } = await makeCredential({ noUv: true });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'refused', /verify its user/);
  });

  test('no UP flag: refused', async () => {
    const { stdout, expected } = await makeCredential({ noUp: true });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'refused', /presence/);
  });

  test('an rpIdHash of another relying party fails', async () => {
    const { stdout, expected } = await makeCredential({ rpId: 'evil.example' });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'invalid-response', /another relying party/);
  });

  test('hmac-secret not enabled: unsupported', async () => {
    const { stdout, expected } = await makeCredential({ noHmacSecret: true });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'unsupported', /hmac-secret/);
  });

  test('an answer to another challenge fails', async () => {
    const { stdout, expected } = await makeCredential({ clientDataHash: new Uint8Array(32) });
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(stdout), expected), 'invalid-response', /another challenge/);
  });

  test('a relying party line or credential id line that differs fails', async () => {
    const { stdout, expected } = await makeCredential();
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(withLine(stdout, 1, 'evil.example')), expected), 'invalid-response', /relying party "evil.example"/);
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(withLine(stdout, 4, b64(new Uint8Array(64).fill(1)))), expected), 'invalid-response', /credential id/);
  });

  test('an attestation format bioseal does not verify is unsupported', async () => {
    const { stdout, expected } = await makeCredential();
    rejects(() => verifyMadeCredential(parseMakeCredentialOutput(withLine(stdout, 2, 'fido-u2f')), expected), 'unsupported', /fido-u2f/);
  });

  test('truncated, garbled or reshaped output is an invalid response', async () => {
    const { stdout } = await makeCredential();
    const lines = stdout.split('\n');
    const bad = [
      '',
      stdout.slice(0, -1), // no final newline
      lines.slice(0, 4).join('\n') + '\n', // lines missing
      stdout + 'extra\nlines\n',
      withLine(stdout, 3, lines[3]!.slice(0, 40)), // authenticator data cut
      withLine(stdout, 3, '!!not base64!!'),
      withLine(stdout, 3, b64(isoCBOR.decodeFirst<Uint8Array>(new Uint8Array(Buffer.from(lines[3]!, 'base64'))))), // raw, not a CBOR byte string
      withLine(stdout, 3, b64(new Uint8Array([...Buffer.from(lines[3]!, 'base64'), 0x00]))), // trailing byte
      withLine(stdout, 0, b64(new Uint8Array(31))), // short client data hash
      withLine(stdout, 2, 'PACKED format!'),
    ];
    for (const text of bad) rejects(() => parseMakeCredentialOutput(text), 'invalid-response');
  });

  test('a real authenticator answer (libfido2 regress/cred.c) parses, its packed x5c signature verifies, and the missing UV flag refuses it', () => {
    const v = LIBFIDO2_CREDENTIAL;
    const authData = v.authDataCbor.subarray(2);
    const credentialId = authData.subarray(55, 55 + 64);
    const out = [b64(v.clientDataHash), LIBFIDO2_RP_ID, 'packed', b64(v.authDataCbor), b64(credentialId), b64(v.signature), b64(v.x5c)].join('\n') + '\n';
    const parsed = parseMakeCredentialOutput(out);
    assert.deepEqual(parsed.authData, authData);
    const expected = { clientDataHash: v.clientDataHash, rpId: LIBFIDO2_RP_ID };
    // Every check up to the flags passes (rpIdHash, attested ES256 key, x5c signature): then UV is missing.
    rejects(() => verifyMadeCredential(parsed, expected), 'refused', /verify its user/);
    const flipped = new Uint8Array(v.signature);
    flipped[10]! ^= 0x01;
    rejects(() => verifyMadeCredential({ ...parsed, signature: flipped }, expected), 'invalid-response', /attestation signature/);
  });
});

describe('fido2-assert -G -h output', () => {
  test('a correct assertion verifies; the secret is 32 bytes, stable per salt, different across salts; the counter moves', async () => {
    const { assertion, verify } = await enrolled();
    const a1 = verify(await assertion(), 0);
    const a2 = verify(await assertion(), a1.counter);
    assert.equal(a1.secret.length, 32);
    assert.deepEqual(a1.secret, a2.secret);
    assert.ok(a2.counter > a1.counter);
    const other = verify(await assertion({}, new Uint8Array(32).fill(10)), a2.counter);
    assert.notDeepEqual(other.secret, a1.secret);
  });

  test('tampered authenticator data fails the signature', async () => {
    const { assertion, verify } = await enrolled();
    const a = await assertion({ authData: true });
    rejects(() => verify(a), 'invalid-response', /signature does not verify/);
  });

  test('a signature by another key fails', async () => {
    const { assertion, verify } = await enrolled();
    const a = await assertion({ wrongKey: true });
    rejects(() => verify(a), 'invalid-response', /signature does not verify/);
  });

  test('no UV flag: refused; no UP flag: refused', async () => {
    const { assertion, verify } = await enrolled();
    const noUv = await assertion({ noUv: true });
    rejects(() => verify(noUv), 'refused', /verify its user/);
    const noUp = await assertion({ noUp: true });
    rejects(() => verify(noUp), 'refused', /presence/);
  });

  test('an rpIdHash of another relying party fails', async () => {
    const { assertion, verify } = await enrolled();
    const a = await assertion({ rpId: 'evil.example' });
    rejects(() => verify(a), 'invalid-response', /another relying party/);
  });

  test('a signature counter that does not move forward fails; a key that keeps no counter (always 0) passes', async () => {
    const { assertion, verify } = await enrolled();
    const first = verify(await assertion());
    const back = await assertion({ counter: first.counter - 1 });
    rejects(() => verify(back, first.counter), 'invalid-response', /counter went from/);
    const same = await assertion({ counter: first.counter });
    rejects(() => verify(same, first.counter), 'invalid-response', /counter/);
    const zero = await assertion({ counter: 0 });
    rejects(() => verify(zero, first.counter), 'invalid-response', /counter/);
    assert.equal(verify(await assertion({ counter: 0 }), 0).counter, 0);
  });

  test('a missing hmac-secret line is unsupported', async () => {
    const { assertion, verify } = await enrolled();
    const a = await assertion({ noHmacSecret: true });
    assert.equal(a.stdout.split('\n').length, 5); // four lines and the final newline
    rejects(() => verify(a), 'unsupported', /hmac-secret/);
  });

  test('an hmac-secret line without the signed extension is an invalid response', async () => {
    const { assertion, verify } = await enrolled();
    const withSecret = await assertion();
    const without = await assertion({ noHmacSecret: true });
    // The unsigned output line grafted onto an answer whose signed data carries no extension.
    const grafted = { stdout: without.stdout + withSecret.stdout.split('\n')[4] + '\n', clientDataHash: without.clientDataHash };
    rejects(() => verify(grafted, 0), 'invalid-response', /signed authenticator data carries none/);
  });

  test('replays: an old answer to a new challenge fails, also with the new challenge pasted in', async () => {
    const { assertion, verify } = await enrolled();
    const old = await assertion();
    const fresh = newClientData('get').hash;
    rejects(() => verify({ stdout: old.stdout, clientDataHash: fresh }), 'invalid-response', /another challenge/);
    rejects(() => verify({ stdout: withLine(old.stdout, 0, b64(fresh)), clientDataHash: fresh }), 'invalid-response', /signature does not verify/);
  });

  test('truncated or garbled output is an invalid response', async () => {
    const { assertion } = await enrolled();
    const { stdout } = await assertion();
    const lines = stdout.split('\n');
    const bad = [
      '',
      stdout.slice(0, -1),
      lines.slice(0, 3).join('\n') + '\n',
      stdout + 'more\n',
      withLine(stdout, 2, lines[2]!.slice(0, 20)),
      withLine(stdout, 3, 'sig?'),
      withLine(stdout, 4, b64(new Uint8Array(31))), // hmac-secret of the wrong length
      withLine(stdout, 4, b64(new Uint8Array(64))), // two salts' worth: not asked for
    ];
    for (const text of bad) rejects(() => parseAssertionOutput(text), 'invalid-response');
  });

  test('a real authenticator assertion (libfido2 regress/assert.c) verifies its signature, then is refused for lacking UP/UV', () => {
    const v = LIBFIDO2_ASSERTION;
    const cose = isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, v.publicKeyXY.subarray(0, 32)], [-3, v.publicKeyXY.subarray(32)]]));
    const out = [b64(v.clientDataHash), LIBFIDO2_RP_ID, b64(v.authDataCbor), b64(v.signature), b64(new Uint8Array(32))].join('\n') + '\n';
    const expected = { clientDataHash: v.clientDataHash, rpId: LIBFIDO2_RP_ID, publicKey: cose, counter: 0 };
    rejects(() => verifyAssertion(parseAssertionOutput(out), expected), 'refused', /presence/);
    const flipped = new Uint8Array(v.signature);
    flipped[20]! ^= 0x01;
    rejects(() => verifyAssertion({ ...parseAssertionOutput(out), signature: flipped }, expected), 'invalid-response', /signature does not verify/);
  });
});

describe('COSE keys', () => {
  test('only ES256 P-256 keys with a point on the curve are accepted', () => {
    const enc = (m: Map<number, number | Uint8Array>) => isoCBOR.encode(m);
    const x = new Uint8Array(32).fill(1);
    rejects(() => publicKeyFromCose(enc(new Map<number, number | Uint8Array>([[1, 2], [3, -8], [-1, 1], [-2, x], [-3, x]]))), 'invalid-response', /ES256/);
    rejects(() => publicKeyFromCose(enc(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, x]]))), 'invalid-response', /P-256 point/);
    rejects(() => publicKeyFromCose(new Uint8Array([0xff])), 'invalid-response');
  });

  test('the stand-in lays out authenticator data per the spec (rpIdHash | flags | counter)', () => {
    const ad = buildAuthData({ rpId: RP_ID, flags: FLAG.UP | FLAG.UV, counter: 0x01020304 });
    assert.equal(ad.length, 37);
    assert.deepEqual(ad.subarray(0, 32), new Uint8Array(createHash('sha256').update(RP_ID).digest()));
    assert.equal(ad[32], 0x05);
    assert.deepEqual([...ad.subarray(33)], [1, 2, 3, 4]);
  });
});
