/**
 * Text encoding of public and secret keys: a prefix naming the key type, then
 * RFC 4648 base32 (lower case, no padding) of the key and a 4-byte SHA-256
 * checksum, so that a mistyped or truncated key is refused rather than used.
 * (age uses Bech32 for the same purpose.)
 */
import { createHash } from 'node:crypto';
import { FormatError } from '../errors.js';
import { concatBytes, constantTimeEqual } from '../util/bytes.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Canonical encodings only: fewer than 5 leftover bits, all zero.
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return undefined;
  return Uint8Array.from(out);
}

function checksum(prefix: string, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(prefix).update(bytes).digest().subarray(0, 4));
}

/** Encodes `bytes` as `prefix` + base32(bytes || checksum). */
export function encodeKey(prefix: string, bytes: Uint8Array): string {
  return prefix + base32(concatBytes(bytes, checksum(prefix, bytes)));
}

/**
 * Decodes a key string of the given type and length.
 * @throws FormatError when the prefix, length, characters or checksum are wrong.
 */
export function decodeKey(prefix: string, text: string, length: number, what: string): Uint8Array {
  const trimmed = text.trim();
  if (!trimmed.startsWith(prefix)) throw new FormatError(`not a ${what} (it should start with "${prefix}")`);
  const raw = unbase32(trimmed.slice(prefix.length));
  if (!raw || raw.length !== length + 4) throw new FormatError(`not a valid ${what}: wrong length or characters`);
  const key = raw.subarray(0, length);
  if (!constantTimeEqual(raw.subarray(length), checksum(prefix, key))) {
    throw new FormatError(`not a valid ${what}: checksum mismatch (mistyped or truncated?)`);
  }
  return key.slice();
}
