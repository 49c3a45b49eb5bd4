/**
 * Strict checks of SEAL 4.1 serialisations (uncompressed) before SEAL reads
 * them. SEAL's own loader trusts the lengths it reads, and a truncated or
 * inconsistent object aborts the WebAssembly module rather than throwing, so
 * every byte outside the polynomial coefficients and seeds is checked here
 * against what the parameter set dictates, and every coefficient against its
 * prime. What passes is an object SEAL can load; what does not is a
 * `FormatError`.
 *
 * Layouts (little-endian; from SEAL's `serialization.h`, `ciphertext.cpp`,
 * `kswitchkeys.cpp`, `plaintext.cpp`, `randomgen.cpp`):
 *
 *   header      magic 0xA15E (u16) | header size 0x10 (u8) | version 4.1 (u8 u8)
 *               | compression 0 (u8) | reserved 0 (u16) | total size (u64)
 *   Ciphertext  header | parms_id (32) | NTT form (u8) | size (u64) | N (u64)
 *               | primes (u64) | scale (f64) | correction factor (u64)
 *               | header | count (u64) | count u64 coefficients [| seed]
 *   seed        header | PRNG type (u8: 1 BLAKE2xb, 2 SHAKE256) | 64 bytes
 *   PublicKey   a Ciphertext at the key level, scale 1
 *   KSwitchKeys header | parms_id (32) | count (u64) | count x (u64 n, n x PublicKey)
 *   SecretKey   header | parms_id (32) | coefficients (u64) | scale (f64)
 *               | header | count (u64) | count u64 coefficients
 *
 * A seeded object (SEAL's "serializable" form, made with the secret key or by
 * key generation) stores its second polynomial as the 64-byte seed that
 * regenerates it, halving its size.
 */
import { FormatError } from '../errors.js';
import type { HeLevel } from './parameters.js';

const HEADER_BYTES = 16;
const SEAL_MAGIC = 0xa15e;
const SEAL_VERSION = [4, 1] as const;
const SEED_BLOB_BYTES = HEADER_BYTES + 1 + 64;
const PRNG_TYPES = new Set([1, 2]);

/** What a ciphertext of one kind must be. */
export interface CiphertextShape {
  readonly level: HeLevel;
  readonly polyModulusDegree: number;
  /** Exact scale (SEAL stores a double). */
  readonly scale: number;
  /** Whether the seeded form is accepted, required, or refused. */
  readonly seeded: 'allowed' | 'required' | 'refused';
}

/** Byte length of a serialised ciphertext of size 2 at `level`. */
export function ciphertextBytes(level: HeLevel, polyModulusDegree: number, seeded: boolean): number {
  const polys = seeded ? 1 : 2;
  return HEADER_BYTES + 32 + 1 + 8 * 5 + HEADER_BYTES + 8 + polys * level.moduli.length * polyModulusDegree * 8 + (seeded ? SEED_BLOB_BYTES : 0);
}

/** Byte length of serialised key-switching keys with `entries` outer slots, `filled` of them holding `decomposition` keys. */
export function kswitchKeysBytes(level: HeLevel, polyModulusDegree: number, entries: number, filled: number, decomposition: number, seeded: boolean): number {
  return HEADER_BYTES + 32 + 8 + entries * 8 + filled * decomposition * ciphertextBytes(level, polyModulusDegree, seeded);
}

/** Byte length of a serialised secret key. */
export function secretKeyBytes(level: HeLevel, polyModulusDegree: number): number {
  return HEADER_BYTES + 32 + 8 + 8 + HEADER_BYTES + 8 + level.moduli.length * polyModulusDegree * 8;
}

/** A cursor over untrusted bytes that throws FormatError on anything unexpected. */
class Reader {
  private readonly view: DataView;
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    offset = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }
  fail(problem: string): never {
    throw new FormatError(`${this.what}: ${problem}`);
  }
  need(n: number): void {
    if (this.offset + n > this.bytes.length) this.fail('truncated');
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }
  expectU64(value: number, field: string): void {
    if (this.u64() !== BigInt(value)) this.fail(`unexpected ${field}`);
  }
  expectBytes(expected: Uint8Array, field: string): void {
    this.need(expected.length);
    for (let i = 0; i < expected.length; i++) {
      if (this.bytes[this.offset + i] !== expected[i]) this.fail(`${field} does not match this parameter set`);
    }
    this.offset += expected.length;
  }
  /** A SEAL header announcing exactly `size` bytes from its own start. */
  header(size: number): void {
    const start = this.offset;
    if (this.u16() !== SEAL_MAGIC) this.fail('not a SEAL object');
    if (this.u8() !== HEADER_BYTES) this.fail('unexpected SEAL header size');
    if (this.u8() !== SEAL_VERSION[0] || this.u8() !== SEAL_VERSION[1]) this.fail('unsupported SEAL version');
    if (this.u8() !== 0) this.fail('compressed SEAL objects are not accepted');
    if (this.u16() !== 0) this.fail('reserved SEAL header bits set');
    if (this.u64() !== BigInt(size)) this.fail('SEAL object size does not match');
    if (start + size > this.bytes.length) this.fail('truncated');
  }
  /** `polys` polynomials of N coefficients per prime, each below its prime. */
  coefficients(moduli: readonly bigint[], polyModulusDegree: number, polys: number): void {
    const count = polys * moduli.length * polyModulusDegree;
    this.header(HEADER_BYTES + 8 + count * 8);
    this.expectU64(count, 'coefficient count');
    this.need(count * 8);
    for (let p = 0; p < polys; p++) {
      for (const q of moduli) {
        // Compare as two 32-bit halves: far faster than BigInt per coefficient.
        const qHi = Number(q >> 32n);
        const qLo = Number(q & 0xffffffffn);
        for (let i = 0; i < polyModulusDegree; i++) {
          const lo = this.view.getUint32(this.offset, true);
          const hi = this.view.getUint32(this.offset + 4, true);
          if (hi > qHi || (hi === qHi && lo >= qLo)) this.fail('coefficient out of range');
          this.offset += 8;
        }
      }
    }
  }
  end(): void {
    if (this.offset !== this.bytes.length) this.fail('trailing bytes');
  }
}

