/**
 * Worker thread body for parallel payload processing. It receives jobs whose
 * buffers live in shared memory, runs them with the same loop the main thread
 * uses, wipes its copy of the key and reports back.
 */
import { parentPort } from 'node:worker_threads';
import { makeScratch, runPayloadJob, stopPayloadJob, wipeScratch, type PayloadJob, type Scratch } from './payload-job.js';

let scratch: Scratch | undefined;
let scratchShape = '';

parentPort!.on('message', (job: PayloadJob & { id: number }) => {
  try {
    const shape = `${job.chunkLog2}/${job.segmentChunks}`;
    if (!scratch || shape !== scratchShape) {
      scratch = makeScratch(job);
      scratchShape = shape;
    }
    runPayloadJob(job, scratch);
    parentPort!.postMessage({ id: job.id, ok: true });
  } catch (error) {
    stopPayloadJob(job);
    parentPort!.postMessage({ id: job.id, ok: false, message: error instanceof Error ? error.message : String(error) });
  } finally {
    job.key?.fill(0);
    if (scratch) wipeScratch(scratch);
  }
});
