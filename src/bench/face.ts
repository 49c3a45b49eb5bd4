/**
 * The face engine's speed in `bioseal bench`: one 640x480 camera-like frame
 * through detection, landmarks, quality, passive liveness and embedding,
 * after warm-up, against the 50 ms goal; model load reported apart.
 *
 * Both engines are timed side by side, frames interleaved (one frame on
 * each in turn), so that a load change on a shared machine hits both alike:
 * `ort` (OrtFaceEmbedder, every model on onnxruntime) and `human`
 * (HumanEmbedder, Human on tfjs WASM). The top-level figures and the goal
 * are those of the default engine (`BIOSEAL_FACE_ENGINE`, default `ort`);
 * `embeddingCosine` says whether the two described the frame alike.
 *
 * The frame is cut from a demo photo that @vladmandic/face-api (a dependency)
 * ships, so the benchmark needs no dataset and no camera.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { FaceEmbedder } from '../biometrics/face/embedder.js';
import type { DecodedImage } from '../biometrics/face/image.js';
import { createFaceEngine, faceEngineFromEnv, FACE_ENGINES, type FaceEngine } from '../biometrics/face/shared-embedder.js';
import { cosineSimilarity } from '../biometrics/face/similarity.js';
import { packageRoot } from '../biometrics/face/tfjs-runtime.js';
import { median, round } from './common.js';

/** The goal: one frame within 50 ms after warm-up on the reference 2-core machine. */
export const FACE_GOAL_MAX_FRAME_MS = 50;

/** Per-frame times, milliseconds. */
export interface FrameTimes {
  readonly min: number;
  readonly median: number;
  readonly p90: number;
}

/** One engine's figures. */
export interface FaceEngineBench {
  readonly engine: FaceEngine;
  readonly available: boolean;
  readonly reason?: string;
  readonly embedder: string | null;
  readonly loadMs: number | null;
  readonly warmupMs: number | null;
  readonly perFrameMs: FrameTimes | null;
  readonly faceWidthPx: number | null;
}

export interface FaceBench {
  readonly available: boolean;
  readonly reason?: string;
  /** The default engine, whose figures follow. */
  readonly engine: FaceEngine;
  readonly embedder: string | null;
  readonly frame: string;
  /** Loading the models (reported apart from the per-frame time). */
  readonly loadMs: number | null;
  /** The first inferences, which allocate and plan. */
  readonly warmupMs: number | null;
  readonly frames: number;
  readonly perFrameMs: FrameTimes | null;
  /** Size of the face found in the frame, pixels (analysis throws when there is none). */
  readonly faceWidthPx: number | null;
  readonly goal: { readonly maxFrameMs: number; readonly met: boolean | null };
  /** Every engine, measured side by side (the default first). */
  readonly engines: readonly FaceEngineBench[];
  /** Cosine between the engines' embeddings of the frame (1: the same description), or null when one is missing. */
  readonly embeddingCosine: number | null;
}

/**
 * A 640x480 frame around a frontal face in face-api's demo photo 1 (the face
 * is about 250 px tall in the frame, as at arm's length from a laptop camera).
 */
