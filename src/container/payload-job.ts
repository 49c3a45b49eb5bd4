/**
 * The chunk loop shared by the main thread and the worker threads: read a
 * segment of sealed chunks with positional reads, authenticate and decrypt
 * it (into the caller's output, or into scratch when only checking), and
 * optionally hash each sealed chunk for the publisher signature (§5).
 *
 * Segments are handed out through an atomic counter in shared memory, so
 * every thread pulls the next free segment and none waits on a slow one.
 *
 * With the native backend the segment is read in the split layout
 * (native/aead.c readChunks): one vectored read puts each chunk's
 * ciphertext where its plaintext belongs (the output itself when opening)
 * and its tag aside, and the chunks are then decrypted in place while the
 * segment is still in the CPU cache. When only checking, the tags are
 * verified without decrypting at all (see authenticateChunks in aead.c).
 * Without the native backend, the segment is read as it lies in the file
 * into scratch and decrypted from there.
 */
import { readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { aeadBackend, processChunks } from './aead.js';
import { TAG_LENGTH } from './format.js';

/** Indices into the shared control array. */
export const CTRL_NEXT_SEGMENT = 0;
export const CTRL_FAILED_CHUNK = 1; // -1 while every chunk verified so far
export const CTRL_DONE_CHUNKS = 2;
export const CTRL_LENGTH = 3;

/** Everything a thread needs to process its share of one payload. */
export interface PayloadJob {
  readonly fd: number;
  readonly payloadOffset: number;
  readonly chunkLog2: number;
  readonly plaintextLength: number;
  readonly chunkCount: number;
  readonly segmentChunks: number;
  /** Payload key; absent for a hash-only pass (signature check without secrets). */
  readonly key?: Uint8Array;
  /** Plaintext destination (length = plaintextLength); absent when only checking. */
  readonly output?: Uint8Array;
  /** 32 bytes per chunk: SHA-256 of each sealed chunk; absent when not needed. */
  readonly chunkHashes?: Uint8Array;
  readonly control: Int32Array;
}

/** The native helpers beside processChunks (native/aead.c), when that backend is active. */
export interface NativeSegmentOps {
  readChunks(fd: number, position: number, chunkSize: number, plainLength: number, data: Uint8Array, tags: Uint8Array): void;
  decryptInPlace(key: Uint8Array, first: number, last: number, chunkSize: number, plainLength: number, data: Uint8Array, tags: Uint8Array): number;
  gcmLengthDelta(key: Uint8Array, length: number): Uint8Array;
  authenticateChunks(
    key: Uint8Array,
    first: number,
    last: number,
    chunkSize: number,
    plainLength: number,
    data: Uint8Array,
    tags: Uint8Array,
    deltaFull: Uint8Array,
    deltaShort: Uint8Array,
  ): number;
  prefault(bytes: Uint8Array): boolean;
  aliasArrayBuffer(bytes: Uint8Array): ArrayBuffer | undefined;
  wipe(bytes: Uint8Array): void;
}

const NATIVE_OPS = ['readChunks', 'decryptInPlace', 'gcmLengthDelta', 'authenticateChunks', 'prefault', 'aliasArrayBuffer', 'wipe'] as const;

function loadNativeOps(): NativeSegmentOps | undefined {
  if (aeadBackend !== 'native') return undefined;
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const addon = createRequire(import.meta.url)(path.join(here, '..', '..', '..', 'native', 'build', 'Release', 'bioseal_aead.node')) as Partial<NativeSegmentOps> & {
      splitRead?: boolean;
    };
    const ok = addon.splitRead === true && NATIVE_OPS.every((k) => typeof addon[k] === 'function');
    return ok ? (addon as NativeSegmentOps) : undefined;
  } catch {
    return undefined;
  }
}

/** The native segment helpers, or undefined (node backend, an older build of the binding, or no preadv). */
export const nativeOps: NativeSegmentOps | undefined = loadNativeOps();

/** Reusable per-thread buffers, so the loop allocates nothing per segment. */
export interface Scratch {
  /** Sealed segment as it lies in the file (node backend only; empty otherwise). */
  sealed: Uint8Array;
  /**
   * The segment when only checking: its ciphertext with the native backend
   * (verified, never decrypted), its plaintext without.
   */
  plain: Uint8Array;
  /** The segment's tags, in the split layout (native backend only; empty otherwise). */
  tags: Uint8Array;
  /**
   * Tag corrections for checking without decrypting (native/aead.c
   * authenticateChunks), for the job they were made for. Secret: wiped by
   * wipeScratch() at the end of every job.
   */
  deltas?: { job: PayloadJob; full: Uint8Array; short: Uint8Array };
}

/**
 * Zeroes bytes; fast also on shared memory, where TypedArray fill() goes
 * element by element (about 1 GB/s instead of memset speed).
 */
export function wipeBytes(bytes: Uint8Array): void {
  if (nativeOps && bytes.buffer instanceof SharedArrayBuffer) nativeOps.wipe(bytes);
  else bytes.fill(0);
}

/** Zeroes what a thread's scratch may hold of a finished job. */
export function wipeScratch(scratch: Scratch): void {
  scratch.plain.fill(0);
  if (scratch.deltas) {
    scratch.deltas.full.fill(0);
    scratch.deltas.short.fill(0);
    scratch.deltas = undefined;
  }
}

