/**
 * `bioseal enroll pkcs11`: finds or creates the non-extractable AES-256 key
 * on the token, has the token wrap a fresh random 32-byte secret with it
 * (checking that it unwraps again), and stores the record. The secret itself
 * is never stored and is wiped here once wrapped.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ExistsError, UsageError } from '../../errors.js';
import {
  checkEnrolmentName,
  enrolmentIdBytes,
  listEnrolmentRecords,
  newEnrolmentRecord,
  saveEnrolmentRecord,
  type EnrolmentRecord,
} from '../../enrolment/record-store.js';
import { constantTimeEqual, wipe } from '../../util/bytes.js';
import { checkUsableKey, createKey, findKeys, keyProperties, type KeyLocator } from './key.js';
import { defaultKeyLabel, keyLabelProblem, parsePkcs11Enrolment, pkcs11RecordData, PKCS11_FACTOR, tokenLabelProblem, type Pkcs11Enrolment } from './record.js';
import { withTokenSession, type TokenIdentity } from './token.js';
import { SECRET_LENGTH, requireGcm, unwrapSecret, wrapAad, wrapSecret } from './wrap.js';

export interface Pkcs11EnrolOptions {
  readonly home: string;
  readonly name: string;
  /** Path of the PKCS#11 module. */
  readonly module: string;
  readonly tokenLabel: string;
  /** Use (or create) the key with this label; default `bioseal:<name>`. */
  readonly keyLabel?: string;
  /** The user PIN, UTF-8 (not kept). */
  readonly pin: Uint8Array;
  /** Replace an enrolment of that name (revoking it). */
  readonly overwrite?: boolean;
}

export interface Pkcs11EnrolResult {
  readonly enrolment: Pkcs11Enrolment;
  readonly file: string;
  readonly token: TokenIdentity;
  /** Whether the key was created now (false: an existing key was used). */
  readonly createdKey: boolean;
}

function checkOptions(o: Pkcs11EnrolOptions, keyLabel: string): void {
  checkEnrolmentName(o.name);
  if (o.module.length === 0) throw new UsageError('the PKCS#11 module path is empty');
  const tokenProblem = tokenLabelProblem(o.tokenLabel);
  if (tokenProblem) throw new UsageError(`the token label ${tokenProblem}`);
  const keyProblem = keyLabelProblem(keyLabel);
  if (keyProblem) throw new UsageError(`the key label ${keyProblem}`);
  if (!o.overwrite && listEnrolmentRecords(o.home, PKCS11_FACTOR).some((r) => r.name === o.name)) {
    throw new ExistsError(`a ${PKCS11_FACTOR} enrolment named "${o.name}" exists (use --force to re-enrol, which revokes it)`);
  }
}

/**
 * Enrols a token.
 * @throws UsageError for unusable options or an unusable existing key;
 * ExistsError when the name is taken; DeviceError when the token refuses or is absent.
 */
export async function enrolPkcs11(o: Pkcs11EnrolOptions): Promise<Pkcs11EnrolResult> {
  const keyLabel = o.keyLabel ?? defaultKeyLabel(o.name);
  checkOptions(o, keyLabel);
  // A library named without a directory is found by the loader's search path; anything else is made absolute.
  const module = o.module.includes('/') ? path.resolve(o.module) : o.module;
  const draft: EnrolmentRecord = newEnrolmentRecord(PKCS11_FACTOR, o.name, {});
  const aad = wrapAad(enrolmentIdBytes(draft));
  const secret = new Uint8Array(randomBytes(SECRET_LENGTH));
  try {
    const made = withTokenSession({ module, tokenLabel: o.tokenLabel, pin: o.pin, readWrite: true }, (s) => {
      requireGcm(s);
      const found = findKeys(s, { label: keyLabel, id: new Uint8Array(0) });
      if (found.length > 1) throw new UsageError(`the token holds several keys labelled "${keyLabel}"; name one with --key-label`);
      let key: KeyLocator;
      let handle = found[0];
      if (handle) {
        const props = keyProperties(s, handle);
        checkUsableKey(props, keyLabel);
        key = { label: keyLabel, id: props.id };
      } else {
        const created = createKey(s, keyLabel);
        handle = created.handle;
        key = { label: keyLabel, id: created.id };
      }
      const { iv, wrapped } = wrapSecret(s, handle, secret, aad);
      // The token must give the secret back before the record is trusted with it.
      const back = unwrapSecret(s, handle, iv, wrapped, aad);
      const same = constantTimeEqual(back, secret);
      wipe(back);
      if (!same) throw new UsageError(`the PKCS#11 token "${s.token.label}" did not return the secret it wrapped; it cannot be used`);
      return { token: s.token, key, iv, wrapped, createdKey: !found[0] };
    });
    const data = pkcs11RecordData({ module, tokenLabel: made.token.label, tokenSerial: made.token.serial, key: made.key, iv: made.iv, wrapped: made.wrapped });
    const record: EnrolmentRecord = { ...draft, data };
    const enrolment = parsePkcs11Enrolment(record);
    const file = await saveEnrolmentRecord(o.home, record, { overwrite: o.overwrite });
    return { enrolment, file, token: made.token, createdKey: made.createdKey };
  } finally {
    wipe(secret);
  }
}
