/**
 * `pkcs11`: a secret wrapped by a non-extractable AES-256 key on an HSM or
 * smart card (src/devices/pkcs11). Unlocking needs the token present and its
 * user PIN; the token unwraps the secret, which never exists outside it
 * except in this process's memory.
 *
 * Parameters (16 bytes): the enrolment id. The enrolment record says which
 * module, token and key to use; re-enrolling a name revokes its old slots.
 * Each PIN attempt is counted by the attempt limiter (a wrong PIN stays
 * counted; success clears), on top of the token's own PIN lockout.
 */
import { FormatError, UsageError } from '../errors.js';
import { biosealHomePath } from '../home.js';
import { enrolmentIdBytes, findEnrolmentRecordById, loadEnrolmentRecord, type EnrolmentRecord } from '../enrolment/record-store.js';
import { toHex } from '../util/bytes.js';
import { AttemptLimiter } from './rate-limit.js';
import { enrolmentNameFor, type UnlockInputs } from './inputs.js';
import type { Factor } from './factor.js';

const FACTOR = 'pkcs11';
const ID_LENGTH = 16;

function parseId(params: Uint8Array): Uint8Array {
  if (params.length !== ID_LENGTH) throw new FormatError(`pkcs11 parameters must be ${ID_LENGTH} bytes`);
  return params;
}

/** Has the enrolment's token unwrap its secret, counting the PIN attempt. */
async function tokenSecret(record: EnrolmentRecord, pin: Uint8Array, inputs: UnlockInputs): Promise<Uint8Array> {
  // Loaded on demand: the PKCS#11 binding is a native addon that most unlocks never need.
  const { parsePkcs11Enrolment } = await import('../devices/pkcs11/record.js');
  const { unwrapEnrolledSecret } = await import('../devices/pkcs11/secret.js');
  const enrolment = parsePkcs11Enrolment(record);
  const limiter = new AttemptLimiter(inputs.home ?? biosealHomePath());
  const key = `${FACTOR}:${record.id}`;
  const secret = unwrapEnrolledSecret(enrolment, { pin, beforeLogin: () => limiter.beginAttempt(key, 'PKCS#11 PIN') });
  limiter.recordSuccess(key);
  return secret;
}

export const pkcs11Factor: Factor = {
  name: FACTOR,
  summary: 'a secret wrapped by a key on an HSM or smart card, after its PIN (bioseal enroll pkcs11)',
  cost: 30,
  standalone: true,
  async createShare(inputs) {
    const record = loadEnrolmentRecord(inputs.home ?? biosealHomePath(), FACTOR, enrolmentNameFor(inputs, FACTOR));
    const pin = await inputs.pin?.();
    if (!pin) throw new UsageError('the pkcs11 factor needs the token PIN: --pin-file F (or set BIOSEAL_PIN, or type it when asked on a terminal)');
    return { params: enrolmentIdBytes(record), secret: await tokenSecret(record, pin, inputs) };
  },
  async deriveSecret(params, inputs) {
    const record = findEnrolmentRecordById(inputs.home ?? biosealHomePath(), FACTOR, parseId(params));
    // Never enrolled here, or re-enrolled since (revoked): the slot cannot open.
    if (!record) return undefined;
    const pin = await inputs.pin?.();
    if (!pin) return undefined;
    return tokenSecret(record, pin, inputs);
  },
  describe(params) {
    return { enrolment: toHex(parseId(params)) };
  },
};
