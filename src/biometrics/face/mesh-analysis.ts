/**
 * From a FaceMesh face (Human's 478 landmarks, box, angles and passive
 * scores) to the engine's {@link FaceAnalysis}: the 5 alignment points, eye
 * openness, pose in bioseal's signs, capture quality and the embedding of
 * the aligned crop. Shared by the engines that run Human's face models
 * (HumanEmbedder on tfjs, OrtFaceEmbedder on onnxruntime), so both describe
 * a face in exactly the same way.
 */
import { ModelError } from '../../errors.js';
import { alignFace } from './align.js';
import type { EyeOpenness, FaceAnalysis, FaceLandmarks, Point } from './embedder.js';
import type { Box, DecodedImage, PaddedImage } from './image.js';
import { measurePixelQuality } from './quality.js';
import type { FaceRecognizer } from './recognizer.js';
import { l2Normalize } from './similarity.js';

/** The fields of Human's `FaceResult` the engine reads, in pixels of the padded image. */
export interface MeshFace {
  /** 478 points [x, y, z] (468 mesh + 10 iris), or fewer without iris. */
  readonly mesh: readonly (readonly (number | undefined)[])[];
  /** [x, y, width, height]. */
  readonly box: readonly number[];
  /** Human's head angles, radians. */
  readonly angle?: { readonly yaw: number; readonly pitch: number; readonly roll: number } | undefined;
  readonly boxScore: number;
  /** Anti-spoof score, 0..1. */
  readonly real?: number | undefined;
  /** Liveness score, 0..1. */
  readonly live?: number | undefined;
}

/** How an engine embeds and what it reports. */
export interface MeshDescription {
  /** The embedder's name, recorded in the analysis. */
  readonly name: string;
  /** The recogniser of the aligned crop, or null when `nativeEmbedding` is given. */
  readonly recognizer: FaceRecognizer | null;
  /** Also embed the mirrored crop and add the two unit embeddings. */
  readonly flip: boolean;
  /** Whether the anti-spoof and liveness scores were computed. */
  readonly liveness: boolean;
  /** The embedding the detector pipeline computed itself (Human's own FaceRes). */
  readonly nativeEmbedding?: Float32Array;
  /** Faces counted by `selectFace`. */
  readonly count: number;
  /** `performance.now()` when the analysis began. */
  readonly startedAt: number;
}

/** FaceMesh indices (MediaPipe canonical face mesh). */
const MESH = {
  // Eye on the image's left (subject's right): corners 33 / 133, lids 160-144, 158-153.
  eyeL: { outer: 33, inner: 133, upper: [160, 158], lower: [144, 153] },
  // Eye on the image's right (subject's left): corners 263 / 362, lids 387-373, 385-380.
  eyeR: { outer: 263, inner: 362, upper: [385, 387], lower: [380, 373] },
  noseTip: 1,
  mouthL: 61,
  mouthR: 291,
} as const;

const DEG = 180 / Math.PI;

function dist(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function mid(a: Point, b: Point): Point {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/** The name an engine on Human's models records: `faceres-aligned`, a user recogniser's name, `-flip` for flip TTA. */
export function meshEmbedderName(recognizer: FaceRecognizer | null, flip: boolean): string {
  if (!recognizer) return 'human-faceres';
  return `${recognizer.name === 'faceres' ? 'faceres-aligned' : recognizer.name}${flip ? '-flip' : ''}`;
}

/**
 * Describes the face `f` found in `padded` (the analysed `image` padded for
 * detection).
 * @throws {ModelError} when the recogniser returns no embedding
 */
export async function describeMeshFace(image: DecodedImage, padded: PaddedImage, f: MeshFace, d: MeshDescription): Promise<FaceAnalysis> {
  const ox = padded.offsetX;
  const oy = padded.offsetY;
  const all: Point[] = f.mesh.map((p) => [(p[0] as number) - ox, (p[1] as number) - oy] as const);
  const at = (i: number): Point => all[i] ?? [Number.NaN, Number.NaN];
  const eyeCentre = (e: typeof MESH.eyeL | typeof MESH.eyeR): Point => mid(at(e.outer), at(e.inner));
  const ear = (e: typeof MESH.eyeL | typeof MESH.eyeR): number => {
    const w = dist(at(e.outer), at(e.inner));
    const h = dist(at(e.upper[0]), at(e.lower[0])) + dist(at(e.upper[1]), at(e.lower[1]));
    return w > 0 ? h / (2 * w) : 0;
  };
  const five: FaceLandmarks['five'] = [eyeCentre(MESH.eyeL), eyeCentre(MESH.eyeR), at(MESH.noseTip), at(MESH.mouthL), at(MESH.mouthR)];
  const eyes: EyeOpenness | null = all.length >= 468 ? { left: ear(MESH.eyeL), right: ear(MESH.eyeR) } : null;
  const box: Box = { x: (f.box[0] as number) - ox, y: (f.box[1] as number) - oy, width: f.box[2] as number, height: f.box[3] as number };
  const angle = f.angle ?? { yaw: 0, pitch: 0, roll: 0 };
  // Human's yaw is negative when the nose points to the image's right; bioseal's is positive.
  const pose = { yaw: -angle.yaw * DEG, pitch: angle.pitch * DEG, roll: angle.roll * DEG };
  const px = measurePixelQuality(image, five);
  let embedding: Float32Array;
  if (d.recognizer) {
    const r = d.recognizer;
    const crops = [alignFace(image, five, r.align), ...(d.flip ? [alignFace(image, five, r.align, true)] : [])];
    const [e0, e1] = await r.embed(crops);
    if (!e0) throw new ModelError('the face recognition model returned no embedding');
    if (e1) {
      const u0 = l2Normalize(e0);
      const u1 = l2Normalize(e1);
      embedding = u0.map((v, i) => v + (u1[i] as number));
    } else {
      embedding = e0;
    }
  } else {
    embedding = d.nativeEmbedding ?? new Float32Array(0);
  }
  return {
    embedder: d.name,
    box,
    landmarks: { five, all },
    pose,
    eyes,
    detectionScore: f.boxScore,
    embedding,
    antispoof: d.liveness ? (f.real ?? 0) : null,
    liveness: d.liveness ? (f.live ?? 0) : null,
    quality: {
      faceSizePx: Math.min(box.width, box.height),
      interEyePx: dist(five[0], five[1]),
      ...px,
      yawDeg: pose.yaw,
      pitchDeg: pose.pitch,
      rollDeg: pose.roll,
      detectionScore: f.boxScore,
    },
    faceCount: d.count,
    elapsedMs: performance.now() - d.startedAt,
  };
}
