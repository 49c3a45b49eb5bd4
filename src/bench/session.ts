/**
 * Benchmark 4: from "secrets in hand" (the key file's 32 bytes loaded) to a
 * ready onnxruntime session, for a sealed model of about 128 MB, against
 * onnxruntime creating the session from the plaintext model file.
 *
 * bioseal: openModel (unlock the header, authenticate and decrypt into
 * memory) + createSessionFromMemory, then release() of the plaintext, as
 * createSealedSession does; the session is ready when that returns. A large
 * opened model lives in shared memory, which onnxruntime-node refuses, so it
 * is handed over through unsharedView() (an alias of the same memory with the
 * native backend; a copy, wiped afterwards, without it). Whether
 * createSealedSession itself accepts such a model is reported too.
 * plain: InferenceSession.create(path).
 *
 * Also the key unwrap alone: unlockHeader over the parsed header with the
 * keyfile provider (key id match, HKDF of the KEK, AES-GCM unwrap, key
 * commitment and header MAC), median of many iterations.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildLargeModel } from '../onnx/model-builder.js';
import { createSessionFromMemory } from '../onnx/session.js';
import { openModel } from '../operations/open.js';
import { sealModel } from '../operations/seal.js';
import { inputsFromCredentials } from '../operations/credentials.js';
import { factorProvider } from '../factors/registry.js';
import { readSealedInfo, unlockHeader, unsharedView } from '../container/open.js';
import { createSealedSession } from '../operations/open.js';
import { wipe } from '../util/bytes.js';
import {
  benchCredentials,
  median,
  round,
  settle,
  timeIt,
  timing,
  warmPageCache,
  type BenchContext,
  type Fixture,
  type Timing,
} from './common.js';

/** Weight bytes of the benchmark model (the file is a little larger). */
export const SESSION_MODEL_BYTES = 128e6;
/** A sealed session may be at most this much slower than a plain one. */
export const SESSION_GOAL_MAX_SLOWER_PERCENT = 5;
/** The key unwrap must take less than this (milliseconds, median). */
export const UNLOCK_GOAL_MAX_MS = 1.7;
export const UNLOCK_ITERATIONS = 1000;

export interface SessionBench {
  readonly modelBytes: number;
  /** How the opened bytes reached onnxruntime: an alias of the shared memory, a copy, or as they were. */
  readonly handoff: 'alias' | 'copy' | 'direct';
  /** Whether createSealedSession itself worked on this model (it passes the opened bytes as they are). */
  readonly createSealedSessionWorks: boolean;
  readonly createSealedSessionError?: string;
  /** openModel + createSessionFromMemory + release, from the key bytes in hand. */
  readonly sealed: Timing;
  /** InferenceSession.create(plaintext model path). */
  readonly plain: Timing;
  /** sealed / plain (medians). */
  readonly ratio: number;
  readonly slowerPercent: number;
  readonly goal: { maxSlowerPercent: number; met: boolean };
  readonly unlock: {
    readonly iterations: number;
    readonly medianMs: number;
    readonly p90Ms: number;
    readonly goal: { maxMedianMs: number; met: boolean };
  };
}

async function benchUnlock(f: Pick<Fixture, 'keyBytes' | 'home'>, sealedPath: string): Promise<SessionBench['unlock']> {
  const { header } = await readSealedInfo(sealedPath);
  const provider = factorProvider(inputsFromCredentials(benchCredentials(f)));
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const { dataKey } = await unlockHeader(header, provider);
    const ms = performance.now() - t0;
    wipe(dataKey);
    return ms;
  };
  for (let i = 0; i < 50; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < UNLOCK_ITERATIONS; i++) samples.push(await once());
  samples.sort((a, b) => a - b);
  const med = median(samples);
  return {
    iterations: UNLOCK_ITERATIONS,
    medianMs: round(med, 4),
    p90Ms: round(samples[Math.floor(samples.length * 0.9)]!, 4),
    goal: { maxMedianMs: UNLOCK_GOAL_MAX_MS, met: med < UNLOCK_GOAL_MAX_MS },
  };
}

export async function benchSession(ctx: BenchContext, f: Fixture): Promise<SessionBench> {
  ctx.log(`building a ${SESSION_MODEL_BYTES / 1e6} MB ONNX model and sealing it`);
  const model = buildLargeModel({ sizeBytes: SESSION_MODEL_BYTES });
  const modelPath = path.join(ctx.dir, 'model.onnx');
  const sealedPath = path.join(ctx.dir, 'model.bseal');
  await fs.writeFile(modelPath, model);
  const modelBytes = model.length;
  await sealModel({ input: modelPath, output: sealedPath, policies: ['keyfile'], keyFiles: [f.keyBytes], home: f.home, useIdentities: false });
  await warmPageCache(modelPath);
  await warmPageCache(sealedPath);
  const credentials = benchCredentials(f);

  let handoff: SessionBench['handoff'] = 'direct';
  const sealedOnce = async (): Promise<number> => {
    let session: ort.InferenceSession | undefined;
    const seconds = await timeIt(async () => {
      const opened = await openModel(sealedPath, credentials);
      let copy: Uint8Array | undefined;
      try {
        let view = unsharedView(opened.bytes);
        handoff = view === opened.bytes ? 'direct' : view ? 'alias' : 'copy';
        if (!view) view = copy = opened.bytes.slice();
        session = await createSessionFromMemory(view);
      } finally {
        copy?.fill(0);
        opened.release();
      }
    });
    await session!.release();
    return seconds;
  };
  let createSealedSessionError: string | undefined;
  try {
    const s = await createSealedSession(sealedPath, credentials);
    await s.session.release();
  } catch (error) {
    createSealedSessionError = error instanceof Error ? error.message : String(error);
  }
  const plainOnce = async (): Promise<number> => {
    let session: ort.InferenceSession | undefined;
    const seconds = await timeIt(async () => {
      session = await ort.InferenceSession.create(modelPath);
    });
    await session!.release();
    return seconds;
  };

  ctx.log('session: warm-up runs');
  await sealedOnce();
  await settle();
  await plainOnce();

  const runs = Math.max(ctx.runs, 5);
  const sealedRuns: number[] = [];
  const plainRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? (['sealed', 'plain'] as const) : (['plain', 'sealed'] as const);
    for (const which of order) {
      await settle();
      if (which === 'sealed') sealedRuns.push(await sealedOnce());
      else plainRuns.push(await plainOnce());
    }
    ctx.log(`session run ${i + 1}/${runs}: sealed ${sealedRuns.at(-1)!.toFixed(3)} s, plain ${plainRuns.at(-1)!.toFixed(3)} s`);
  }

  ctx.log(`session: key unwrap, ${UNLOCK_ITERATIONS} iterations`);
  const unlock = await benchUnlock(f, sealedPath);
  await fs.rm(modelPath, { force: true });
  await fs.rm(sealedPath, { force: true });

  const sealed = timing(sealedRuns);
  const plain = timing(plainRuns);
  const ratio = sealed.medianSeconds / plain.medianSeconds;
  const slowerPercent = (ratio - 1) * 100;
  return {
    modelBytes,
    handoff,
    createSealedSessionWorks: createSealedSessionError === undefined,
    ...(createSealedSessionError === undefined ? {} : { createSealedSessionError }),
    sealed,
    plain,
    ratio: round(ratio, 3),
    slowerPercent: round(slowerPercent, 2),
    goal: { maxSlowerPercent: SESSION_GOAL_MAX_SLOWER_PERCENT, met: slowerPercent <= SESSION_GOAL_MAX_SLOWER_PERCENT },
    unlock,
  };
}
