/**
 * `tpm`: a secret sealed in this machine's TPM 2.0 (bioseal enroll tpm),
 * optionally bound to PCR values, so a model opens only on this device (and,
 * with PCRs, only in the boot state it was enrolled in). The TPM is reached
 * through tpm2-tools with the TCTI from --tcti, BIOSEAL_TPM_TCTI or the TPM
 * device (src/devices/tpm/tcti.ts).
 *
 * Parameters (19 bytes): enrolment id (16) | PCR bitmap of the sha256 bank (3),
 * the bitmap so that `inspect` can show what binds the slot. Re-enrolling a
 * name makes a new id and revokes slots made with the old enrolment.
 *
 * Every unseal counts against the attempt limiter (`tpm:<id>`), refusals
 * included; a success clears the count.
 */
import { DeviceError, FormatError } from '../errors.js';
import { biosealHomePath } from '../home.js';
import { constantTimeEqual, toHex, wipe } from '../util/bytes.js';
import { PCR_BANK, PCR_MASK_BYTES, pcrMask, pcrsFromMask } from '../devices/tpm/pcrs.js';
import { resolveTcti } from '../devices/tpm/tcti.js';
import { unsealSecret } from '../devices/tpm/seal.js';
import { enrolmentIdBytes, findEnrolmentRecordById, loadEnrolmentRecord } from '../enrolment/record-store.js';
import { parseTpmEnrolment, TPM_FACTOR, TPM_SECRET_BYTES, type TpmEnrolment } from '../enrolment/tpm.js';
import { AttemptLimiter } from './rate-limit.js';
import type { Factor } from './factor.js';
import { enrolmentNameFor, type UnlockInputs } from './inputs.js';

const ID_BYTES = 16;
const PARAMS_BYTES = ID_BYTES + PCR_MASK_BYTES;

function encodeParams(e: TpmEnrolment): Uint8Array {
  const out = new Uint8Array(PARAMS_BYTES);
  out.set(enrolmentIdBytes(e.record), 0);
  out.set(pcrMask(e.sealed.pcrs), ID_BYTES);
  return out;
}

function decodeParams(params: Uint8Array): { id: Uint8Array; mask: Uint8Array } {
  if (params.length !== PARAMS_BYTES) throw new FormatError(`tpm parameters must be ${PARAMS_BYTES} bytes`);
  return { id: params.subarray(0, ID_BYTES), mask: params.subarray(ID_BYTES) };
}

/** Unseals the enrolment's secret, counting the attempt against the limiter. */
async function tpmSecret(e: TpmEnrolment, inputs: UnlockInputs): Promise<Uint8Array> {
  const tcti = resolveTcti(inputs.tpmTcti);
  const limiter = new AttemptLimiter(inputs.home ?? biosealHomePath());
  const key = `${TPM_FACTOR}:${e.record.id}`;
  // Counted before the TPM is asked, so parallel attempts cannot outrun the limit.
  limiter.beginAttempt(key, 'TPM');
  const secret = await unsealSecret(e.sealed, { tcti });
  if (secret.length !== TPM_SECRET_BYTES) {
    wipe(secret);
    throw new DeviceError('invalid-response', `the TPM unsealed ${secret.length} bytes, not the ${TPM_SECRET_BYTES}-byte secret of enrolment "${e.record.name}"`);
  }
  limiter.recordSuccess(key);
  return secret;
}

export const tpmFactor: Factor = {
  name: TPM_FACTOR,
  summary: 'a secret sealed in this machine\'s TPM 2.0, optionally to PCR values (bioseal enroll tpm)',
  cost: 20,
  standalone: true,
  async createShare(inputs) {
    const home = inputs.home ?? biosealHomePath();
    const enrolment = parseTpmEnrolment(loadEnrolmentRecord(home, TPM_FACTOR, enrolmentNameFor(inputs, TPM_FACTOR)));
    return { params: encodeParams(enrolment), secret: await tpmSecret(enrolment, inputs) };
  },
  async deriveSecret(params, inputs) {
    const { id, mask } = decodeParams(params);
    const record = findEnrolmentRecordById(inputs.home ?? biosealHomePath(), TPM_FACTOR, id);
    // Never enrolled on this machine, or revoked by re-enrolment.
    if (!record) return undefined;
    const enrolment = parseTpmEnrolment(record);
    if (!constantTimeEqual(pcrMask(enrolment.sealed.pcrs), mask)) {
      throw new FormatError(`tpm enrolment "${record.name}" names other PCRs than the slot made with it: the record was changed`);
    }
    return tpmSecret(enrolment, inputs);
  },
  describe(params) {
    const { id, mask } = decodeParams(params);
    return { enrolment: toHex(id), pcrs: pcrsFromMask(mask), pcrBank: PCR_BANK };
  },
};
