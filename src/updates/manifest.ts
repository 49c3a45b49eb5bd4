/**
 * Update manifests: a publisher's signed statement that a sealed file is
 * version N of a named model (docs/UPDATES.md §2).
 *
 * ```json
 * { "format": "bioseal-update-manifest/1",
 *   "body": { "name": "face-detector", "version": 3,
 *             "file": { "name": "face-detector.bseal", "size": 1048713, "sha256": "<64 hex>" },
 *             "policy": "keyfile | recovery", "issuedAt": "2025-01-31T12:00:00Z",
 *             "expiresAt": "2025-05-01T12:00:00Z", "publisher": "biosealpub1..." },
 *   "rotations": [ <rotation statements, rotation.ts> ],
 *   "signature": "<128 hex digits: Ed25519 by body.publisher over the body, see document.ts>" }
 * ```
 *
 * `file.sha256` is SHA-256 of the whole sealed file, every byte: header, key
 * slots and payload, so what a device installs is exactly what was signed.
 */
import { createHash } from 'node:crypto';
import { encodePublisherKey } from '../keys/publisher.js';
import { publisherPublicKey } from '../container/signature.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { toHex } from '../util/bytes.js';
import { parseRotation, rotationDocument, type RotationStatement } from './rotation.js';
import {
  expectInteger,
  expectObject,
  expectPublisherKey,
  expectSignature,
  expectString,
  readDocumentFile,
  requireCanonicalLayout,
  serializeDocument,
  signDocument,
  signedMessage,
  verifyDocument,
} from './document.js';
import { formatTimestamp, parseTimestamp } from './time.js';
import { FormatError } from '../errors.js';

export const MANIFEST_FORMAT = 'bioseal-update-manifest/1';
/** Most rotation statements one manifest may carry. */
export const MAX_MANIFEST_ROTATIONS = 8;
/** Model names: also directory names under $BIOSEAL_HOME/models, so no separators and no leading dot. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const POLICY_PATTERN = /^[\x20-\x7e]{1,1024}$/;

/** What a manifest says about the sealed file it covers. */
export interface ManifestFile {
  /** The sealed file's name, looked up next to the manifest. */
  readonly name: string;
  readonly size: number;
  /** SHA-256 of the whole sealed file, lower-case hex. */
  readonly sha256: string;
}

/** The signed part of a manifest. */
export interface ManifestBody {
  readonly name: string;
  readonly version: number;
  readonly file: ManifestFile;
  /** The unlock policy of the sealed file's key slots, for people (e.g. `keyfile | recovery`). */
  readonly policy: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** The publisher key that signs the body. */
  readonly publisher: Uint8Array;
}

/** A parsed manifest (its signature not yet verified). */
export interface UpdateManifest extends ManifestBody {
  /** Rotation statements that link a trusted key to `publisher`, carried unsigned by the manifest. */
  readonly rotations: readonly RotationStatement[];
  readonly signature: Uint8Array;
}

function manifestBody(m: ManifestBody) {
  return {
    name: m.name,
    version: m.version,
    file: { name: m.file.name, size: m.file.size, sha256: m.file.sha256 },
    policy: m.policy,
    issuedAt: formatTimestamp(m.issuedAt),
    expiresAt: formatTimestamp(m.expiresAt),
    publisher: encodePublisherKey(m.publisher),
  };
}

/** The JSON document of a manifest, in its one layout. */
export function manifestDocument(m: UpdateManifest) {
  return { format: MANIFEST_FORMAT, body: manifestBody(m), rotations: m.rotations.map(rotationDocument), signature: toHex(m.signature) };
}

/** SHA-256 of the signed bytes: names one release, whatever rotations travel with it. */
export function manifestHash(m: ManifestBody): string {
  return createHash('sha256').update(signedMessage(MANIFEST_FORMAT, manifestBody(m))).digest('hex');
}

