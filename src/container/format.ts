/**
 * The `.bseal` header: encoding and strict parsing. docs/FORMAT.md is the
 * byte-level specification; section numbers below refer to it.
 *
 * The container knows key slots only as lists of (factor name, opaque
 * parameters) plus a wrapped data key. What a factor's parameters mean, and
 * how its secret is produced, is the business of src/factors.
 */
import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter, utf8 } from '../util/bytes.js';
import { FormatError, TamperedError } from '../errors.js';

/** §2: "\x89BSEAL\r\n". The high byte and CR LF catch 7-bit and newline-mangling transfers, as in PNG. */
export const MAGIC = Uint8Array.of(0x89, 0x42, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a);
export const FORMAT_VERSION = 1;
/** §3: suite 1 is AES-256-GCM STREAM chunks, HKDF-SHA256 key schedule, HMAC-SHA256 header MAC, Ed25519 signatures. */
export const SUITE_AES256GCM_HKDF_SHA256 = 1;

export const FLAG_SIGNED = 0x01;
const KNOWN_FLAGS = FLAG_SIGNED;

export const MIN_CHUNK_LOG2 = 12; // 4 KiB
export const MAX_CHUNK_LOG2 = 24; // 16 MiB
export const DEFAULT_CHUNK_LOG2 = 18; // 256 KiB: large enough to amortise per-chunk cost, small enough for fine-grained parallelism

/** 2^50 bytes (1 PiB): far above any model, and every offset stays an exact JavaScript number. */
export const MAX_PLAINTEXT_LENGTH = 2n ** 50n;
export const FILE_ID_LENGTH = 16;
export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16;
export const WRAPPED_KEY_LENGTH = KEY_LENGTH + TAG_LENGTH;
export const KEK_SALT_LENGTH = 32;
export const MAC_LENGTH = 32;
export const CHECKSUM_LENGTH = 32;

export const MAX_SLOTS = 32;
export const MAX_FACTORS_PER_SLOT = 8;
export const MAX_FACTOR_NAME_LENGTH = 32;
export const MAX_FACTOR_PARAMS_LENGTH = 16 * 1024;
/** The slot area is capped so that a hostile header can never make the reader allocate much. */
export const MAX_SLOTS_AREA = 256 * 1024;

export const SIGNATURE_BLOCK_LENGTH = 32 + 32 + 64;
/** Size of the fixed part before the slots (§2). */
export const CORE_LENGTH = 8 + 1 + 1 + 1 + 1 + 8 + FILE_ID_LENGTH + 32;
export const FIXED_PREFIX_LENGTH = CORE_LENGTH + 1 + 4;
/** No valid header is longer than this; readers never read more before parsing. */
export const MAX_HEADER_LENGTH = FIXED_PREFIX_LENGTH + MAX_SLOTS_AREA + SIGNATURE_BLOCK_LENGTH + MAC_LENGTH + CHECKSUM_LENGTH;

const FACTOR_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** One factor of a key slot: its policy name and the parameters the factor stored at enrolment. */
export interface SlotFactor {
  readonly name: string;
  readonly params: Uint8Array;
}

/** §2.2: a key slot wraps the file's data key under a KEK derived from all of its factors' secrets. */
export interface KeySlot {
  readonly factors: readonly SlotFactor[];
  readonly kekSalt: Uint8Array;
  readonly wrappedKey: Uint8Array;
}

/** §2.3: a publisher's Ed25519 signature over the header core and the payload digest. */
export interface SignatureBlock {
  readonly publicKey: Uint8Array;
  readonly payloadDigest: Uint8Array;
  readonly signature: Uint8Array;
}

/** The parsed header of a sealed file. */
export interface Header {
  readonly version: number;
  readonly suite: number;
  readonly chunkLog2: number;
  readonly plaintextLength: bigint;
  readonly fileId: Uint8Array;
  readonly keyCommitment: Uint8Array;
  readonly slots: readonly KeySlot[];
  readonly signature?: SignatureBlock;
  readonly mac: Uint8Array;
  /** Unkeyed SHA-256 of the preceding header bytes: classifies damage, authenticates nothing (§2.5). */
  readonly checksum: Uint8Array;
  /** The exact bytes of the header as parsed or encoded, MAC included. */
  readonly bytes: Uint8Array;
}

/** The header fields fixed at sealing time; they never change when slots do. */
export type HeaderCore = Pick<Header, 'version' | 'suite' | 'chunkLog2' | 'plaintextLength' | 'fileId' | 'keyCommitment'> & {
  readonly signed: boolean;
};

