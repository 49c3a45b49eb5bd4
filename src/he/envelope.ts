/**
 * The envelope around every serialised encrypted-matching object (ciphertexts
 * and keys): what it is, which parameter set made it, a few kind-specific
 * numbers, the SEAL objects it carries, and a SHA-256 digest that catches
 * damage in storage or transit. The digest is not authentication: anyone can
 * recompute it, so the parts are still checked in full (`seal-format.ts`).
 *
 *   "BSHE" | version 1 (u8) | kind (u8) | part count (u8) | 0 (u8)
 *   | parameter fingerprint (32: the key level's SEAL parms_id)
 *   | meta (4 x u32) | part lengths (count x u32) | parts | SHA-256 of all before
 *
 * Parsing is strict: exact lengths, the expected kind, a known parameter set,
 * no trailing bytes, and a cap on the total size checked before anything else.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { FormatError } from '../errors.js';

const MAGIC = Uint8Array.from([0x42, 0x53, 0x48, 0x45]); // "BSHE"
const VERSION = 1;
const FIXED_BYTES = 4 + 4 + 32 + 16;
const DIGEST_BYTES = 32;
/** No envelope is larger: evaluation keys with every rotation a layout can need stay well below. */
export const MAX_ENVELOPE_BYTES = 32 * 1024 * 1024;
/** No envelope carries more parts (the count is one byte); a search query has ceil(dims / chunk). */
export const MAX_ENVELOPE_PARTS = 255;

/** What an envelope holds. */
export const HeKind = {
  /** One embedding, coefficient-encoded, for a 1:1 match (a probe or a stored template). */
  matchVector: 1,
  /** The encrypted score of a 1:1 match. */
  matchScore: 2,
  /** A probe laid out for a 1:N search: one ciphertext per chunk of dimensions. */
  searchQuery: 3,
  /** Up to slots/chunk enrolled templates, packed: one ciphertext per chunk of dimensions. */
  galleryGroup: 4,
  /** The encrypted scores of one gallery group. */
  searchScores: 5,
  /** What a service needs to compute: public, relinearisation and (for search) Galois keys. */
  evaluationKeys: 16,
  /** The secret key; stays with the device or the named key holder. */
  secretKey: 17,
} as const;
export type HeKind = (typeof HeKind)[keyof typeof HeKind];

const KIND_NAMES = new Map<number, string>(Object.entries(HeKind).map(([name, code]) => [code, name]));

/** The readable name of a kind, for messages. */
export function kindName(kind: number): string {
  return KIND_NAMES.get(kind) ?? `unknown kind ${kind}`;
}

/** A parsed envelope: the parts still need their own checks. */
export interface Envelope {
  readonly kind: HeKind;
  /** Kind-specific numbers: dimensions, chunk, part index, template count. */
  readonly meta: readonly [number, number, number, number];
  readonly parts: readonly Uint8Array[];
}

/** Serialises an envelope. */
export function encodeEnvelope(fingerprint: Uint8Array, kind: HeKind, meta: readonly number[], parts: readonly Uint8Array[]): Uint8Array {
  if (fingerprint.length !== 32) throw new RangeError('fingerprint must be 32 bytes');
  if (parts.length === 0 || parts.length > MAX_ENVELOPE_PARTS) throw new RangeError(`an envelope carries 1 to ${MAX_ENVELOPE_PARTS} parts`);
  if (meta.length > 4 || meta.some((m) => !Number.isInteger(m) || m < 0 || m > 0xffffffff)) throw new RangeError('meta must be up to 4 unsigned 32-bit integers');
  const bodyBytes = parts.reduce((n, p) => n + p.length, 0);
  const total = FIXED_BYTES + 4 * parts.length + bodyBytes + DIGEST_BYTES;
  if (total > MAX_ENVELOPE_BYTES) throw new RangeError(`envelope of ${total} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = kind;
  out[6] = parts.length;
  out.set(fingerprint, 8);
  for (let i = 0; i < 4; i++) view.setUint32(40 + 4 * i, meta[i] ?? 0, true);
  let offset = FIXED_BYTES;
  for (const part of parts) {
    view.setUint32(offset, part.length, true);
    offset += 4;
  }
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out.set(createHash('sha256').update(out.subarray(0, offset)).digest(), offset);
  return out;
}

/**
 * Parses an envelope of `kind` made under `fingerprint`'s parameter set.
 * The parts are views into `bytes`.
 * @throws FormatError for anything but a whole, undamaged envelope of that kind and parameter set.
 */
export function parseEnvelope(bytes: Uint8Array, fingerprint: Uint8Array, kind: HeKind): Envelope {
  const what = kindName(kind);
  const fail = (problem: string): never => {
    throw new FormatError(`encrypted ${what}: ${problem}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  if (bytes.length > MAX_ENVELOPE_BYTES) fail(`${bytes.length} bytes is more than the ${MAX_ENVELOPE_BYTES} allowed`);
  if (bytes.length < FIXED_BYTES + 4 + DIGEST_BYTES) fail('truncated');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) fail('not a bioseal encrypted-matching object');
  if (bytes[4] !== VERSION) fail(`unsupported version ${bytes[4]}`);
  if (bytes[5] !== kind) fail(`this is a ${kindName(bytes[5]!)}, not a ${what}`);
  const count = bytes[6]!;
  if (count === 0) fail('no parts');
  if (bytes[7] !== 0) fail('reserved byte set');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerEnd = FIXED_BYTES + 4 * count;
  if (bytes.length < headerEnd + DIGEST_BYTES) fail('truncated');
  const lengths: number[] = [];
  let body = 0;
  for (let i = 0; i < count; i++) {
    const n = view.getUint32(FIXED_BYTES + 4 * i, true);
    lengths.push(n);
    body += n;
  }
  if (headerEnd + body + DIGEST_BYTES !== bytes.length) fail(bytes.length < headerEnd + body + DIGEST_BYTES ? 'truncated' : 'trailing bytes');
  const signed = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(signed).digest();
  if (!timingSafeEqual(digest, bytes.subarray(bytes.length - DIGEST_BYTES))) fail('damaged (digest mismatch)');
  // After the digest: a wrong fingerprint is then a real mismatch, not damage.
  for (let i = 0; i < 32; i++) if (bytes[8 + i] !== fingerprint[i]) fail('made under other encryption parameters');
  const meta = [0, 1, 2, 3].map((i) => view.getUint32(40 + 4 * i, true)) as unknown as [number, number, number, number];
  const parts: Uint8Array[] = [];
  let offset = headerEnd;
  for (const n of lengths) {
    parts.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return { kind, meta, parts };
}
