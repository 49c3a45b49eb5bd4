/**
 * The pkcs11 enrolment record's own fields (the `data` of a generic
 * enrolment record, src/enrolment/record-store.ts): where the token and key
 * are, and the wrapped secret. No PIN, no secret in the clear.
 *
 * The module path names a shared library that unlocking loads; the record
 * lives in the owner-only $BIOSEAL_HOME, like everything else bioseal trusts.
 */
import { FormatError } from '../../errors.js';
import { RecordFields, toBase64, type EnrolmentRecord } from '../../enrolment/record-store.js';
import { IV_LENGTH, SECRET_LENGTH, TAG_LENGTH, WRAP_MECHANISM } from './wrap.js';
import type { KeyLocator } from './key.js';

export const PKCS11_FACTOR = 'pkcs11';

/** PKCS#11 token labels are 32 bytes, blank padded. */
export const MAX_TOKEN_LABEL_BYTES = 32;
const MAX_KEY_LABEL_BYTES = 128;
const MAX_KEY_ID_BYTES = 64;

export interface Pkcs11Enrolment {
  readonly record: EnrolmentRecord;
  /** Path of the PKCS#11 module. */
  readonly module: string;
  readonly tokenLabel: string;
  readonly tokenSerial: string;
  readonly key: KeyLocator;
  readonly iv: Uint8Array;
  /** The secret encrypted by the token's key, with the GCM tag. */
  readonly wrapped: Uint8Array;
}

/** The record's `data` for an enrolment. */
export function pkcs11RecordData(e: Omit<Pkcs11Enrolment, 'record'>): Record<string, unknown> {
  return {
    module: e.module,
    tokenLabel: e.tokenLabel,
    tokenSerial: e.tokenSerial,
    keyLabel: e.key.label,
    keyId: toBase64(e.key.id),
    mechanism: WRAP_MECHANISM,
    iv: toBase64(e.iv),
    wrapped: toBase64(e.wrapped),
  };
}

/**
 * Reads a pkcs11 enrolment record's fields strictly.
 * @throws FormatError naming the field that is malformed.
 */
export function parsePkcs11Enrolment(record: EnrolmentRecord): Pkcs11Enrolment {
  if (record.factor !== PKCS11_FACTOR) throw new FormatError(`not a ${PKCS11_FACTOR} enrolment record`);
  const f = new RecordFields(record.data, `${PKCS11_FACTOR} enrolment "${record.name}"`);
  const module = f.string('module', /^[^\0]{1,4096}$/);
  const tokenLabel = checked(record, 'tokenLabel', f.string('tokenLabel'), tokenLabelProblem);
  const tokenSerial = f.string('tokenSerial', /^[\x20-\x7e]{0,16}$/);
  const keyLabel = checked(record, 'keyLabel', f.string('keyLabel'), keyLabelProblem);
  f.string('mechanism', new RegExp(`^${WRAP_MECHANISM}$`));
  return {
    record,
    module,
    tokenLabel,
    tokenSerial,
    key: { label: keyLabel, id: f.bytes('keyId', { max: MAX_KEY_ID_BYTES }) },
    iv: f.bytes('iv', { length: IV_LENGTH }),
    wrapped: f.bytes('wrapped', { length: SECRET_LENGTH + TAG_LENGTH }),
  };
}

function checked(record: EnrolmentRecord, field: string, value: string, problem: (v: string) => string | undefined): string {
  const p = problem(value);
  if (p) throw new FormatError(`${PKCS11_FACTOR} enrolment "${record.name}": ${field} ${p}`);
  return value;
}

/** The key label bioseal gives the key it creates for an enrolment. */
export function defaultKeyLabel(enrolmentName: string): string {
  return `bioseal:${enrolmentName}`;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Checks a key label given on the command line. */
export function keyLabelProblem(label: string): string | undefined {
  if (label.length === 0 || label.includes('\0')) return 'must be non-empty text';
  if (utf8Length(label) > MAX_KEY_LABEL_BYTES) return `must be at most ${MAX_KEY_LABEL_BYTES} bytes`;
  return undefined;
}

/** Checks a token label given on the command line. */
export function tokenLabelProblem(label: string): string | undefined {
  if (label.length === 0 || label.includes('\0')) return 'must be non-empty text';
  if (label !== label.trimEnd()) return 'cannot end in spaces (tokens pad their labels with spaces)';
  if (utf8Length(label) > MAX_TOKEN_LABEL_BYTES) return `must be at most ${MAX_TOKEN_LABEL_BYTES} bytes`;
  return undefined;
}
