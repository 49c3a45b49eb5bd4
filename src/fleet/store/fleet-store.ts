/**
 * The fleet verification service's state, behind one interface with two
 * implementations: SQLite for a single machine (`SqliteFleetStore`, the
 * default) and PostgreSQL for a fleet (`PostgresFleetStore`). Both behave
 * the same; one contract test suite runs against each (test/fleet/).
 *
 * What is kept: registered devices (Ed25519 request key, CKKS evaluation
 * keys), 1:1 enrolments (encrypted template envelopes per device and
 * person), 1:N gallery groups (encrypted under a key-holder device's key),
 * published model manifests, the audit tree heads devices report, and the
 * request nonces that keep signed requests from being replayed.
 *
 * Encrypted objects are stored as the bytes of their envelopes
 * (src/he/envelope.ts); the store never parses them. Times are milliseconds
 * since 1970. Text fields are stored literally (parameterised queries only):
 * 1 to 256 characters, no NUL.
 */
import { FormatError } from '../../errors.js';

/** A device that may call the service. */
export interface DeviceRecord {
  /** 1-64 of A-Z a-z 0-9 . _ - (checked by the service). */
  readonly id: string;
  /** Its Ed25519 public key (32 bytes): every request it makes is signed with the secret half. */
  readonly publicKey: Uint8Array;
  /** The parameter fingerprint the keys were made under (32 bytes). */
  readonly fingerprint: Uint8Array;
  readonly registeredAt: number;
  /** When it was revoked, or null while it may call the service. */
  readonly revokedAt: number | null;
}

/** A device to register, with its CKKS evaluation keys envelope (public, relinearisation [, Galois] keys: no secret key). */
export type NewDevice = Omit<DeviceRecord, 'registeredAt' | 'revokedAt'> & { readonly evaluationKeys: Uint8Array };

/** An encrypted template for 1:1 verification, per device and person. */
export interface EnrolmentRecord {
  readonly deviceId: string;
  readonly person: string;
  /** The encrypted matchVector envelope. */
  readonly template: Uint8Array;
  readonly fingerprint: Uint8Array;
  readonly createdAt: number;
}

export type NewEnrolment = Omit<EnrolmentRecord, 'createdAt'>;

/** A group of up to 128 templates packed for 1:N search, encrypted under the holder device's key. */
export interface GalleryGroupRecord {
  /** Order of arrival (1, 2, ...). */
  readonly seq: number;
  /** The key holder whose key the group is encrypted under (and who alone may search it). */
  readonly holderId: string;
  /** The device that uploaded it. */
  readonly enrolledBy: string;
  /** Who the templates are, in slot order. */
  readonly labels: readonly string[];
  /** The encrypted galleryGroup envelope. */
  readonly group: Uint8Array;
  readonly fingerprint: Uint8Array;
  readonly createdAt: number;
}

export type NewGalleryGroup = Omit<GalleryGroupRecord, 'seq' | 'createdAt'>;

/** A published model release: its signed update manifest (src/updates). */
export interface PublishedModelRecord {
  readonly name: string;
  readonly version: number;
  /** The manifest file's bytes, as published. */
  readonly manifest: Uint8Array;
  /** SHA-256 of the sealed model file the manifest covers (lower-case hex). */
  readonly digest: string;
  readonly publishedAt: number;
}

export type NewPublishedModel = Omit<PublishedModelRecord, 'publishedAt'>;

/** A signed audit tree head a device reported (src/audit/tree-head.ts). */
export interface AuditHeadRecord {
  readonly deviceId: string;
  readonly size: number;
  /** RFC 6962 root hash (32 bytes). */
  readonly root: Uint8Array;
  /** When the device's log signed it (ms). */
  readonly timestamp: number;
  /** SHA-256 of the log's public key (32 bytes). */
  readonly keyId: Uint8Array;
  /** Ed25519 signature (64 bytes). */
  readonly signature: Uint8Array;
  readonly receivedAt: number;
}

export type NewAuditHead = Omit<AuditHeadRecord, 'receivedAt'>;

/** What became of a reported head: stored, or the same as the last one. */
export type HeadOutcome = 'recorded' | 'unchanged';

