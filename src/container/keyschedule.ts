/**
 * The key schedule of a sealed file (docs/FORMAT.md §3).
 *
 * One random 256-bit data key per file. From it, with HKDF-SHA256 (RFC 5869)
 * and the file id as salt, come the payload key, the header MAC key and a key
 * commitment. The payload key and the commitment also bind the chunk size and
 * the plaintext length, so a header that lies about either yields a different
 * key and fails on the first chunk.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { ByteWriter, concatBytes, constantTimeEqual, utf8, wipe } from '../util/bytes.js';
import { TamperedError } from '../errors.js';
import {
  CHECKSUM_LENGTH,
  encodeHeaderBody,
  encodeSlotFactors,
  type HeaderCore,
  type KeySlot,
  type SignatureBlock,
  type SlotFactor,
  KEK_SALT_LENGTH,
  KEY_LENGTH,
  MAC_LENGTH,
  TAG_LENGTH,
} from './format.js';

const LABEL_PAYLOAD = utf8('bioseal/v1 payload key');
const LABEL_MAC = utf8('bioseal/v1 header mac key');
const LABEL_COMMIT = utf8('bioseal/v1 key commitment');
const LABEL_KEK = utf8('bioseal/v1 slot kek');
const LABEL_WRAP = utf8('bioseal/v1 slot wrap');
const LABEL_PROFILE = utf8('bioseal/v1 profile key');

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** The parameters a payload key is bound to (§3.1). */
export interface PayloadParams {
  readonly suite: number;
  readonly chunkLog2: number;
  readonly plaintextLength: bigint;
  readonly fileId: Uint8Array;
}

function paramsInfo(label: Uint8Array, p: PayloadParams): Uint8Array {
  return new ByteWriter().bytes(label).u8(p.suite).u8(p.chunkLog2).u64(p.plaintextLength).finish();
}

/** §3.1: the key that encrypts the payload chunks. */
export function derivePayloadKey(dataKey: Uint8Array, p: PayloadParams): Uint8Array {
  return hkdf(dataKey, p.fileId, paramsInfo(LABEL_PAYLOAD, p));
}

/** §3.1: a public value that commits to the data key, so no second key can open the same file. */
export function deriveKeyCommitment(dataKey: Uint8Array, p: PayloadParams): Uint8Array {
  return hkdf(dataKey, p.fileId, paramsInfo(LABEL_COMMIT, p));
}

/**
 * A purpose-bound key of an opened file for data the owner keeps next to it
 * (an enrolled typing profile): HKDF-SHA256 from the data key, salted with
 * the file id. It opens nothing of the file itself, and a file re-sealed
 * (new data key, new file id) derives another one.
 */
export function deriveProfileKey(dataKey: Uint8Array, fileId: Uint8Array): Uint8Array {
  return hkdf(dataKey, fileId, LABEL_PROFILE);
}

/** A fresh random data key. */
export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_LENGTH));
}

/** §2.4: HMAC-SHA256 over the header body under a key derived from the data key. */
export function computeHeaderMac(dataKey: Uint8Array, fileId: Uint8Array, body: Uint8Array): Uint8Array {
  const macKey = hkdf(dataKey, fileId, LABEL_MAC);
  try {
    return new Uint8Array(createHmac('sha256', macKey).update(body).digest());
  } finally {
    wipe(macKey);
  }
}

/**
 * Encodes a complete header: body, MAC and checksum. The checksum (an
 * unkeyed SHA-256, §2.5) only classifies damage before any secret is at hand;
 * the MAC is what authenticates.
 */
export function encodeHeader(dataKey: Uint8Array, core: HeaderCore, slots: readonly KeySlot[], signature?: SignatureBlock): Uint8Array {
  const body = encodeHeaderBody(core, slots, signature);
  const withMac = concatBytes(body, computeHeaderMac(dataKey, core.fileId, body));
  return concatBytes(withMac, headerChecksum(withMac));
}

