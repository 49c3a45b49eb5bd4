/**
 * The chunk loop shared by the main thread and the worker threads: read a
 * segment of sealed chunks with positional reads, authenticate and decrypt
 * it (into the caller's output, or into scratch when only checking), and
 * optionally hash each sealed chunk for the publisher signature (§5).
 *
 * Segments are handed out through an atomic counter in shared memory, so
 * every thread pulls the next free segment and none waits on a slow one.
 */
import { readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { processChunks } from './aead.js';
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

/** Reusable per-thread buffers, so the loop allocates nothing per segment. */
export interface Scratch {
  sealed: Uint8Array;
  plain: Uint8Array;
}

export function makeScratch(job: Pick<PayloadJob, 'chunkLog2' | 'segmentChunks'>): Scratch {
  const chunk = 2 ** job.chunkLog2;
  return {
    sealed: new Uint8Array(job.segmentChunks * (chunk + TAG_LENGTH)),
    plain: new Uint8Array(job.segmentChunks * chunk),
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

/** Pulls segments until none are left or a chunk has failed. */
export function runPayloadJob(job: PayloadJob, scratch: Scratch): void {
  const chunkSize = 2 ** job.chunkLog2;
  const sealedChunk = chunkSize + TAG_LENGTH;
  const segments = Math.ceil(job.chunkCount / job.segmentChunks);
  const last = job.chunkCount - 1;
  for (;;) {
    if (Atomics.load(job.control, CTRL_FAILED_CHUNK) !== -1) return;
    const segment = Atomics.add(job.control, CTRL_NEXT_SEGMENT, 1);
    if (segment >= segments) return;
    const first = segment * job.segmentChunks;
    const count = Math.min(job.segmentChunks, job.chunkCount - first);
    const plainStart = first * chunkSize;
    const plainLength = Math.min(count * chunkSize, job.plaintextLength - plainStart);
    const sealedLength = plainLength + count * TAG_LENGTH;
    const src = scratch.sealed.subarray(0, sealedLength);
    readFully(job.fd, src, job.payloadOffset + first * sealedChunk);
    if (job.chunkHashes) {
      for (let i = 0; i < count; i++) {
        const start = i * sealedChunk;
        const digest = createHash('sha256').update(src.subarray(start, Math.min(start + sealedChunk, sealedLength))).digest();
        job.chunkHashes.set(digest, (first + i) * 32);
      }
    }
    const dst = job.output ? job.output.subarray(plainStart, plainStart + plainLength) : scratch.plain.subarray(0, plainLength);
    const failed = job.key ? processChunks(false, job.key, first, last, chunkSize, plainLength, src, dst) : -1;
    if (failed >= 0) {
      // Keep the lowest failing chunk index: that is the one to report.
      const chunk = first + failed;
      for (;;) {
        const seen = Atomics.load(job.control, CTRL_FAILED_CHUNK);
        if (seen !== -1 && seen <= chunk) break;
        if (Atomics.compareExchange(job.control, CTRL_FAILED_CHUNK, seen, chunk) === seen) break;
      }
      return;
    }
    Atomics.add(job.control, CTRL_DONE_CHUNKS, count);
  }
}
