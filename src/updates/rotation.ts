/**
 * Publisher key rotation statements: "key TO replaces key FROM", signed by
 * FROM. A device that trusts FROM accepts manifests signed by TO once it is
 * shown the statement (docs/UPDATES.md §3).
 *
 * ```json
 * { "format": "bioseal-publisher-rotation/1",
 *   "body": { "from": "biosealpub1...", "issuedAt": "2025-01-31T12:00:00Z", "to": "biosealpub1..." },
 *   "signature": "<128 hex digits: Ed25519 by FROM over the body, see document.ts>" }
 * ```
 */
import { writeFileAtomic } from '../util/atomic-file.js';
import { constantTimeEqual, toHex } from '../util/bytes.js';
import { encodePublisherKey } from '../keys/publisher.js';
import { publisherPublicKey } from '../container/signature.js';
import {
  expectObject,
  expectPublisherKey,
  expectSignature,
  readDocumentFile,
  requireCanonicalLayout,
  serializeDocument,
  signDocument,
  verifyDocument,
} from './document.js';
import { formatTimestamp, parseTimestamp } from './time.js';
import { FormatError } from '../errors.js';

export const ROTATION_FORMAT = 'bioseal-publisher-rotation/1';

/** A parsed rotation statement (its signature not yet verified). */
export interface RotationStatement {
  /** The retiring key, which signs the statement. */
  readonly from: Uint8Array;
  /** The key that replaces it. */
  readonly to: Uint8Array;
  readonly issuedAt: Date;
  readonly signature: Uint8Array;
}

function rotationBody(s: Pick<RotationStatement, 'from' | 'to' | 'issuedAt'>) {
  return { from: encodePublisherKey(s.from), issuedAt: formatTimestamp(s.issuedAt), to: encodePublisherKey(s.to) };
}

/** The JSON document of a statement, in its one layout (field order fixed). */
export function rotationDocument(s: RotationStatement): { format: string; body: ReturnType<typeof rotationBody>; signature: string } {
  return { format: ROTATION_FORMAT, body: rotationBody(s), signature: toHex(s.signature) };
}

/**
 * Makes a statement that `newPublicKey` replaces the key of `oldSecretKey`.
 * @throws FormatError when the new key is the old one.
 */
export function createRotation(oldSecretKey: Uint8Array, newPublicKey: Uint8Array, issuedAt = new Date()): RotationStatement {
  const from = publisherPublicKey(oldSecretKey);
  if (constantTimeEqual(from, newPublicKey)) throw new FormatError('a key cannot be rotated to itself');
  const unsigned = { from, to: newPublicKey.slice(), issuedAt: new Date(Math.floor(issuedAt.getTime() / 1000) * 1000) };
  return { ...unsigned, signature: signDocument(ROTATION_FORMAT, rotationBody(unsigned), oldSecretKey) };
}

/** Whether FROM's signature on the statement verifies. */
export function verifyRotation(s: RotationStatement): boolean {
  return verifyDocument(ROTATION_FORMAT, rotationBody(s), s.signature, s.from);
}

/**
 * Parses a statement's JSON value (inside a manifest or a file) strictly.
 * @throws FormatError for a malformed statement; SignatureError when unsigned.
 */
export function parseRotation(value: unknown, what: string): RotationStatement {
  const doc = expectObject(value, what, ['format', 'body'], ['signature']);
  if (doc.format !== ROTATION_FORMAT) throw new FormatError(`${what} is not a publisher rotation statement (format "${ROTATION_FORMAT}")`);
  const body = expectObject(doc.body, `${what} body`, ['from', 'issuedAt', 'to']);
  const from = expectPublisherKey(body.from, `${what} "from"`);
  const to = expectPublisherKey(body.to, `${what} "to"`);
  if (constantTimeEqual(from, to)) throw new FormatError(`${what} rotates a key to itself`);
  const issuedAt = parseTimestamp(body.issuedAt, `${what} "issuedAt"`);
  return { from, to, issuedAt, signature: expectSignature(doc, what) };
}

/**
 * Reads a rotation statement file (at most 64 KiB, canonical layout).
 * @throws IOError, FormatError, SignatureError (unsigned)
 */
export async function readRotationFile(file: string): Promise<RotationStatement> {
  const { text, value } = await readDocumentFile(file, 'rotation statement');
  const statement = parseRotation(value, `rotation statement ${file}`);
  requireCanonicalLayout(text, rotationDocument(statement), `rotation statement ${file}`);
  return statement;
}

/**
 * Writes a statement file atomically.
 * @throws ExistsError unless overwrite; IOError
 */
export async function writeRotationFile(file: string, s: RotationStatement, options: { overwrite?: boolean } = {}): Promise<void> {
  const text = serializeDocument(rotationDocument(s));
  await writeFileAtomic(file, async (h) => void (await h.writeFile(text)), { overwrite: options.overwrite });
}
