/**
 * `fido2`: a FIDO2 security key with user verification (a fingerprint on the
 * key, or its PIN), through libfido2's command-line tools. The secret of a
 * slot is the key's hmac-secret output for the slot's own random salt,
 * returned with a verified assertion (src/devices/fido2/).
 *
 * Parameters (48 bytes): enrolment id (16) | hmac-secret salt (32). The salt
 * is public; the output needs the key, its credential and a verified user.
 * Re-enrolling the name makes a new credential and id: old slots stop opening.
 *
 * Each use of the key counts against the attempt limiter (`fido2:<id>`) before
 * the key is asked; a refusal stays counted, a verified answer clears it.
 */
import { randomBytes } from 'node:crypto';
import { FormatError } from '../errors.js';
import { biosealHomePath } from '../home.js';
import { fido2HmacSecret } from '../devices/fido2/authenticator.js';
import { explicitDevice } from '../devices/fido2/discovery.js';
import { SALT_LENGTH } from '../devices/fido2/requests.js';
import type { Fido2ToolRunner } from '../devices/fido2/tool-runner.js';
import { FIDO2, findFido2Enrolment, loadFido2Enrolment, saveFido2Counter, type Fido2Enrolment } from '../enrolment/fido2-record.js';
import { enrolmentIdBytes } from '../enrolment/record-store.js';
import { toHex, wipe } from '../util/bytes.js';
import { AttemptLimiter } from './rate-limit.js';
import type { Factor } from './factor.js';
import { enrolmentNameFor, type UnlockInputs } from './inputs.js';

const ID_LENGTH = 16;
const PARAMS_LENGTH = ID_LENGTH + SALT_LENGTH;

function encodeParams(e: Fido2Enrolment, salt: Uint8Array): Uint8Array {
  const out = new Uint8Array(PARAMS_LENGTH);
  out.set(enrolmentIdBytes(e.record), 0);
  out.set(salt, ID_LENGTH);
  return out;
}

function decodeParams(params: Uint8Array): { id: Uint8Array; salt: Uint8Array } {
  if (params.length !== PARAMS_LENGTH) throw new FormatError(`fido2 parameters must be ${PARAMS_LENGTH} bytes`);
  return { id: params.subarray(0, ID_LENGTH), salt: params.subarray(ID_LENGTH) };
}

/** Asks the key for the hmac-secret of `salt`, counting the attempt; stores the new signature counter. */
async function fido2Secret(runner: Fido2ToolRunner | undefined, home: string, e: Fido2Enrolment, salt: Uint8Array, inputs: UnlockInputs): Promise<Uint8Array> {
  const limiter = new AttemptLimiter(home);
  const key = `${FIDO2}:${e.record.id}`;
  const answer = await fido2HmacSecret(
    { runner, device: explicitDevice(undefined), pin: inputs.pin, notify: inputs.interaction ? (m) => inputs.interaction!.notify(m) : undefined },
    {
      rpId: e.rpId,
      credentialId: e.credentialId,
      publicKey: e.publicKey,
      counter: e.counter,
      salt,
      // Counted once a key is found, before it is asked: an unplugged key is not a failed attempt.
      beforeUse: () => limiter.beginAttempt(key, 'fido2 security key'),
    },
  );
  limiter.recordSuccess(key);
  try {
    await saveFido2Counter(home, e, answer.counter);
  } catch (error) {
    wipe(answer.secret);
    throw error;
  }
  return answer.secret;
}

/**
 * The fido2 factor, talking to the keys through `runner` (default: the real
 * tools on PATH; tests pass a stand-in, as no key exists where they run).
 */
export function createFido2Factor(runner?: Fido2ToolRunner): Factor {
  return {
    name: FIDO2,
    summary: 'a FIDO2 security key with a fingerprint or PIN, through libfido2 (bioseal enroll fido2)',
    cost: 150,
    standalone: true,
    async createShare(inputs) {
      const home = inputs.home ?? biosealHomePath();
      const enrolment = loadFido2Enrolment(home, enrolmentNameFor(inputs, FIDO2));
      const salt = new Uint8Array(randomBytes(SALT_LENGTH));
      const secret = await fido2Secret(runner, home, enrolment, salt, inputs);
      return { params: encodeParams(enrolment, salt), secret };
    },
    async deriveSecret(params, inputs) {
      const { id, salt } = decodeParams(params);
      const home = inputs.home ?? biosealHomePath();
      const enrolment = findFido2Enrolment(home, id);
      // Never enrolled here, or revoked by re-enrolment: the slot cannot open.
      if (!enrolment) return undefined;
      return fido2Secret(runner, home, enrolment, salt, inputs);
    },
    describe(params) {
      return { enrolment: toHex(decodeParams(params).id) };
    },
  };
}

export const fido2Factor: Factor = createFido2Factor();
