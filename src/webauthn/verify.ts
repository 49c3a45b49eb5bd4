/**
 * Server-side verification of what a ceremony page returns, with
 * @simplewebauthn/server: origin, RP ID, the one-time challenge, the
 * signature and counter, user verification, and the PRF extension.
 *
 * A failure is reported as the DeviceError that says what went wrong. To
 * tell "the user was not verified" from "the response is forged", a response
 * that fails only because its UV flag is clear is recognised by verifying it
 * a second time without the UV requirement; nothing is ever accepted that way.
 */
import {
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { DeviceError } from '../errors.js';
import { RP_ID, type StoredCredential } from './relying-party.js';
import { prfEnabled, prfFirstOutput } from './response-json.js';

/** What the relying party expects of a response. */
export interface Expected {
  readonly challenge: string;
  readonly origin: string;
}

/** A newly registered credential (public data only). */
export interface RegisteredCredential extends StoredCredential {
  readonly rpId: string;
  /** The authenticator model's AAGUID (all zeros when it does not say). */
  readonly aaguid: string;
  /** The WebAuthn user handle the credential was made for. */
  readonly userHandle: Uint8Array;
}

/** A verified assertion: the PRF output (the caller wipes it) and the new signature counter. */
export interface VerifiedAssertion {
  readonly prfOutput: Uint8Array;
  readonly newCounter: number;
}

function detail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function passesWithoutUV(check: () => Promise<{ verified: boolean }>): Promise<boolean> {
  try {
    return (await check()).verified;
  } catch {
    return false;
  }
}

/**
 * Verifies a registration: user verification performed and PRF enabled.
 * @throws DeviceError unsupported (no UV or no PRF) or invalid-response.
 */
export async function verifyRegistration(response: RegistrationResponseJSON, expected: Expected, userHandle: Uint8Array): Promise<RegisteredCredential> {
  const options = { response, expectedChallenge: expected.challenge, expectedOrigin: expected.origin, expectedRPID: RP_ID };
  let result;
  try {
    result = await verifyRegistrationResponse({ ...options, requireUserVerification: true });
  } catch (error) {
    if (await passesWithoutUV(() => verifyRegistrationResponse({ ...options, requireUserVerification: false }))) {
      throw new DeviceError('unsupported', 'this authenticator did not verify you (no fingerprint, face or PIN set up on it): bioseal requires user verification');
    }
    throw new DeviceError('invalid-response', `the passkey registration did not verify: ${detail(error)}`, { cause: error });
  }
  if (!result.verified) throw new DeviceError('invalid-response', 'the passkey registration did not verify');
  if (!prfEnabled(response)) {
    throw new DeviceError('unsupported', 'this authenticator or browser does not support the PRF extension, which bioseal needs to derive a key');
  }
  const info = result.registrationInfo;
  return {
    id: new Uint8Array(Buffer.from(info.credential.id, 'base64url')),
    publicKey: new Uint8Array(info.credential.publicKey),
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    rpId: RP_ID,
    aaguid: info.aaguid,
    userHandle,
  };
}

/**
 * Verifies an assertion by `credential` and takes its PRF output.
 * @throws DeviceError refused (UV flag clear), unsupported (no PRF output) or invalid-response.
 */
export async function verifyAssertion(response: AuthenticationResponseJSON, expected: Expected, credential: StoredCredential): Promise<VerifiedAssertion> {
  if (response.id !== Buffer.from(credential.id).toString('base64url')) {
    throw new DeviceError('invalid-response', 'the assertion comes from a different passkey than the one enrolled');
  }
  const options = {
    response,
    expectedChallenge: expected.challenge,
    expectedOrigin: expected.origin,
    expectedRPID: RP_ID,
    credential: { id: response.id, publicKey: new Uint8Array(credential.publicKey), counter: credential.counter, transports: [...credential.transports] as never },
  };
  let result;
  try {
    result = await verifyAuthenticationResponse({ ...options, requireUserVerification: true });
  } catch (error) {
    if (await passesWithoutUV(() => verifyAuthenticationResponse({ ...options, requireUserVerification: false }))) {
      throw new DeviceError('refused', 'the authenticator did not verify you (fingerprint, face or PIN): user verification is required');
    }
    throw new DeviceError('invalid-response', `the passkey assertion did not verify: ${detail(error)}`, { cause: error });
  }
  if (!result.verified) throw new DeviceError('invalid-response', 'the passkey assertion signature did not verify');
  const prfOutput = prfFirstOutput(response);
  if (!prfOutput) throw new DeviceError('unsupported', 'the authenticator returned no PRF output; it cannot derive keys for bioseal');
  return { prfOutput, newCounter: result.authenticationInfo.newCounter };
}