/**
 * Checks that `dataKey` is the key this header was made with (commitment)
 * and that no header byte changed since (MAC).
 * @throws TamperedError when either check fails.
 */
export function verifyHeaderKey(dataKey: Uint8Array, core: HeaderCore, headerBytes: Uint8Array): void {
  const commitment = deriveKeyCommitment(dataKey, core);
  if (!constantTimeEqual(commitment, core.keyCommitment)) {
    throw new TamperedError('the header was tampered with: the key slot does not match the file');
  }
  const macEnd = headerBytes.length - CHECKSUM_LENGTH;
  const body = headerBytes.subarray(0, macEnd - MAC_LENGTH);
  const mac = computeHeaderMac(dataKey, core.fileId, body);
  if (!constantTimeEqual(mac, headerBytes.subarray(macEnd - MAC_LENGTH, macEnd))) {
    throw new TamperedError('the header was tampered with: header authentication failed');
  }
}

/** §2.5: SHA-256 over everything before the checksum. */
export function headerChecksum(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/**
 * §3.2: the key-encryption key of one slot, HKDF over every factor's secret
 * (each length-prefixed, in slot order), salted per slot and bound to the
 * file id and the slot's factor list.
 */
export function deriveKek(secrets: readonly Uint8Array[], factors: readonly SlotFactor[], kekSalt: Uint8Array, fileId: Uint8Array): Uint8Array {
  if (secrets.length !== factors.length) throw new RangeError('one secret per factor is required');
  const ikm = new ByteWriter();
  for (const s of secrets) ikm.bytes16(s);
  const material = ikm.finish();
  try {
    return hkdf(material, kekSalt, concatBytes(LABEL_KEK, fileId, encodeSlotFactors(factors)));
  } finally {
    wipe(material);
  }
}

/** §3.3: wraps the data key under a slot KEK (AES-256-GCM; the KEK is unique per slot, so the nonce is fixed). */
export function wrapDataKey(kek: Uint8Array, dataKey: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', kek, Buffer.alloc(12));
  cipher.setAAD(LABEL_WRAP);
  const ct = cipher.update(dataKey);
  cipher.final();
  return concatBytes(ct, cipher.getAuthTag());
}

/** Unwraps a slot's data key, or returns undefined when the KEK is wrong. */
export function unwrapDataKey(kek: Uint8Array, wrapped: Uint8Array): Uint8Array | undefined {
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.alloc(12));
  decipher.setAAD(LABEL_WRAP);
  decipher.setAuthTag(wrapped.subarray(KEY_LENGTH, KEY_LENGTH + TAG_LENGTH));
  const pt = decipher.update(wrapped.subarray(0, KEY_LENGTH));
  try {
    decipher.final();
    return new Uint8Array(pt);
  } catch {
    pt.fill(0);
    return undefined;
  }
}

/** Builds a slot from factor secrets: a fresh salt, a KEK, and the wrapped data key. */
export function makeSlot(dataKey: Uint8Array, fileId: Uint8Array, factors: readonly SlotFactor[], secrets: readonly Uint8Array[]): KeySlot {
  const kekSalt = new Uint8Array(randomBytes(KEK_SALT_LENGTH));
  const kek = deriveKek(secrets, factors, kekSalt, fileId);
  try {
    return { factors, kekSalt, wrappedKey: wrapDataKey(kek, dataKey) };
  } finally {
    wipe(kek);
  }
}

/** Tries one slot with the given secrets; returns the data key or undefined. */
export function openSlot(slot: KeySlot, fileId: Uint8Array, secrets: readonly Uint8Array[]): Uint8Array | undefined {
  const kek = deriveKek(secrets, slot.factors, slot.kekSalt, fileId);
  try {
    return unwrapDataKey(kek, slot.wrappedKey);
  } finally {
    wipe(kek);
  }
}