function deltasFor(job: PayloadJob, key: Uint8Array, scratch: Scratch, ops: NativeSegmentOps): NonNullable<Scratch['deltas']> {
  if (scratch.deltas?.job !== job) {
    if (scratch.deltas) wipeScratch(scratch);
    const chunkSize = 2 ** job.chunkLog2;
    const tail = job.plaintextLength - (job.chunkCount - 1) * chunkSize;
    const full = ops.gcmLengthDelta(key, chunkSize);
    scratch.deltas = { job, full, short: tail === chunkSize ? full.slice() : ops.gcmLengthDelta(key, tail) };
  }
  return scratch.deltas;
}

export function makeScratch(job: Pick<PayloadJob, 'chunkLog2' | 'segmentChunks'>): Scratch {
  const chunk = 2 ** job.chunkLog2;
  return {
    sealed: nativeOps ? new Uint8Array(0) : new Uint8Array(job.segmentChunks * (chunk + TAG_LENGTH)),
    plain: new Uint8Array(job.segmentChunks * chunk),
    tags: nativeOps ? new Uint8Array(job.segmentChunks * TAG_LENGTH) : new Uint8Array(0),
  };
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error('file shrank while it was being read');
    done += n;
  }
}

function recordFailure(control: Int32Array, chunk: number): void {
  // Keep the lowest failing chunk index: that is the one to report.
  for (;;) {
    const seen = Atomics.load(control, CTRL_FAILED_CHUNK);
    if (seen !== -1 && seen <= chunk) return;
    if (Atomics.compareExchange(control, CTRL_FAILED_CHUNK, seen, chunk) === seen) return;
  }
}

/**
 * Processes one segment; returns false when a chunk failed (recorded in the
 * control array).
 */
function runSegment(job: PayloadJob, scratch: Scratch, segment: number): boolean {
  const chunkSize = 2 ** job.chunkLog2;
  const sealedChunk = chunkSize + TAG_LENGTH;
  const last = job.chunkCount - 1;
  const first = segment * job.segmentChunks;
  const count = Math.min(job.segmentChunks, job.chunkCount - first);
  const plainStart = first * chunkSize;
  const plainLength = Math.min(count * chunkSize, job.plaintextLength - plainStart);
  const position = job.payloadOffset + first * sealedChunk;
  const dst = job.output ? job.output.subarray(plainStart, plainStart + plainLength) : scratch.plain.subarray(0, plainLength);
  let failed = -1;
  if (nativeOps) {
    const tags = scratch.tags.subarray(0, count * TAG_LENGTH);
    // A fresh output's pages: one call maps them all, instead of a fault per 4 KiB during the read.
    if (job.output) nativeOps.prefault(dst);
    nativeOps.readChunks(job.fd, position, chunkSize, plainLength, dst, tags);
    if (job.chunkHashes) {
      for (let i = 0; i < count; i++) {
        const start = i * chunkSize;
        const digest = createHash('sha256')
          .update(dst.subarray(start, Math.min(start + chunkSize, plainLength)))
          .update(tags.subarray(i * TAG_LENGTH, (i + 1) * TAG_LENGTH))
          .digest();
        job.chunkHashes.set(digest, (first + i) * 32);
      }
    }
    if (job.key && job.output) {
      failed = nativeOps.decryptInPlace(job.key, first, last, chunkSize, plainLength, dst, tags);
    } else if (job.key) {
      // Only checking: verify the tags without decrypting (half the work).
      const d = deltasFor(job, job.key, scratch, nativeOps);
      failed = nativeOps.authenticateChunks(job.key, first, last, chunkSize, plainLength, dst, tags, d.full, d.short);
    }
  } else {
    const sealedLength = plainLength + count * TAG_LENGTH;
    const src = scratch.sealed.subarray(0, sealedLength);
    readFully(job.fd, src, position);
    if (job.chunkHashes) {
      for (let i = 0; i < count; i++) {
        const start = i * sealedChunk;
        const digest = createHash('sha256').update(src.subarray(start, Math.min(start + sealedChunk, sealedLength))).digest();
        job.chunkHashes.set(digest, (first + i) * 32);
      }
    }
    if (job.key) failed = processChunks(false, job.key, first, last, chunkSize, plainLength, src, dst);
  }
  if (failed >= 0) {
    recordFailure(job.control, first + failed);
    return false;
  }
  Atomics.add(job.control, CTRL_DONE_CHUNKS, count);
  return true;
}

/**
 * Pulls segments until none are left, a chunk has failed, or (when given)
 * `deadline` (a performance.now() value) has passed. Returns true when it
 * stopped only for the deadline, so there may be more to do.
 */
export function runPayloadSlice(job: PayloadJob, scratch: Scratch, deadline = Infinity): boolean {
  const segments = Math.ceil(job.chunkCount / job.segmentChunks);
  for (;;) {
    if (Atomics.load(job.control, CTRL_FAILED_CHUNK) !== -1) return false;
    const segment = Atomics.add(job.control, CTRL_NEXT_SEGMENT, 1);
    if (segment >= segments) return false;
    if (!runSegment(job, scratch, segment)) return false;
    if (deadline !== Infinity && performance.now() >= deadline) return true;
  }
}

/** Makes every thread stop at its next segment (after an error in one of them). */
export function stopPayloadJob(job: PayloadJob): void {
  Atomics.store(job.control, CTRL_NEXT_SEGMENT, Math.ceil(job.chunkCount / job.segmentChunks));
}

/** Pulls segments until none are left or a chunk has failed. */
export function runPayloadJob(job: PayloadJob, scratch: Scratch): void {
  runPayloadSlice(job, scratch);
}