/** Checks one serialised ciphertext of size 2; returns whether it is seeded. */
export function checkCiphertext(bytes: Uint8Array, shape: CiphertextShape, what: string): boolean {
  const reader = new Reader(bytes, what);
  const seeded = readCiphertext(reader, shape);
  reader.end();
  return seeded;
}

function readCiphertext(r: Reader, shape: CiphertextShape): boolean {
  const full = ciphertextBytes(shape.level, shape.polyModulusDegree, false);
  const seededSize = ciphertextBytes(shape.level, shape.polyModulusDegree, true);
  const remaining = r.bytes.length - r.offset;
  // The total size in the header decides the form; it must be one of the two exact sizes.
  if (remaining < HEADER_BYTES) r.fail('truncated');
  const announced = new DataView(r.bytes.buffer, r.bytes.byteOffset + r.offset + 8, 8).getBigUint64(0, true);
  const seeded = announced === BigInt(seededSize) && seededSize !== full;
  if (!seeded && announced !== BigInt(full)) r.fail('not a ciphertext of this parameter set (wrong size)');
  if (seeded && shape.seeded === 'refused') r.fail('a seeded ciphertext is not accepted here');
  if (!seeded && shape.seeded === 'required') r.fail('a seeded ciphertext is required here');
  r.header(seeded ? seededSize : full);
  r.expectBytes(shape.level.parmsId, 'parms_id');
  if (r.u8() !== 1) r.fail('ciphertext not in NTT form');
  r.expectU64(2, 'ciphertext size');
  r.expectU64(shape.polyModulusDegree, 'polynomial degree');
  r.expectU64(shape.level.moduli.length, 'number of primes');
  if (r.f64() !== shape.scale) r.fail('unexpected scale');
  r.expectU64(1, 'correction factor');
  r.coefficients(shape.level.moduli, shape.polyModulusDegree, seeded ? 1 : 2);
  if (seeded) {
    r.header(SEED_BLOB_BYTES);
    if (!PRNG_TYPES.has(r.u8())) r.fail('unknown PRNG type');
    r.need(64);
    r.offset += 64;
  }
  return seeded;
}

/**
 * Checks serialised relinearisation or Galois keys: `entries` outer slots
 * (1 for relinearisation keys, N for Galois keys, indexed by Galois element),
 * exactly the slots in `filled` holding `decomposition` public keys each.
 */
export function checkKSwitchKeys(
  bytes: Uint8Array,
  keyLevel: HeLevel,
  polyModulusDegree: number,
  entries: number,
  filled: ReadonlySet<number>,
  decomposition: number,
  what: string,
): void {
  const r = new Reader(bytes, what);
  if (bytes.length < HEADER_BYTES) r.fail('truncated');
  r.header(bytes.length);
  r.expectBytes(keyLevel.parmsId, 'parms_id');
  r.expectU64(entries, 'number of key slots');
  const keyShape: CiphertextShape = { level: keyLevel, polyModulusDegree, scale: 1, seeded: 'allowed' };
  for (let i = 0; i < entries; i++) {
    r.expectU64(filled.has(i) ? decomposition : 0, `number of keys in slot ${i}`);
    if (filled.has(i)) for (let j = 0; j < decomposition; j++) readCiphertext(r, keyShape);
  }
  r.end();
}

/** Checks a serialised public key (a seeded or full ciphertext at the key level, scale 1). */
export function checkPublicKey(bytes: Uint8Array, keyLevel: HeLevel, polyModulusDegree: number, what: string): void {
  checkCiphertext(bytes, { level: keyLevel, polyModulusDegree, scale: 1, seeded: 'allowed' }, what);
}

/** Checks a serialised secret key. */
export function checkSecretKey(bytes: Uint8Array, keyLevel: HeLevel, polyModulusDegree: number, what: string): void {
  const r = new Reader(bytes, what);
  if (bytes.length < HEADER_BYTES) r.fail('truncated');
  r.header(secretKeyBytes(keyLevel, polyModulusDegree));
  r.expectBytes(keyLevel.parmsId, 'parms_id');
  r.expectU64(keyLevel.moduli.length * polyModulusDegree, 'coefficient count');
  if (r.f64() !== 1) r.fail('unexpected scale');
  r.coefficients(keyLevel.moduli, polyModulusDegree, 1);
  r.end();
}
