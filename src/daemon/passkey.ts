/**
 * Passkeys through the daemon's pages: registering one (an enrolment) and
 * touching one as step-up evidence. The WebAuthn work is src/webauthn's: the
 * relying party's options, strict parsing of what the page posts, and
 * verification with @simplewebauthn/server (origin, RP ID `localhost`, the
 * one-time challenge, signature, counter, user verification, PRF).
 *
 *   POST /v1/challenges/passkey {"purpose": "register", "name"?, "overwrite"?}
 *   POST /v1/challenges/passkey {"purpose": "assert", "enrolment"?}
 *       -> {"challenge": id, "expiresAt", "publicKey": options as JSON}
 *   POST /v1/enrolments/passkey {"challenge", "credential"}
 *   POST /v1/evidence           {"type": "passkey", "challenge", "credential"}
 *
 * The relying party is `localhost`, so the pages must be opened at
 * http://localhost:PORT/ (an IP address cannot be an RP ID); the origin a
 * challenge expects is the one its page was served from. A touch that fails
 * verification is negative evidence, not an error: trust goes down.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DeviceError, ExistsError, UsageError } from '../errors.js';
import { listEnrolmentRecords, loadEnrolmentRecord, newEnrolmentRecord, saveEnrolmentRecord } from '../enrolment/record-store.js';
import { PASSKEY_FACTOR, readPasskeyEnrolment, recordData, updatePasskeyCounter } from '../enrolment/passkey.js';
import { creationOptions, newChallenge, PRF_SALT_LENGTH, requestOptions, RP_ID } from '../webauthn/relying-party.js';
import { parseAuthenticationResponse, parseRegistrationResponse } from '../webauthn/response-json.js';
import { verifyAssertion, verifyRegistration } from '../webauthn/verify.js';
import type { TrustEvidence } from '../trust/index.js';
import { wipe } from '../util/bytes.js';
import { CHALLENGE_TTL_MS, type ChallengeStore } from './challenges.js';
import { enrolmentNameFrom, type EnrolmentGuard } from './enrolments.js';

/** What an open passkey challenge remembers. */
export type PasskeyChallenge =
  | { readonly purpose: 'register'; readonly challenge: string; readonly origin: string; readonly name: string; readonly overwrite: boolean; readonly userHandle: Uint8Array }
  | { readonly purpose: 'assert'; readonly challenge: string; readonly origin: string; readonly name: string; readonly recordId: string };

export interface PasskeyContext {
  readonly home: string;
  readonly challenges: { readonly passkey: ChallengeStore<PasskeyChallenge> };
}

const HOST = new RegExp(`^${RP_ID}:\\d{1,5}$`);

/**
 * The WebAuthn origin of the page that sent `req`.
 * @throws UsageError when the page was not opened at http://localhost:PORT.
 */
export function pageOrigin(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  if (!HOST.test(host)) throw new UsageError(`passkeys work only on pages opened at http://${RP_ID}:PORT/ui/ (this request names "${host.slice(0, 100)}")`);
  return `http://${host}`;
}

/** The policy resource of a passkey enrolment change. */
export function passkeyEnrolmentResource(name: string) {
  return { type: 'Enrolment', id: `passkey:${name}`, factor: PASSKEY_FACTOR } as const;
}

/**
 * Opens a registration or an assertion challenge; returns the options for
 * `navigator.credentials.create()` / `.get()` (byte strings in base64url).
 * @throws UsageError for a malformed body or when no passkey is enrolled; ExistsError when a registration would replace one unasked.
 */
