/**
 * Runs a payload job on every core: the calling thread and a small pool of
 * worker threads, created on first use and kept (unreferenced, so they never
 * hold the process open) for the next job. The calling thread works too, in
 * slices so that its event loop still turns (progress, worker messages): on
 * a first job it is busy at once while the workers start. Small payloads run
 * on the calling thread alone, where starting workers would cost more than
 * it saves.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  CTRL_DONE_CHUNKS,
  CTRL_FAILED_CHUNK,
  CTRL_LENGTH,
  makeScratch,
  nativeOps,
  runPayloadJob,
  runPayloadSlice,
  stopPayloadJob,
  wipeScratch,
  type PayloadJob,
  type Scratch,
} from './payload-job.js';

/** Payloads below this size are processed on the calling thread. */
export const PARALLEL_THRESHOLD = 8 * 1024 * 1024;
/**
 * Bytes per segment (the unit of work a thread claims). With the native
 * split read a segment is read and decrypted in place while it is still in
 * the core's L2 cache, so it is kept that small; the node backend's path
 * copies through scratch and prefers larger reads.
 */
const SEGMENT_BYTES = nativeOps ? 512 * 1024 : 4 * 1024 * 1024;
/** How long the calling thread works before it lets its event loop turn. */
const MAIN_SLICE_MS = 20;

export interface PayloadRun {
  readonly fd: number;
  readonly payloadOffset: number;
  readonly chunkLog2: number;
  readonly plaintextLength: number;
  readonly chunkCount: number;
  readonly key?: Uint8Array;
  readonly output?: Uint8Array;
  readonly chunkHashes?: Uint8Array;
  /** Called now and then with the number of plaintext bytes done. */
  readonly onProgress?: (bytesDone: number) => void;
  /**
   * Threads to use, the calling thread included; default: one per core (at
   * most 8). 0 or 1 runs on the calling thread alone.
   */
  readonly threads?: number;
}

/** The first chunk that failed authentication, or -1. */
export type PayloadResult = { failedChunk: number };

class Pool {
  private readonly workers: Worker[] = [];
  private nextId = 1;

  size(): number {
    return this.workers.length;
  }

  ensure(n: number): Worker[] {
    const url = new URL('./chunk-worker.js', import.meta.url);
    while (this.workers.length < n) {
      const w = new Worker(fileURLToPath(url));
      w.unref();
      this.workers.push(w);
    }
    return this.workers.slice(0, n);
  }

  run(worker: Worker, job: PayloadJob): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: { id: number; ok: boolean; message?: string }) => {
        if (m.id !== id) return;
        cleanup();
        if (m.ok) resolve();
        else reject(new Error(m.message));
      };
      const onError = (e: Error) => {
        cleanup();
        this.workers.splice(this.workers.indexOf(worker), 1);
        reject(e);
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.unref();
      };
      worker.ref();
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ ...job, id });
    });
  }

  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.terminate()));
  }
}

const pool = new Pool();

/** The calling thread's scratch, kept between jobs of the same shape (wiped after each). */
let mainScratch: { shape: string; scratch: Scratch } | undefined;

function scratchFor(job: PayloadJob): Scratch {
  const shape = `${job.chunkLog2}/${job.segmentChunks}`;
  if (mainScratch?.shape !== shape) mainScratch = { shape, scratch: makeScratch(job) };
  return mainScratch.scratch;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The calling thread's share: slices of work with a turn of the event loop between them. */
async function runOnCallingThread(job: PayloadJob): Promise<void> {
  const scratch = scratchFor(job);
  try {
    while (runPayloadSlice(job, scratch, performance.now() + MAIN_SLICE_MS)) await nextTurn();
  } catch (error) {
    stopPayloadJob(job);
    throw error;
  } finally {
    wipeScratch(scratch);
  }
}

/** Stops the worker threads (they are recreated when needed). */
export function closeWorkerPool(): Promise<void> {
  return pool.close();
}

function isShared(b: Uint8Array | undefined): boolean {
  return b === undefined || b.buffer instanceof SharedArrayBuffer;
}

/**
 * Authenticates (and, with `output`, decrypts) every chunk of a payload.
 * `output` and `chunkHashes` must be backed by SharedArrayBuffer when more
 * than one thread is used.
 */
export async function processPayload(run: PayloadRun): Promise<PayloadResult> {
  const segmentChunks = Math.max(1, Math.floor(SEGMENT_BYTES / 2 ** run.chunkLog2));
  const control = new Int32Array(new SharedArrayBuffer(CTRL_LENGTH * 4));
  control[CTRL_FAILED_CHUNK] = -1;
  const job: PayloadJob = {
    fd: run.fd,
    payloadOffset: run.payloadOffset,
    chunkLog2: run.chunkLog2,
    plaintextLength: run.plaintextLength,
    chunkCount: run.chunkCount,
    segmentChunks,
    key: run.key,
    output: run.output,
    chunkHashes: run.chunkHashes,
    control,
  };
  const threads = run.threads ?? Math.min(availableParallelism(), 8);
  const parallel = threads > 1 && run.plaintextLength >= PARALLEL_THRESHOLD && isShared(run.output) && isShared(run.chunkHashes);
  if (!parallel) {
    const scratch = scratchFor(job);
    try {
      runPayloadJob(job, scratch);
    } finally {
      wipeScratch(scratch);
    }
    run.onProgress?.(run.plaintextLength);
    return { failedChunk: control[CTRL_FAILED_CHUNK]! };
  }
  const workers = pool.ensure(threads - 1);
  const all = Promise.allSettled([...workers.map((w) => pool.run(w, job)), runOnCallingThread(job)]);
  let timer: NodeJS.Timeout | undefined;
  if (run.onProgress) {
    const chunkSize = 2 ** run.chunkLog2;
    timer = setInterval(() => run.onProgress!(Math.min(run.plaintextLength, Atomics.load(control, CTRL_DONE_CHUNKS) * chunkSize)), 100);
  }
  let results: PromiseSettledResult<void>[];
  try {
    results = await all;
  } finally {
    if (timer) clearInterval(timer);
  }
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  run.onProgress?.(run.plaintextLength);
  return { failedChunk: control[CTRL_FAILED_CHUNK]! };
}