/** The store. Every method is atomic on its own; `transaction` groups several. */
export interface FleetStore {
  /** 'sqlite' or 'postgres'. */
  readonly backend: 'sqlite' | 'postgres';

  /** @throws ExistsError when the id or the public key is already registered. */
  registerDevice(device: NewDevice): Promise<DeviceRecord>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  /** A device's evaluation keys (megabytes: read apart from the record, which every request reads). */
  getEvaluationKeys(id: string): Promise<Uint8Array | undefined>;
  /** Devices in registration order. */
  listDevices(): Promise<DeviceRecord[]>;
  /** Marks a device revoked; false when there is no such device or it already was. */
  revokeDevice(id: string): Promise<boolean>;

  /** @throws ExistsError when the device already has an enrolment for this person; UsageError for an unknown device. */
  addEnrolment(enrolment: NewEnrolment): Promise<EnrolmentRecord>;
  getEnrolment(deviceId: string, person: string): Promise<EnrolmentRecord | undefined>;
  /** A device's enrolments, by person. */
  listEnrolments(deviceId: string): Promise<EnrolmentRecord[]>;
  /** false when there was none. */
  removeEnrolment(deviceId: string, person: string): Promise<boolean>;

  /** @throws UsageError when the holder or uploader is not a registered device. */
  addGalleryGroup(group: NewGalleryGroup): Promise<GalleryGroupRecord>;
  /** The holder's gallery, in order of arrival. */
  listGalleryGroups(holderId: string): Promise<GalleryGroupRecord[]>;

  /**
   * @throws ExistsError when this name and version is already published;
   *   RollbackError when a newer version of the name is.
   */
  publishModel(model: NewPublishedModel): Promise<PublishedModelRecord>;
  /** The highest version published under a name. */
  latestModel(name: string): Promise<PublishedModelRecord | undefined>;
  /** Every release of a name, oldest first. */
  listModels(name: string): Promise<PublishedModelRecord[]>;

  /**
   * Records a head a device reported, after the head-succession rules
   * (`head-succession.ts`): same key, never smaller, the same root at the same
   * size, and a valid RFC 9162 consistency proof from the last head when larger.
   * @throws TamperedError when the head contradicts the last one; UsageError for an unknown device.
   */
  recordAuditHead(head: NewAuditHead, consistencyProof: readonly Uint8Array[]): Promise<HeadOutcome>;
  /** The last head recorded for a device (the largest). */
  latestAuditHead(deviceId: string): Promise<AuditHeadRecord | undefined>;

  /**
   * Remembers a request nonce until `expiresAt`; false when it was already
   * used (a replay). Forgets expired nonces on the way.
   */
  claimNonce(deviceId: string, nonce: string, now: number, expiresAt: number): Promise<boolean>;

  /**
   * Runs `work` in one transaction on this store's connection: all of it or
   * nothing. Inside, use the store `work` is given. Calls made outside wait
   * (SQLite) or run on other connections (PostgreSQL).
   */
  transaction<T>(work: (store: FleetStore) => Promise<T>): Promise<T>;

  /** Closes the database; the store must not be used afterwards. */
  close(): Promise<void>;
}

/** Longest text field (ids, person labels, model names). */
export const MAX_TEXT_LENGTH = 256;

/**
 * Checks a text field both backends store the same way (PostgreSQL's text
 * refuses NUL; SQLite would keep it).
 * @throws FormatError
 */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT_LENGTH || value.includes('\u0000')) {
    throw new FormatError(`${what} must be 1 to ${MAX_TEXT_LENGTH} characters without NUL`);
  }
  return value;
}

/** Checks a byte field's length. @throws FormatError */
export function checkBytes(value: unknown, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0 || (length !== undefined && value.length !== length)) {
    throw new FormatError(`${what} must be ${length === undefined ? 'non-empty' : `${length}`} bytes`);
  }
  return value;
}

/** Checks a count or time: a non-negative safe integer. @throws FormatError */
export function checkInteger(value: unknown, what: string, min = 0): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new FormatError(`${what} must be an integer of at least ${min}`);
  return value as number;
}
