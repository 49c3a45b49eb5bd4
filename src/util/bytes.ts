/**
 * Byte helpers shared by the parsers and the key handling code.
 *
 * Secrets live in Uint8Array, never in strings, and are wiped with `wipe()`
 * when no longer needed. JavaScript gives no guarantee that a wiped buffer has
 * no copy elsewhere (the engine may have moved it), so wiping narrows the
 * window rather than closing it.
 */
import { timingSafeEqual } from 'node:crypto';
import { FormatError } from '../errors.js';

/** Overwrites every given buffer with zeros. Accepts undefined for convenience in `finally` blocks. */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Concatenates byte strings into a fresh buffer. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
/** UTF-8 bytes of a constant label (domain separation strings). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Lower-case hexadecimal. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Appends fixed-width big-endian integers and byte strings; the writer for
 * every binary structure bioseal emits.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  u8(v: number): this {
    const at = this.reserve(1); // reserve() may replace the buffer: take the offset first
    this.view.setUint8(at, v);
    return this;
  }

  u16(v: number): this {
    const at = this.reserve(2); // reserve() may replace the buffer: take the offset first
    this.view.setUint16(at, v);
    return this;
  }

  u32(v: number): this {
    const at = this.reserve(4); // reserve() may replace the buffer: take the offset first
    this.view.setUint32(at, v);
    return this;
  }

  u64(v: bigint): this {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** Length-prefixed (u16) byte string. */
  bytes16(b: Uint8Array): this {
    if (b.length > 0xffff) throw new RangeError('byte string longer than 65535');
    return this.u16(b.length).bytes(b);
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Strict reader for untrusted bytes: every read is bounds-checked and a
 * short input raises FormatError instead of reading past the end.
 */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'input',
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new FormatError(`${this.what} is truncated: needed ${n} more bytes at offset ${this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  u16(): number {
    return this.view.getUint16(this.take(2));
  }

  u32(): number {
    return this.view.getUint32(this.take(4));
  }

  u64(): bigint {
    return this.view.getBigUint64(this.take(8));
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  /** A u16-length-prefixed byte string, refusing lengths above `max`. */
  bytes16(max: number, field: string): Uint8Array {
    const n = this.u16();
    if (n > max) throw new FormatError(`${this.what}: ${field} is ${n} bytes, more than the limit of ${max}`);
    return this.bytes(n);
  }

  /** Refuses leftover bytes: canonical encodings have exactly one length. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new FormatError(`${this.what} has ${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}
