/**
 * STREAM chunk geometry (docs/FORMAT.md §4; Hoang, Reyhanitabar, Rogaway and
 * Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
 * Misuse-Resistance", CRYPTO 2015).
 *
 * The payload is cut into chunks of 2^chunkLog2 plaintext bytes (the last one
 * shorter, possibly empty when the whole payload is empty). Chunk i is
 * sealed with nonce = i as an 11-byte big-endian counter || 0x01 if it is the
 * last chunk, else 0x00. Reordering, duplicating or dropping a chunk changes
 * its nonce; truncating or extending changes which chunk carries the
 * last-chunk flag; both fail authentication.
 */
import { TAG_LENGTH } from './format.js';

export const NONCE_LENGTH = 12;

/** Where the chunks of one payload lie, in plaintext and in the sealed file. */
export interface ChunkLayout {
  readonly chunkSize: number;
  readonly plaintextLength: number;
  readonly chunkCount: number;
  /** Bytes from the first chunk to the end of the file. */
  readonly sealedLength: number;
}

/** Computes the chunk layout for a payload. */
export function chunkLayout(plaintextLength: number, chunkLog2: number): ChunkLayout {
  const chunkSize = 2 ** chunkLog2;
  const chunkCount = plaintextLength === 0 ? 1 : Math.ceil(plaintextLength / chunkSize);
  return { chunkSize, plaintextLength, chunkCount, sealedLength: plaintextLength + chunkCount * TAG_LENGTH };
}

/** Plaintext length of chunk i. */
export function chunkPlainLength(layout: ChunkLayout, i: number): number {
  return i === layout.chunkCount - 1 ? layout.plaintextLength - i * layout.chunkSize : layout.chunkSize;
}

/** §4.1: the nonce of chunk `counter`. */
export function streamNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(NONCE_LENGTH);
  const view = new DataView(nonce.buffer);
  view.setUint32(3, Math.floor(counter / 2 ** 32));
  view.setUint32(7, counter >>> 0);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
