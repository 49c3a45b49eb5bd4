/**
 * TPM enrolments: a random 32-byte secret sealed in the TPM (optionally to
 * PCR values), kept as an enrolment record holding the sealed object's
 * public and private blobs, the PCR selection and the primary key's template.
 * The secret itself is never stored; only this TPM can unseal the blobs.
 *
 * Record data (strictly parsed):
 *   { "pcrBank": "sha256", "pcrs": [0, 7],
 *     "primary": { "hierarchy": "owner", "algorithm": "ecc256:aes128cfb", "hash": "sha256", "attributes": "..." },
 *     "public": base64 TPM2B_PUBLIC, "private": base64 TPM2B_PRIVATE }
 */
import { randomBytes } from 'node:crypto';
import { DeviceError, FormatError } from '../errors.js';
import { constantTimeEqual, wipe } from '../util/bytes.js';
import { PCR_BANK, PCR_COUNT } from '../devices/tpm/pcrs.js';
import { checkPrimaryTemplate, sealSecret, unsealSecret, DEFAULT_PRIMARY, type SealedSecret } from '../devices/tpm/seal.js';
import { newEnrolmentRecord, saveEnrolmentRecord, RecordFields, toBase64, type EnrolmentRecord } from './record-store.js';

/** The factor name records are kept under. */
export const TPM_FACTOR = 'tpm';
/** Size of the sealed secret. */
export const TPM_SECRET_BYTES = 32;
/** TPM2B blobs are far smaller than this (a TPM's MAX_CONTEXT_SIZE is about 1-5 KiB). */
const MAX_BLOB = 4096;

/** An enrolment record with its sealed object, parsed. */
export interface TpmEnrolment {
  readonly record: EnrolmentRecord;
  readonly sealed: SealedSecret;
}

/** A non-empty TPM2B structure: a big-endian 16-bit size, then exactly that many bytes (TPM 2.0 Part 2 §10.4). */
function tpm2b(f: RecordFields, key: string): Uint8Array {
  const b = f.bytes(key, { max: MAX_BLOB });
  if (b.length < 3 || ((b[0]! << 8) | b[1]!) !== b.length - 2) throw new FormatError(`tpm enrolment: ${key} is not a TPM2B structure`);
  return b;
}

/**
 * The sealed object of a TPM enrolment record.
 * @throws FormatError for a record that is not a well-formed TPM enrolment.
 */
export function parseTpmEnrolment(record: EnrolmentRecord): TpmEnrolment {
  const f = new RecordFields(record.data, 'tpm enrolment');
  if (f.string('pcrBank') !== PCR_BANK) throw new FormatError(`tpm enrolment: only the ${PCR_BANK} PCR bank is supported`);
  const pcrs = f.intList('pcrs', 0, PCR_COUNT - 1, PCR_COUNT);
  if (pcrs.some((p, i) => i > 0 && p <= pcrs[i - 1]!)) throw new FormatError('tpm enrolment: pcrs must be ascending, without repeats');
  const p = f.object('primary');
  const primary = checkPrimaryTemplate({ hierarchy: p.string('hierarchy') as 'owner', algorithm: p.string('algorithm'), hash: p.string('hash'), attributes: p.string('attributes') });
  return { record, sealed: { public: tpm2b(f, 'public'), private: tpm2b(f, 'private'), pcrs, primary } };
}

export interface EnrolTpmOptions {
  readonly home: string;
  readonly name: string;
  /** PCRs of the sha256 bank to bind to (ascending); empty: bound to the TPM only. */
  readonly pcrs: readonly number[];
  /** The TPM, as a tpm2-tools TCTI. */
  readonly tcti: string;
  /** Replace an enrolment of that name (revoking its slots). */
  readonly overwrite?: boolean;
}

/**
 * Seals a fresh random secret in the TPM, checks that it unseals, and saves
 * the record.
 * @throws DeviceError when the TPM is unreachable or refuses; ExistsError
 *   when the name is taken and `overwrite` is not set.
 */
export async function enrolTpm(o: EnrolTpmOptions): Promise<{ enrolment: TpmEnrolment; file: string }> {
  const secret = new Uint8Array(randomBytes(TPM_SECRET_BYTES));
  let check: Uint8Array | undefined;
  try {
    const sealed = await sealSecret(secret, o.pcrs, { tcti: o.tcti }, DEFAULT_PRIMARY);
    // An enrolment that cannot unseal (a policy the TPM does not satisfy) is refused now, not at the first unlock.
    check = await unsealSecret(sealed, { tcti: o.tcti });
    if (!constantTimeEqual(check, secret)) throw new DeviceError('invalid-response', 'the TPM unsealed something other than the secret it sealed');
    const record = newEnrolmentRecord(TPM_FACTOR, o.name, {
      pcrBank: PCR_BANK,
      pcrs: [...sealed.pcrs],
      primary: { ...sealed.primary },
      public: toBase64(sealed.public),
      private: toBase64(sealed.private),
    });
    const file = await saveEnrolmentRecord(o.home, record, { overwrite: o.overwrite });
    return { enrolment: { record, sealed }, file };
  } finally {
    wipe(secret, check);
  }
}
