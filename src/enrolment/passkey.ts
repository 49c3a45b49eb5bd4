/**
 * Passkey enrolments: a WebAuthn credential registered through the ceremony
 * server (user verification and PRF required), kept as a record-store record
 * under $BIOSEAL_HOME/enrolments/passkey/NAME.json.
 *
 * The record holds only public data: credential id, COSE public key,
 * signature counter, RP ID, transports, AAGUID and user handle. The PRF
 * output, the secret the passkey produces, is never stored.
 */
import {
  listEnrolmentRecords,
  loadEnrolmentRecord,
  newEnrolmentRecord,
  RecordFields,
  saveEnrolmentRecord,
  toBase64,
  checkEnrolmentName,
  type EnrolmentRecord,
} from './record-store.js';
import { ExistsError, FormatError } from '../errors.js';
import { RP_ID, withCeremonyServer, type RegisteredCredential, type StoredCredential } from '../webauthn/index.js';

export const PASSKEY_FACTOR = 'passkey';
const TRANSPORTS = /^((ble|cable|hybrid|internal|nfc|smart-card|usb)(,(ble|cable|hybrid|internal|nfc|smart-card|usb)){0,7})?$/;
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A passkey enrolment: its record and the credential it names. */
export interface PasskeyEnrolment {
  readonly record: EnrolmentRecord;
  readonly credential: StoredCredential;
  readonly aaguid: string;
}

/** The record fields of a registered credential (public data only). */
export function recordData(c: RegisteredCredential): Record<string, unknown> {
  return {
    credentialId: toBase64(c.id),
    publicKey: toBase64(c.publicKey),
    counter: c.counter,
    rpId: c.rpId,
    transports: c.transports.join(','),
    aaguid: c.aaguid,
    userHandle: toBase64(c.userHandle),
  };
}

/**
 * Reads the credential out of a passkey record, strictly.
 * @throws FormatError when a field is malformed or the RP ID is not bioseal's.
 */
export function readPasskeyEnrolment(record: EnrolmentRecord): PasskeyEnrolment {
  const f = new RecordFields(record.data, 'passkey enrolment');
  if (f.string('rpId') !== RP_ID) throw new FormatError(`passkey enrolment: rpId must be ${RP_ID}`);
  f.bytes('userHandle', { max: 64 });
  const transports = f.string('transports', TRANSPORTS);
  return {
    record,
    credential: {
      id: f.bytes('credentialId', { max: 1023 }),
      publicKey: f.bytes('publicKey', { max: 2048 }),
      counter: f.int('counter', 0, 0xffffffff),
      transports: transports ? transports.split(',') : [],
    },
    aaguid: f.string('aaguid', AAGUID),
  };
}

/**
 * Registers a passkey through a browser page and saves its record.
 * @throws ExistsError when the name is taken and `overwrite` is not set (before any ceremony);
 *   DeviceError when the registration fails.
 */
export async function enrolPasskey(o: {
  home: string;
  name: string;
  overwrite?: boolean;
  timeoutMs?: number;
  openUrl: (url: string) => void;
}): Promise<{ enrolment: PasskeyEnrolment; file: string }> {
  checkEnrolmentName(o.name);
  if (!o.overwrite && listEnrolmentRecords(o.home, PASSKEY_FACTOR).some((r) => r.name === o.name)) {
    throw new ExistsError(`a passkey enrolment named "${o.name}" exists (use --force to re-enrol, which revokes it)`);
  }
  const credential = await withCeremonyServer({ timeoutMs: o.timeoutMs }, (server) => {
    const ceremony = server.register({ userName: `bioseal ${o.name}` });
    o.openUrl(ceremony.url);
    return ceremony.result;
  });
  const record = newEnrolmentRecord(PASSKEY_FACTOR, o.name, recordData(credential));
  const file = await saveEnrolmentRecord(o.home, record, { overwrite: o.overwrite });
  return { enrolment: readPasskeyEnrolment(record), file };
}

/**
 * Stores the signature counter of the latest verified assertion, unless the
 * enrolment was replaced meanwhile. WebAuthn's clone detection rests on it.
 */
export async function updatePasskeyCounter(home: string, enrolment: PasskeyEnrolment, counter: number): Promise<void> {
  if (counter === enrolment.credential.counter) return;
  const current = loadEnrolmentRecord(home, PASSKEY_FACTOR, enrolment.record.name);
  if (current.id !== enrolment.record.id) return;
  await saveEnrolmentRecord(home, { ...current, data: { ...current.data, counter } }, { overwrite: true });
}