/** Bytes 0..CORE_LENGTH: magic through key commitment (§2.1). */
export function encodeCore(core: HeaderCore): Uint8Array {
  return new ByteWriter(CORE_LENGTH)
    .bytes(MAGIC)
    .u8(core.version)
    .u8(core.suite)
    .u8(core.signed ? FLAG_SIGNED : 0)
    .u8(core.chunkLog2)
    .u64(core.plaintextLength)
    .bytes(core.fileId)
    .bytes(core.keyCommitment)
    .finish();
}

/** The canonical encoding of one slot's factor list: also the slot's identity in key derivation (§2.2). */
export function encodeSlotFactors(factors: readonly SlotFactor[]): Uint8Array {
  const w = new ByteWriter();
  w.u8(factors.length);
  for (const f of factors) {
    const name = utf8(f.name);
    w.u8(name.length).bytes(name).bytes16(f.params);
  }
  return w.finish();
}

function encodeSlot(slot: KeySlot): Uint8Array {
  return new ByteWriter().bytes(encodeSlotFactors(slot.factors)).bytes(slot.kekSalt).bytes(slot.wrappedKey).finish();
}

/** Checks what an encoder is about to write, so a bad caller gets an error rather than a file no reader accepts. */
export function validateSlot(slot: KeySlot): void {
  if (slot.factors.length < 1 || slot.factors.length > MAX_FACTORS_PER_SLOT) {
    throw new FormatError(`a key slot has ${slot.factors.length} factors; 1 to ${MAX_FACTORS_PER_SLOT} are allowed`);
  }
  for (const f of slot.factors) {
    if (!FACTOR_NAME.test(f.name)) throw new FormatError(`"${f.name}" is not a valid factor name`);
    if (f.params.length > MAX_FACTOR_PARAMS_LENGTH) throw new FormatError(`factor ${f.name}: parameters exceed ${MAX_FACTOR_PARAMS_LENGTH} bytes`);
  }
  if (slot.kekSalt.length !== KEK_SALT_LENGTH || slot.wrappedKey.length !== WRAPPED_KEY_LENGTH) {
    throw new FormatError('a key slot has a salt or wrapped key of the wrong length');
  }
}

/** Everything the header MAC covers: core, slot area and signature block (§2.4). */
export function encodeHeaderBody(core: HeaderCore, slots: readonly KeySlot[], signature?: SignatureBlock): Uint8Array {
  if (slots.length < 1 || slots.length > MAX_SLOTS) throw new FormatError(`a sealed file needs 1 to ${MAX_SLOTS} key slots, not ${slots.length}`);
  if (core.signed !== (signature !== undefined)) throw new FormatError('signed flag and signature block disagree');
  const area = new ByteWriter();
  for (const s of slots) {
    validateSlot(s);
    const body = encodeSlot(s);
    area.u32(body.length).bytes(body);
  }
  if (area.length > MAX_SLOTS_AREA) throw new FormatError(`key slots take ${area.length} bytes, more than the limit of ${MAX_SLOTS_AREA}`);
  const w = new ByteWriter(FIXED_PREFIX_LENGTH + area.length + SIGNATURE_BLOCK_LENGTH);
  w.bytes(encodeCore(core)).u8(slots.length).u32(area.length).bytes(area.finish());
  if (signature) w.bytes(signature.publicKey).bytes(signature.payloadDigest).bytes(signature.signature);
  return w.finish();
}

function parseSlot(bytes: Uint8Array, index: number): KeySlot {
  const r = new ByteReader(bytes, `key slot ${index}`);
  const count = r.u8();
  if (count < 1 || count > MAX_FACTORS_PER_SLOT) {
    throw new FormatError(`key slot ${index} lists ${count} factors; 1 to ${MAX_FACTORS_PER_SLOT} are allowed`);
  }
  const factors: SlotFactor[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = r.u8();
    if (nameLength < 1 || nameLength > MAX_FACTOR_NAME_LENGTH) throw new FormatError(`key slot ${index}: factor name length ${nameLength} is out of range`);
    const name = Buffer.from(r.bytes(nameLength)).toString('latin1');
    if (!FACTOR_NAME.test(name)) throw new FormatError(`key slot ${index}: factor name is not canonical`);
    const params = r.bytes16(MAX_FACTOR_PARAMS_LENGTH, `parameters of factor ${name}`).slice();
    factors.push({ name, params });
  }
  const kekSalt = r.bytes(KEK_SALT_LENGTH).slice();
  const wrappedKey = r.bytes(WRAPPED_KEY_LENGTH).slice();
  r.end();
  return { factors, kekSalt, wrappedKey };
}

/**
 * Reads only the fixed prefix and returns the total header length it
 * announces, so a caller can read exactly that many bytes and no more.
 * @throws FormatError when the prefix is not a bioseal v1 header.
 */
