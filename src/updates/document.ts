/**
 * Signed JSON documents, the shape shared by update manifests and publisher
 * rotation statements: `{"format": F, "body": {...}, ..., "signature": HEX}`.
 *
 * The signature is Ed25519 (RFC 8032) over
 * `UTF-8(F) ‖ 0x00 ‖ canonicalJson(body)` (RFC 8785, see canonical.ts): the
 * format string separates the domains, so a signature on one kind of
 * document is never valid for another. Files are written in one fixed
 * layout, and a reader accepts only that layout (after parsing it rewrites
 * what it understood and compares), so duplicate keys, unknown fields or a
 * second spelling of a value are refused rather than ignored.
 */
import { promises as fs } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalBytes, type CanonicalValue } from './canonical.js';
import { decodeKey } from '../keys/encoding.js';
import { PUBLISHER_PUBLIC_PREFIX } from '../keys/publisher.js';
import { describeFsError } from '../util/atomic-file.js';
import { concatBytes, utf8 } from '../util/bytes.js';
import { BiosealError, FormatError, SignatureError } from '../errors.js';

/** The largest document file read: a manifest with a full rotation chain is about 3 KiB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/** The bytes a document signature covers. */
export function signedMessage(format: string, body: CanonicalValue): Uint8Array {
  return concatBytes(utf8(format), Uint8Array.of(0), canonicalBytes(body));
}

/** Signs a document body with a 32-byte Ed25519 secret key. */
export function signDocument(format: string, body: CanonicalValue, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(signedMessage(format, body), secretKey);
}

/** Verifies a document signature (RFC 8032 strict, not ZIP-215: non-canonical encodings fail). */
export function verifyDocument(format: string, body: CanonicalValue, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, signedMessage(format, body), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** The one file layout of a document: two-space indented JSON and a final newline. */
export function serializeDocument(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Reads a document file: at most `maxBytes` (default MAX_DOCUMENT_BYTES) of UTF-8 JSON.
 * @returns the text and the parsed value.
 * @throws IOError when it cannot be read; FormatError when too large or not JSON.
 */
export async function readDocumentFile(file: string, what: string, maxBytes = MAX_DOCUMENT_BYTES): Promise<{ text: string; value: unknown }> {
  let bytes: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new FormatError(`${file}: not a regular file`);
      // Read one byte past the cap so an oversized file is told apart from one at the cap.
      const buf = Buffer.alloc(maxBytes + 1);
      let bytesRead = 0;
      while (bytesRead < buf.length) {
        const { bytesRead: n } = await handle.read(buf, bytesRead, buf.length - bytesRead, bytesRead);
        if (n === 0) break;
        bytesRead += n;
      }
      if (bytesRead > maxBytes) throw new FormatError(`${file}: ${what} is larger than ${maxBytes} bytes`);
      bytes = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof BiosealError) throw error;
    throw describeFsError(error, file);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(`${file}: ${what} is not UTF-8 text`);
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (error) {
    throw new FormatError(`${file}: ${what} is not JSON (${(error as Error).message})`);
  }
}

/** Refuses a document whose text is not the one layout of what was parsed from it. */
export function requireCanonicalLayout(text: string, doc: unknown, what: string): void {
  if (text !== serializeDocument(doc)) {
    throw new FormatError(`${what} is not in canonical form (edited by hand, reformatted, or has duplicate fields)`);
  }
}

/**
 * Checks that a value is a plain object with exactly the required keys (and
 * perhaps some optional ones).
 * @throws FormatError
 */
export function expectObject(value: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FormatError(`${what} must be a JSON object`);
  const record = value as Record<string, unknown>;
  for (const key of required) if (!Object.hasOwn(record, key)) throw new FormatError(`${what} lacks "${key}"`);
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) throw new FormatError(`${what} has an unknown field "${key.slice(0, 40)}"`);
  }
  return record;
}

/**
 * Checks a string field against a pattern.
 * @throws FormatError
 */
export function expectString(value: unknown, what: string, pattern: RegExp, shape: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new FormatError(`${what} must be ${shape}`);
  return value;
}

/**
 * Checks an integer field.
 * @throws FormatError
 */
export function expectInteger(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new FormatError(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Decodes a publisher public key field; the decoded key is re-encoded by the
 * canonical-layout check, so only its one spelling is accepted.
 * @throws FormatError
 */
export function expectPublisherKey(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw new FormatError(`${what} must be a publisher public key (${PUBLISHER_PUBLIC_PREFIX}...)`);
  return decodeKey(PUBLISHER_PUBLIC_PREFIX, value, 32, `publisher public key in ${what}`);
}

const SIGNATURE_HEX = /^[0-9a-f]{128}$/;

/**
 * Decodes a document's signature field.
 * @throws SignatureError when it is missing, empty or not 64 bytes of lower-case hex.
 */
export function expectSignature(record: Record<string, unknown>, what: string): Uint8Array {
  const value = record.signature;
  if (value === undefined || value === null || value === '') throw new SignatureError(`${what} is not signed`);
  if (typeof value !== 'string' || !SIGNATURE_HEX.test(value)) throw new SignatureError(`${what} has a malformed signature (want 128 lower-case hex digits)`);
  return new Uint8Array(Buffer.from(value, 'hex'));
}
