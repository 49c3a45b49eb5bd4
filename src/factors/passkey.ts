/**
 * `passkey`: a WebAuthn passkey with the PRF extension (Touch ID, Windows
 * Hello, Android, a security key), used through a page on localhost. The
 * authenticator verifies the person (fingerprint, face or PIN) and evaluates
 * its PRF on the slot's salt; the server takes that output only together
 * with an assertion it verified, and derives the slot secret from it.
 *
 * Parameters (48 bytes): enrolment id (16) | PRF salt (32, random per slot).
 * The salt is public; the PRF output for it never leaves the authenticator
 * except to this process, and is never stored.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { FormatError, UsageError } from '../errors.js';
import { biosealHomePath } from '../home.js';
import { concatBytes, toHex, utf8, wipe } from '../util/bytes.js';
import { enrolmentIdBytes, findEnrolmentRecordById, loadEnrolmentRecord } from '../enrolment/record-store.js';
import { PASSKEY_FACTOR, readPasskeyEnrolment, updatePasskeyCounter, type PasskeyEnrolment } from '../enrolment/passkey.js';
import { PRF_SALT_LENGTH, withCeremonyServer } from '../webauthn/index.js';
import { AttemptLimiter } from './rate-limit.js';
import type { Factor } from './factor.js';
import { enrolmentNameFor, type Interaction, type UnlockInputs } from './inputs.js';

const PARAMS_LENGTH = 16 + PRF_SALT_LENGTH;
const LABEL = utf8('bioseal/v1 passkey');

function decodeParams(params: Uint8Array): { id: Uint8Array; salt: Uint8Array } {
  if (params.length !== PARAMS_LENGTH) throw new FormatError(`passkey parameters must be ${PARAMS_LENGTH} bytes`);
  return { id: params.subarray(0, 16), salt: params.subarray(16) };
}

/**
 * The slot secret from a verified PRF output: HKDF-SHA-256 with the slot's
 * salt, bound to the enrolment id.
 */
export function passkeySlotSecret(prfOutput: Uint8Array, enrolmentId: Uint8Array, salt: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', prfOutput, salt, concatBytes(LABEL, enrolmentId), 32));
}

/** Runs an assertion ceremony for `salt` and derives the slot secret; counted against the rate limit. */
async function passkeySecret(enrolment: PasskeyEnrolment, salt: Uint8Array, home: string, interaction: Interaction): Promise<Uint8Array> {
  const limiter = new AttemptLimiter(home);
  const key = `${PASSKEY_FACTOR}:${enrolment.record.id}`;
  limiter.beginAttempt(key, 'passkey');
  interaction.notify(`passkey "${enrolment.record.name}": confirm with your passkey on the page below`);
  const assertion = await withCeremonyServer({}, (server) => {
    const ceremony = server.authenticate({ credential: enrolment.credential, salt });
    interaction.openUrl(ceremony.url);
    return ceremony.result;
  });
  let secret: Uint8Array;
  try {
    secret = passkeySlotSecret(assertion.prfOutput, enrolmentIdBytes(enrolment.record), salt);
  } finally {
    wipe(assertion.prfOutput);
  }
  await updatePasskeyCounter(home, enrolment, assertion.newCounter);
  limiter.recordSuccess(key);
  return secret;
}

export const passkeyFactor: Factor = {
  name: PASSKEY_FACTOR,
  summary: 'a passkey with user verification and PRF, confirmed in the browser (bioseal enroll passkey)',
  cost: 200,
  standalone: true,
  async createShare(inputs) {
    if (!inputs.interaction) throw new UsageError('the passkey factor needs a way to send you to its page (an Interaction)');
    const home = inputs.home ?? biosealHomePath();
    const enrolment = readPasskeyEnrolment(loadEnrolmentRecord(home, PASSKEY_FACTOR, enrolmentNameFor(inputs, PASSKEY_FACTOR)));
    const salt = new Uint8Array(randomBytes(PRF_SALT_LENGTH));
    const secret = await passkeySecret(enrolment, salt, home, inputs.interaction);
    return { params: concatBytes(enrolmentIdBytes(enrolment.record), salt), secret };
  },
  async deriveSecret(params, inputs) {
    const { id, salt } = decodeParams(params);
    if (!inputs.interaction) return undefined;
    const home = inputs.home ?? biosealHomePath();
    // Missing here, or re-enrolled since this slot was made (revoked): the slot cannot open.
    const record = findEnrolmentRecordById(home, PASSKEY_FACTOR, id);
    if (!record) return undefined;
    return passkeySecret(readPasskeyEnrolment(record), salt, home, inputs.interaction);
  },
  describe(params) {
    return { enrolment: toHex(decodeParams(params).id) };
  },
};