export function headerLengthFromPrefix(prefix: Uint8Array): number {
  const r = new ByteReader(prefix.subarray(0, FIXED_PREFIX_LENGTH), 'header');
  const magic = r.bytes(MAGIC.length);
  if (!MAGIC.every((b, i) => magic[i] === b)) throw new FormatError('not a bioseal sealed file (bad magic)');
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new FormatError(`unsupported format version ${version}; this bioseal reads version ${FORMAT_VERSION}`);
  const suite = r.u8();
  if (suite !== SUITE_AES256GCM_HKDF_SHA256) throw new FormatError(`unsupported cipher suite ${suite}`);
  const flags = r.u8();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new FormatError(`unknown header flags 0x${flags.toString(16)}`);
  r.bytes(CORE_LENGTH - 11);
  r.u8();
  const areaLength = r.u32();
  if (areaLength > MAX_SLOTS_AREA) throw new FormatError(`slot area of ${areaLength} bytes exceeds the limit of ${MAX_SLOTS_AREA}`);
  return FIXED_PREFIX_LENGTH + areaLength + (flags & FLAG_SIGNED ? SIGNATURE_BLOCK_LENGTH : 0) + MAC_LENGTH + CHECKSUM_LENGTH;
}

/**
 * Parses a complete header strictly: canonical values only, every length
 * checked against its cap, no trailing bytes, checksum verified first. The
 * MAC is *not* verified here (that needs the data key, see keyschedule.ts).
 *
 * @throws FormatError (E_FORMAT) for anything that is not a well-formed v1 header.
 * @throws TamperedError (E_TAMPERED) when the header checksum does not match.
 */
export function parseHeader(bytes: Uint8Array): Header {
  const expected = headerLengthFromPrefix(bytes);
  if (bytes.length !== expected) {
    throw new FormatError(bytes.length < expected ? 'header is truncated' : `header has ${bytes.length - expected} unexpected trailing bytes`);
  }
  const sum = createHash('sha256').update(bytes.subarray(0, expected - CHECKSUM_LENGTH)).digest();
  if (!sum.equals(bytes.subarray(expected - CHECKSUM_LENGTH))) {
    throw new TamperedError('the header was changed or damaged (checksum mismatch)');
  }
  const r = new ByteReader(bytes, 'header');
  r.bytes(MAGIC.length);
  const version = r.u8();
  const suite = r.u8();
  const flags = r.u8();
  const chunkLog2 = r.u8();
  if (chunkLog2 < MIN_CHUNK_LOG2 || chunkLog2 > MAX_CHUNK_LOG2) {
    throw new FormatError(`chunk size 2^${chunkLog2} is outside 2^${MIN_CHUNK_LOG2}..2^${MAX_CHUNK_LOG2}`);
  }
  const plaintextLength = r.u64();
  if (plaintextLength > MAX_PLAINTEXT_LENGTH) throw new FormatError(`plaintext length ${plaintextLength} exceeds the limit of 2^50 bytes`);
  const fileId = r.bytes(FILE_ID_LENGTH).slice();
  const keyCommitment = r.bytes(32).slice();
  const slotCount = r.u8();
  if (slotCount < 1 || slotCount > MAX_SLOTS) throw new FormatError(`header declares ${slotCount} key slots; 1 to ${MAX_SLOTS} are allowed`);
  const areaLength = r.u32();
  const area = new ByteReader(r.bytes(areaLength), 'slot area');
  const slots: KeySlot[] = [];
  for (let i = 0; i < slotCount; i++) {
    const length = area.u32();
    if (length > area.remaining) throw new FormatError(`key slot ${i} claims ${length} bytes but only ${area.remaining} remain`);
    slots.push(parseSlot(area.bytes(length), i));
  }
  area.end();
  let signature: SignatureBlock | undefined;
  if (flags & FLAG_SIGNED) {
    signature = { publicKey: r.bytes(32).slice(), payloadDigest: r.bytes(32).slice(), signature: r.bytes(64).slice() };
  }
  const mac = r.bytes(MAC_LENGTH).slice();
  const checksum = r.bytes(CHECKSUM_LENGTH).slice();
  r.end();
  return { version, suite, chunkLog2, plaintextLength, fileId, keyCommitment, slots, signature, mac, checksum, bytes: bytes.slice() };
}

/** The header core of a parsed header. */
export function coreOf(h: Header): HeaderCore {
  return {
    version: h.version,
    suite: h.suite,
    chunkLog2: h.chunkLog2,
    plaintextLength: h.plaintextLength,
    fileId: h.fileId,
    keyCommitment: h.keyCommitment,
    signed: h.signature !== undefined,
  };
}
