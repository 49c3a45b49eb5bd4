/**
 * The two ceremonies of the fido2 factor, end to end through libfido2's
 * tools: make a credential with the hmac-secret extension (enrolment), and
 * get an assertion with a per-slot salt, whose verified hmac-secret output
 * is the factor's secret (unlock).
 *
 * Each ceremony: find the key (named, or listed by `fido2-token -L`), ask it
 * what it can do (`fido2-token -I`: hmac-secret, fingerprint or PIN), run the
 * tool with a fresh challenge, parse its output strictly and verify it.
 */
import { randomBytes } from 'node:crypto';
import { DeviceError, UsageError } from '../../errors.js';
import { wipe } from '../../util/bytes.js';
import { candidateDevices, readDeviceInfo, userVerificationOf, type Fido2DeviceEntry } from './discovery.js';
import { getAssertionRequest, makeCredentialRequest, newClientData, RP_ID, type UserVerification } from './requests.js';
import { Fido2DeviceError, toolFailure } from './tool-errors.js';
import { parseAssertionOutput, parseMakeCredentialOutput } from './tool-output.js';
import { spawnToolRunner, type Fido2ToolRunner } from './tool-runner.js';
import { verifyAssertion, verifyMadeCredential, type VerifiedCredential } from './verify.js';

/** How to reach the key and the person. */
export interface Fido2Session {
  /** Default: the real tools on PATH. */
  readonly runner?: Fido2ToolRunner;
  /** The key's path (--device, BIOSEAL_FIDO2_DEVICE); default: the keys `fido2-token -L` lists. */
  readonly device?: string;
  /** The key's PIN, asked only when the tool prompts for it. */
  readonly pin?: () => Promise<Uint8Array | undefined>;
  /** Tells the person what to do ("touch the key"). */
  readonly notify?: (message: string) => void;
  /** How long the person has for the touch (default 60 s). */
  readonly timeoutMs?: number;
}

export interface Fido2Credential extends VerifiedCredential {
  readonly rpId: string;
  readonly userId: Uint8Array;
  readonly device: Fido2DeviceEntry;
  readonly userVerification: UserVerification;
}

function instruction(uv: UserVerification, device: string, what: string): string {
  return uv === 'builtin'
    ? `${what}: touch the FIDO2 security key ${device} with an enrolled finger`
    : `${what}: the FIDO2 security key ${device} needs its PIN, then a touch`;
}

/**
 * Makes a new ES256 credential with hmac-secret and user verification on the one key present (or named).
 * @throws DeviceError for a missing, unsuitable or refusing key, or an answer that fails verification.
 * @throws UsageError when several keys are present and none is named.
 */
export async function makeFido2Credential(session: Fido2Session, userName: string): Promise<Fido2Credential> {
  const runner = session.runner ?? spawnToolRunner();
  const devices = await candidateDevices(runner, session.device);
  if (devices.length > 1) {
    throw new UsageError(`several FIDO2 security keys are present (${devices.map((d) => d.path).join(', ')}): name one with --device PATH`);
  }
  const device = devices[0]!;
  const info = await readDeviceInfo(runner, device.path);
  const uv = userVerificationOf(info, device.path);
  const clientData = newClientData('create');
  const userId = new Uint8Array(randomBytes(32));
  session.notify?.(instruction(uv, device.path, 'enrolling'));
  const request = makeCredentialRequest({
    device: device.path,
    clientDataHash: clientData.hash,
    userName,
    userId,
    uv,
    resident: uv === 'pin' && info.options.get('makeCredUvNotRqd') === true,
    pin: session.pin,
    timeoutMs: session.timeoutMs,
  });
  const result = await runner.run(request);
  if (result.exitCode !== 0) throw toolFailure(request.tool, result, device.path);
  const verified = verifyMadeCredential(parseMakeCredentialOutput(result.stdout), { clientDataHash: clientData.hash, rpId: RP_ID });
  return { ...verified, rpId: RP_ID, userId, device, userVerification: uv };
}

export interface HmacSecretQuery {
  readonly rpId: string;
  readonly credentialId: Uint8Array;
  /** The credential's COSE public key, from the enrolment. */
  readonly publicKey: Uint8Array;
  /** The last signature counter seen. */
  readonly counter: number;
  /** The slot's 32-byte hmac-secret salt. */
  readonly salt: Uint8Array;
  /** Called once, just before the key is first asked (to count the attempt). */
  readonly beforeUse?: () => void;
}

export interface HmacSecretAnswer {
  /** 32 bytes; the caller wipes it. */
  readonly secret: Uint8Array;
  /** The new signature counter, to store. */
  readonly counter: number;
  readonly device: Fido2DeviceEntry;
}

/** Errors after which the next key present is tried: it is not this one. */
function notThisKey(error: unknown): boolean {
  if (error instanceof Fido2DeviceError && (error.fidoError === 'FIDO_ERR_NO_CREDENTIALS' || error.fidoError === 'FIDO_ERR_INVALID_CREDENTIAL')) return true;
  return error instanceof DeviceError && error.failure === 'unsupported';
}

/**
 * Gets a verified assertion with the hmac-secret of `salt` from the key that
 * holds the credential (the one named, or each key present in turn).
 * @throws DeviceError for a missing or refusing key, or an answer that fails verification.
 */
export async function fido2HmacSecret(session: Fido2Session, query: HmacSecretQuery): Promise<HmacSecretAnswer> {
  const runner = session.runner ?? spawnToolRunner();
  const devices = await candidateDevices(runner, session.device);
  let counted = false;
  let lastError: unknown;
  for (const device of devices) {
    try {
      const uv = userVerificationOf(await readDeviceInfo(runner, device.path), device.path);
      if (!counted) {
        query.beforeUse?.();
        counted = true;
      }
      const clientData = newClientData('get');
      session.notify?.(instruction(uv, device.path, 'unlocking'));
      const request = getAssertionRequest({
        device: device.path,
        rpId: query.rpId,
        clientDataHash: clientData.hash,
        credentialId: query.credentialId,
        salt: query.salt,
        uv,
        pin: session.pin,
        timeoutMs: session.timeoutMs,
      });
      const result = await runner.run(request);
      if (result.exitCode !== 0) throw toolFailure(request.tool, result, device.path);
      const output = parseAssertionOutput(result.stdout);
      try {
        const verified = verifyAssertion(output, { clientDataHash: clientData.hash, rpId: query.rpId, publicKey: query.publicKey, counter: query.counter });
        return { ...verified, device };
      } catch (error) {
        wipe(output.hmacSecret); // an output that failed verification is not kept
        throw error;
      }
    } catch (error) {
      if (devices.length === 1 || !notThisKey(error)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