export function openPasskeyChallenge(body: Record<string, unknown>, ctx: PasskeyContext, origin: string, epoch: number): { challenge: string; expiresAt: string; publicKey: Record<string, unknown> } {
  const challenge = newChallenge();
  if (body.purpose === 'register') {
    const name = enrolmentNameFrom(body.name, 'name');
    if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean') throw new UsageError('"overwrite" must be true or false');
    const overwrite = body.overwrite === true;
    if (!overwrite && listEnrolmentRecords(ctx.home, PASSKEY_FACTOR).some((r) => r.name === name)) {
      throw new ExistsError(`a passkey enrolment named "${name}" exists (ask to replace it, which revokes it)`);
    }
    const userHandle = new Uint8Array(randomBytes(32));
    const publicKey = creationOptions(challenge, userHandle, `bioseal ${name}`, CHALLENGE_TTL_MS);
    const { id, expiresAt } = ctx.challenges.passkey.issue({ purpose: 'register', challenge, origin, name, overwrite, userHandle }, epoch);
    return { challenge: id, expiresAt, publicKey };
  }
  if (body.purpose === 'assert') {
    const name = enrolmentNameFrom(body.enrolment, 'enrolment');
    if (!listEnrolmentRecords(ctx.home, PASSKEY_FACTOR).some((r) => r.name === name)) {
      throw new UsageError(`no passkey enrolment named "${name}": enrol one first (Enrol page, or bioseal enroll passkey)`);
    }
    const enrolment = readPasskeyEnrolment(loadEnrolmentRecord(ctx.home, PASSKEY_FACTOR, name));
    // verifyAssertion insists on a PRF output; for a touch it is thrown away (the salt is random and never reused).
    const salt = new Uint8Array(randomBytes(PRF_SALT_LENGTH));
    const publicKey = requestOptions(challenge, enrolment.credential, salt, CHALLENGE_TTL_MS);
    const { id, expiresAt } = ctx.challenges.passkey.issue({ purpose: 'assert', challenge, origin, name, recordId: enrolment.record.id }, epoch);
    return { challenge: id, expiresAt, publicKey };
  }
  throw new UsageError('"purpose" must be "register" or "assert"');
}

function takeChallenge<P extends PasskeyChallenge['purpose']>(body: Record<string, unknown>, ctx: PasskeyContext, epoch: number, purpose: P): Extract<PasskeyChallenge, { purpose: P }> {
  const open = ctx.challenges.passkey.take(body.challenge, epoch);
  if (open.purpose !== purpose) throw new UsageError(`that challenge was opened for "${open.purpose}", not "${purpose}"`);
  return open as Extract<PasskeyChallenge, { purpose: P }>;
}

/** The browser's answer, strictly parsed; a malformed one is the client's error (400), not the authenticator's. */
function parsed<T>(parse: (v: unknown) => T, value: unknown): T {
  try {
    return parse(value);
  } catch (error) {
    throw new UsageError(`"credential": ${(error as Error).message}`);
  }
}

/**
 * Verifies a registration answer and saves the passkey enrolment; the
 * guard's policy check runs with the enrolment's name first.
 * @throws UsageError (malformed answer, unknown challenge), DeviceError (it does not verify, no UV, no PRF), ExistsError, DeniedError.
 */
export async function enrolPasskeyFromRequest(
  body: Record<string, unknown>,
  ctx: PasskeyContext,
  epoch: number,
  guard: EnrolmentGuard,
): Promise<{ enrolled: string; aaguid: string; replaced: boolean }> {
  const open = takeChallenge(body, ctx, epoch, 'register');
  guard.authorize(open.name);
  const response = parsed(parseRegistrationResponse, body.credential);
  const credential = await verifyRegistration(response, { challenge: open.challenge, origin: open.origin }, open.userHandle);
  const replaced = listEnrolmentRecords(ctx.home, PASSKEY_FACTOR).some((r) => r.name === open.name);
  guard.assertStill();
  await saveEnrolmentRecord(ctx.home, newEnrolmentRecord(PASSKEY_FACTOR, open.name, recordData(credential)), { overwrite: open.overwrite });
  return { enrolled: open.name, aaguid: credential.aaguid, replaced };
}

/**
 * A passkey touch as trust evidence: verified (signature, counter, user
 * verification) or failed. Only a malformed body or an unknown challenge is an error.
 * @throws UsageError
 */
export async function passkeyEvidenceFromRequest(body: Record<string, unknown>, ctx: PasskeyContext, epoch: number): Promise<{ evidence: TrustEvidence[]; summary: string }> {
  const open = takeChallenge(body, ctx, epoch, 'assert');
  const response = parsed(parseAuthenticationResponse, body.credential);
  const observedAt = Date.now();
  let verified = false;
  let why: string;
  try {
    const record = loadEnrolmentRecord(ctx.home, PASSKEY_FACTOR, open.name);
    if (record.id !== open.recordId) throw new DeviceError('invalid-response', `passkey enrolment "${open.name}" was replaced during the touch`);
    const enrolment = readPasskeyEnrolment(record);
    const assertion = await verifyAssertion(response, { challenge: open.challenge, origin: open.origin }, enrolment.credential);
    wipe(assertion.prfOutput);
    await updatePasskeyCounter(ctx.home, enrolment, assertion.newCounter);
    verified = true;
    why = `passkey "${open.name}" verified the person`;
  } catch (error) {
    if (!(error instanceof DeviceError)) throw error;
    why = `passkey "${open.name}" not verified: ${error.message}`;
  }
  return { evidence: [{ modality: 'passkey', observedAt, verified }], summary: `passkey touch: ${why}` };
}
