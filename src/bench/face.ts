/**
 * The face engine's speed in `bioseal bench`: one 640x480 camera-like frame
 * through detection, landmarks, quality, passive liveness and embedding,
 * after warm-up, against the 50 ms goal; model load reported apart.
 *
 * The frame is cut from a demo photo that @vladmandic/face-api (a dependency)
 * ships, so the benchmark needs no dataset and no camera.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { DecodedImage } from '../biometrics/face/image.js';
import { packageRoot } from '../biometrics/face/tfjs-runtime.js';
import { median, round } from './common.js';

/** The goal: one frame within 50 ms after warm-up on the reference 2-core machine. */
export const FACE_GOAL_MAX_FRAME_MS = 50;

export interface FaceBench {
  readonly available: boolean;
  readonly reason?: string;
  readonly embedder: string | null;
  readonly frame: string;
  /** Loading the models (reported apart from the per-frame time). */
  readonly loadMs: number | null;
  /** The first inference, which compiles kernels. */
  readonly warmupMs: number | null;
  readonly frames: number;
  readonly perFrameMs: { readonly min: number; readonly median: number; readonly p90: number } | null;
  /** Size of the face found in the frame, pixels (analysis throws when there is none). */
  readonly faceWidthPx: number | null;
  readonly goal: { readonly maxFrameMs: number; readonly met: boolean | null };
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

/** Times the default face engine on one frame, `frames` times after `warmup` untimed runs. */
export async function benchFace(options: { frames?: number; warmup?: number; log?: (line: string) => void } = {}): Promise<FaceBench> {
  const frames = options.frames ?? 20;
  const warmup = options.warmup ?? 3;
  const log = options.log ?? (() => undefined);
  const frameName = '640x480, one face (face-api demo photo 1)';
  let embedder;
  try {
    const { HumanEmbedder } = await import('../biometrics/face/human.js');
    embedder = await HumanEmbedder.create();
  } catch (error) {
    const reason = `the face engine could not load: ${(error as Error).message}`;
    return { available: false, reason, embedder: null, frame: frameName, loadMs: null, warmupMs: null, frames: 0, perFrameMs: null, faceWidthPx: null, goal: { maxFrameMs: FACE_GOAL_MAX_FRAME_MS, met: null } };
  }
  try {
    log(`face: models loaded in ${embedder.loadMs.toFixed(0)} ms; timing ${frames} frames of ${frameName}`);
    const frame = await benchFrame();
    const first = await embedder.analyze(frame);
    for (let i = 1; i < warmup; i++) await embedder.analyze(frame);
    const times: number[] = [];
    for (let i = 0; i < frames; i++) {
      const t0 = performance.now();
      await embedder.analyze(frame);
      times.push(performance.now() - t0);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const perFrameMs = { min: round(sorted[0]!, 1), median: round(median(times), 1), p90: round(percentile(sorted, 0.9), 1) };
    return {
      available: true,
      embedder: embedder.name,
      frame: frameName,
      loadMs: round(embedder.loadMs, 0),
      warmupMs: round(embedder.warmupMs, 0),
      frames,
      perFrameMs,
      faceWidthPx: Math.round(first.box.width),
      goal: { maxFrameMs: FACE_GOAL_MAX_FRAME_MS, met: perFrameMs.median <= FACE_GOAL_MAX_FRAME_MS },
    };
  } finally {
    await embedder.dispose();
  }
}
