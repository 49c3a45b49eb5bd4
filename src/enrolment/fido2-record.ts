/**
 * fido2 enrolments: a credential made on a FIDO2 security key, recorded under
 * `$BIOSEAL_HOME/enrolments/fido2/NAME.json` (record-store.ts).
 *
 * A record holds what is needed to ask the key again and to check its
 * answers: the relying party id, the credential id, the credential's COSE
 * public key, the last signature counter, and what was learnt about the key
 * (path, model AAGUID, fingerprint or PIN, attestation kind). No secret: the
 * secret is the key's hmac-secret output for a slot's salt, which only the key
 * can compute. A record altered by someone who can write $BIOSEAL_HOME can at
 * worst make the slot fail: a different key cannot produce the same output.
 */
import { ExistsError } from '../errors.js';
import { makeFido2Credential, type Fido2Credential, type Fido2Session } from '../devices/fido2/authenticator.js';
import {
  findEnrolmentRecordById,
  listEnrolmentRecords,
  loadEnrolmentRecord,
  newEnrolmentRecord,
  RecordFields,
  saveEnrolmentRecord,
  toBase64,
  type EnrolmentRecord,
} from './record-store.js';

export const FIDO2 = 'fido2';

export interface Fido2Enrolment {
  readonly record: EnrolmentRecord;
  readonly rpId: string;
  readonly credentialId: Uint8Array;
  /** COSE public key (ES256). */
  readonly publicKey: Uint8Array;
  /** The last signature counter seen (0 for keys that keep none). */
  readonly counter: number;
}

function recordData(c: Fido2Credential): Record<string, unknown> {
  return {
    rpId: c.rpId,
    credentialId: toBase64(c.credentialId),
    publicKey: toBase64(c.publicKey),
    userId: toBase64(c.userId),
    counter: c.counter,
    aaguid: c.aaguid,
    device: c.device.path,
    deviceDescription: c.device.description,
    userVerification: c.userVerification,
    attestation: c.attestation,
  };
}

/**
 * The fido2 fields of a record, read strictly.
 * @throws FormatError when a field is missing, malformed or over its cap.
 */
export function readFido2Enrolment(record: EnrolmentRecord): Fido2Enrolment {
  const f = new RecordFields(record.data, 'fido2 enrolment');
  return {
    record,
    rpId: f.string('rpId', /^[\x21-\x7e]{1,128}$/),
    credentialId: f.bytes('credentialId', { max: 1024 }),
    publicKey: f.bytes('publicKey', { max: 1024 }),
    counter: f.int('counter', 0, 0xffffffff),
  };
}

/** Loads the enrolment named `name`. @throws UsageError when there is none. */
export function loadFido2Enrolment(home: string, name: string): Fido2Enrolment {
  return readFido2Enrolment(loadEnrolmentRecord(home, FIDO2, name));
}

/** The enrolment a slot names, or undefined (not on this machine, or revoked by re-enrolment). */
export function findFido2Enrolment(home: string, id: Uint8Array): Fido2Enrolment | undefined {
  const record = findEnrolmentRecordById(home, FIDO2, id);
  return record ? readFido2Enrolment(record) : undefined;
}

/**
 * Stores the signature counter of the latest verified assertion, unless the
 * name has been re-enrolled meanwhile (then the old enrolment is gone anyway).
 */
export async function saveFido2Counter(home: string, e: Fido2Enrolment, counter: number): Promise<void> {
  if (counter === e.counter) return;
  const current = loadEnrolmentRecord(home, FIDO2, e.record.name);
  if (current.id !== e.record.id) return;
  await saveEnrolmentRecord(home, { ...current, data: { ...current.data, counter } }, { overwrite: true });
}

export interface Fido2EnrolResult {
  readonly enrolment: Fido2Enrolment;
  readonly credential: Fido2Credential;
  readonly file: string;
}

/**
 * Makes a credential on the key and records it under `name`.
 * @throws ExistsError when the name is taken and `overwrite` is not set (checked before the key is asked).
 */
export async function enrolFido2(o: { home: string; name: string; overwrite?: boolean; session: Fido2Session }): Promise<Fido2EnrolResult> {
  const draft = newEnrolmentRecord(FIDO2, o.name, {});
  if (!o.overwrite && listEnrolmentRecords(o.home, FIDO2).some((r) => r.name === o.name)) {
    throw new ExistsError(`a fido2 enrolment named "${o.name}" exists (use --force to re-enrol, which revokes it)`);
  }
  const credential = await makeFido2Credential(o.session, `bioseal ${o.name}`);
  const record: EnrolmentRecord = { ...draft, data: recordData(credential) };
  const file = await saveEnrolmentRecord(o.home, record, { overwrite: o.overwrite });
  return { enrolment: readFido2Enrolment(record), credential, file };
}