export async function benchFrame(): Promise<DecodedImage> {
  const photo = path.join(packageRoot('@vladmandic/face-api'), 'demo', 'sample1.jpg');
  // The face's box in the 1920-px photo is [333, 316, 352, 352]; take a 4:3 region 2.6 boxes wide around it.
  const width = 915;
  const height = 686;
  const left = Math.max(0, 333 + 176 - width / 2);
  const top = Math.max(0, 316 + 176 - height / 2);
  const { data, info } = await sharp(photo)
    .extract({ left: Math.round(left), top: Math.round(top), width, height })
    .resize(640, 480, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Times every face engine on one frame, `frames` times each (interleaved) after `warmup` untimed runs. */
export async function benchFace(options: { frames?: number; warmup?: number; log?: (line: string) => void } = {}): Promise<FaceBench> {
  const frames = options.frames ?? 20;
  const warmup = options.warmup ?? 3;
  const log = options.log ?? (() => undefined);
  const frameName = '640x480, one face (face-api demo photo 1)';
  const engine = faceEngineFromEnv();
  const order = [engine, ...FACE_ENGINES.filter((e) => e !== engine)];
  const frame = await benchFrame();
  const loaded: { engine: FaceEngine; embedder?: FaceEmbedder & { warmupMs?: number }; reason?: string }[] = [];
  for (const e of order) {
    try {
      const embedder = await createFaceEngine(e);
      loaded.push({ engine: e, embedder });
      log(`face (${e}): models loaded in ${embedder.loadMs.toFixed(0)} ms`);
    } catch (error) {
      loaded.push({ engine: e, reason: `the ${e} face engine could not load: ${(error as Error).message}` });
    }
  }
  try {
    log(`face: timing ${frames} frames of ${frameName} on each engine`);
    const firsts = new Map<FaceEngine, { width: number; embedding: Float32Array }>();
    for (const l of loaded) {
      if (!l.embedder) continue;
      const first = await l.embedder.analyze(frame);
      firsts.set(l.engine, { width: first.box.width, embedding: first.embedding });
      for (let i = 1; i < warmup; i++) await l.embedder.analyze(frame);
    }
    const times = new Map<FaceEngine, number[]>(loaded.map((l) => [l.engine, []]));
    for (let i = 0; i < frames; i++) {
      for (const l of loaded) {
        if (!l.embedder) continue;
        const t0 = performance.now();
        await l.embedder.analyze(frame);
        times.get(l.engine)!.push(performance.now() - t0);
      }
    }
    const engines: FaceEngineBench[] = loaded.map((l) => {
      if (!l.embedder) return { engine: l.engine, available: false, reason: l.reason!, embedder: null, loadMs: null, warmupMs: null, perFrameMs: null, faceWidthPx: null };
      const ts = times.get(l.engine)!;
      const sorted = [...ts].sort((a, b) => a - b);
      return {
        engine: l.engine,
        available: true,
        embedder: l.embedder.name,
        loadMs: round(l.embedder.loadMs, 0),
        warmupMs: round(l.embedder.warmupMs ?? 0, 0),
        perFrameMs: { min: round(sorted[0]!, 1), median: round(median(ts), 1), p90: round(percentile(sorted, 0.9), 1) },
        faceWidthPx: Math.round(firsts.get(l.engine)!.width),
      };
    });
    const [main] = engines as [FaceEngineBench];
    const [a, b] = [...firsts.values()];
    const embeddingCosine = a && b ? round(cosineSimilarity(a.embedding, b.embedding), 6) : null;
    if (!main.available || !main.perFrameMs) return unavailable(engine, frameName, main.reason ?? 'the face engine could not load', engines);
    return {
      available: true,
      engine,
      embedder: main.embedder,
      frame: frameName,
      loadMs: main.loadMs,
      warmupMs: main.warmupMs,
      frames,
      perFrameMs: main.perFrameMs,
      faceWidthPx: main.faceWidthPx,
      goal: { maxFrameMs: FACE_GOAL_MAX_FRAME_MS, met: main.perFrameMs.median <= FACE_GOAL_MAX_FRAME_MS },
      engines,
      embeddingCosine,
    };
  } finally {
    for (const l of loaded) await l.embedder?.dispose();
  }
}

function unavailable(engine: FaceEngine, frame: string, reason: string, engines: readonly FaceEngineBench[]): FaceBench {
  return { available: false, reason, engine, embedder: null, frame, loadMs: null, warmupMs: null, frames: 0, perFrameMs: null, faceWidthPx: null, goal: { maxFrameMs: FACE_GOAL_MAX_FRAME_MS, met: null }, engines, embeddingCosine: null };
}
