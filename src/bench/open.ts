/**
 * Benchmark 2: open a sealed file into memory versus reading the plaintext
 * file into memory with fs.promises.readFile.
 *
 * Both produce one fresh buffer of the whole payload (so both pay the page
 * faults of a new allocation) from files already in the page cache. The
 * bioseal figure is openModel until the bytes are ready; release() (zeroing
 * the plaintext) is timed separately, since readFile has nothing to wipe.
 */
import { promises as fs } from 'node:fs';
import { openModel } from '../operations/open.js';
import {
  benchCredentials,
  round,
  settle,
  throughput,
  timeIt,
  timing,
  warmPageCache,
  type BenchContext,
  type Fixture,
  type Timing,
} from './common.js';

/** openModel may take at most this many times as long as readFile. */
export const OPEN_GOAL_RATIO = 1.2;

export interface OpenBench {
  readonly bytes: number;
  /** openModel until the plaintext is in memory. */
  readonly bioseal: Timing & { gbPerSecond: number };
  /** release(): zeroing the plaintext afterwards (not part of the ratio). */
  readonly release: Timing;
  readonly readFile: Timing & { gbPerSecond: number };
  /** bioseal seconds / readFile seconds (medians). */
  readonly ratioVsReadFile: number;
  readonly goal: { maxRatioVsReadFile: number; met: boolean };
}

export async function benchOpen(ctx: BenchContext, f: Fixture): Promise<OpenBench> {
  const credentials = benchCredentials(f);
  await warmPageCache(f.sealedPath);
  await warmPageCache(f.plaintextPath);

  const openRuns: number[] = [];
  const releaseRuns: number[] = [];
  const readRuns: number[] = [];
  const openOnce = async (): Promise<number> => {
    let opened: Awaited<ReturnType<typeof openModel>> | undefined;
    const seconds = await timeIt(async () => {
      opened = await openModel(f.sealedPath, credentials);
    });
    if (opened!.bytes.length !== f.sizeBytes) throw new Error('bench: open gave the wrong length');
    releaseRuns.push(await timeIt(() => opened!.release()));
    opened = undefined;
    return seconds;
  };
  const readOnce = async (): Promise<number> => {
    let bytes: Buffer | undefined;
    const seconds = await timeIt(async () => {
      bytes = await fs.readFile(f.plaintextPath);
    });
    if (bytes!.length !== f.sizeBytes) throw new Error('bench: readFile gave the wrong length');
    bytes = undefined;
    return seconds;
  };

  ctx.log('open: warm-up runs');
  await openOnce();
  releaseRuns.length = 0;
  await settle();
  await readOnce();

  for (let i = 0; i < ctx.runs; i++) {
    // Alternate which goes first, so neither always follows the other's garbage.
    const order = i % 2 === 0 ? (['open', 'read'] as const) : (['read', 'open'] as const);
    for (const which of order) {
      await settle();
      if (which === 'open') openRuns.push(await openOnce());
      else readRuns.push(await readOnce());
    }
    ctx.log(`open run ${i + 1}/${ctx.runs}: openModel ${openRuns.at(-1)!.toFixed(3)} s, readFile ${readRuns.at(-1)!.toFixed(3)} s`);
  }
  await settle();

  const bioseal = throughput(timing(openRuns), f.sizeBytes);
  const readFile = throughput(timing(readRuns), f.sizeBytes);
  const ratio = bioseal.medianSeconds / readFile.medianSeconds;
  return {
    bytes: f.sizeBytes,
    bioseal,
    release: timing(releaseRuns),
    readFile,
    ratioVsReadFile: round(ratio, 3),
    goal: { maxRatioVsReadFile: OPEN_GOAL_RATIO, met: ratio <= OPEN_GOAL_RATIO },
  };
}