/** Checks the body's fields as a reader would, so a writer never emits what readers refuse. */
function validateBody(m: ManifestBody, what: string): void {
  expectString(m.name, `${what} "name"`, MODEL_NAME_PATTERN, 'a model name: 1-64 of a-z 0-9 . _ -, starting with a letter or digit');
  expectInteger(m.version, `${what} "version"`, 1);
  expectString(m.file.name, `${what} "file.name"`, FILE_NAME_PATTERN, 'a file name without directories (1-128 of A-Z a-z 0-9 . _ -, no leading dot)');
  expectInteger(m.file.size, `${what} "file.size"`, 1);
  expectString(m.file.sha256, `${what} "file.sha256"`, SHA256_PATTERN, '64 lower-case hex digits');
  expectString(m.policy, `${what} "policy"`, POLICY_PATTERN, '1-1024 printable ASCII characters');
  if (m.expiresAt.getTime() <= m.issuedAt.getTime()) throw new FormatError(`${what} expires before it is issued`);
}

/**
 * Signs a manifest body with the publisher's secret key (`publisher` is set from it).
 * @throws FormatError when a field is out of range.
 */
export function signManifest(body: Omit<ManifestBody, 'publisher'>, secretKey: Uint8Array, rotations: readonly RotationStatement[] = []): UpdateManifest {
  const full: ManifestBody = { ...body, publisher: publisherPublicKey(secretKey) };
  validateBody(full, 'manifest');
  if (rotations.length > MAX_MANIFEST_ROTATIONS) throw new FormatError(`a manifest carries at most ${MAX_MANIFEST_ROTATIONS} rotation statements`);
  return { ...full, rotations, signature: signDocument(MANIFEST_FORMAT, manifestBody(full), secretKey) };
}

/** Whether the manifest's signature by its own `publisher` key verifies (trust is decided separately). */
export function verifyManifestSignature(m: UpdateManifest): boolean {
  return verifyDocument(MANIFEST_FORMAT, manifestBody(m), m.signature, m.publisher);
}

/**
 * Parses a manifest's JSON value strictly.
 * @throws FormatError for anything malformed; SignatureError when unsigned.
 */
export function parseManifest(value: unknown, what = 'manifest'): UpdateManifest {
  const doc = expectObject(value, what, ['format', 'body'], ['rotations', 'signature']);
  if (doc.format !== MANIFEST_FORMAT) throw new FormatError(`${what} is not a bioseal update manifest (format "${MANIFEST_FORMAT}")`);
  const body = expectObject(doc.body, `${what} body`, ['name', 'version', 'file', 'policy', 'issuedAt', 'expiresAt', 'publisher']);
  const file = expectObject(body.file, `${what} "file"`, ['name', 'size', 'sha256']);
  const rotations = doc.rotations ?? [];
  if (!Array.isArray(rotations) || rotations.length > MAX_MANIFEST_ROTATIONS) {
    throw new FormatError(`${what} "rotations" must be a list of at most ${MAX_MANIFEST_ROTATIONS} rotation statements`);
  }
  const m: ManifestBody = {
    name: body.name as string,
    version: body.version as number,
    file: { name: file.name as string, size: file.size as number, sha256: file.sha256 as string },
    policy: body.policy as string,
    issuedAt: parseTimestamp(body.issuedAt, `${what} "issuedAt"`),
    expiresAt: parseTimestamp(body.expiresAt, `${what} "expiresAt"`),
    publisher: expectPublisherKey(body.publisher, `${what} "publisher"`),
  };
  validateBody(m, what);
  return {
    ...m,
    rotations: rotations.map((r, i) => parseRotation(r, `${what} rotation ${i + 1}`)),
    signature: expectSignature(doc, what),
  };
}

/**
 * Reads a manifest file: at most 64 KiB, in its canonical layout.
 * @throws IOError, FormatError, SignatureError (unsigned)
 */
export async function readManifestFile(file: string): Promise<UpdateManifest> {
  const { text, value } = await readDocumentFile(file, 'update manifest');
  const m = parseManifest(value, `manifest ${file}`);
  requireCanonicalLayout(text, manifestDocument(m), `manifest ${file}`);
  return m;
}

/**
 * Writes a manifest file atomically.
 * @throws ExistsError unless overwrite; IOError
 */
export async function writeManifestFile(file: string, m: UpdateManifest, options: { overwrite?: boolean; mode?: number } = {}): Promise<void> {
  const text = serializeDocument(manifestDocument(m));
  await writeFileAtomic(file, async (h) => void (await h.writeFile(text)), options);
}
