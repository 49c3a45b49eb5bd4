/**
 * The face engine's one interface: an image in, the single face in it out,
 * with its embedding, landmarks, pose, liveness scores and capture quality.
 *
 * Implementations: {@link OrtFaceEmbedder} (Human's BlazeFace + FaceMesh +
 * FaceRes, 1024-d, with anti-spoof and liveness models, all on onnxruntime;
 * the default) and {@link HumanEmbedder} (the same models and result on
 * Human's own tfjs pipeline, slower), and
 * {@link FaceApiEmbedder} (face-api's SSD + 68 landmarks + ResNet-34, 128-d;
 * measured for comparison). A stronger model (an ArcFace ONNX file the user
 * supplies) fits behind the same interface: it needs only
 * {@link FaceLandmarks.five} to align the crop.
 */
import { FaceNotFoundError, MultipleFacesError } from './errors.js';
import type { Box, DecodedImage } from './image.js';
import type { FaceQuality } from './quality.js';

/** A point in image pixels. */
export type Point = readonly [x: number, y: number];

/**
 * Landmarks of a face, in pixels of the analysed image.
 *
 * `five` is the 5-point set face recognisers align with (the InsightFace /
 * ArcFace order): eye on the image's left (the subject's right eye), eye on
 * the image's right, nose tip, mouth corner on the image's left, mouth corner
 * on the image's right.
 */
export interface FaceLandmarks {
  readonly five: readonly [Point, Point, Point, Point, Point];
  /** The model's full landmark set (478 FaceMesh points for Human, 68 for face-api). */
  readonly all: readonly Point[];
}

/**
 * Head pose in degrees. yaw: positive when the nose points towards the
 * image's right; pitch: positive when the face tilts down (chin towards the
 * chest); roll: the angle of the eye line, positive when the eye on the
 * image's right is lower. (Signs checked on LFW against the landmarks: the
 * nose tip's offset correlates with yaw at 0.97 and with pitch at 0.89.)
 */
export interface HeadPose {
  readonly yaw: number;
  readonly pitch: number;
  readonly roll: number;
}

/**
 * Eye aspect ratios (Soukupova & Cech, 2016): eyelid opening over eye width,
 * about 0.25-0.35 for an open eye and under about 0.15 when closed. A blink
 * is a dip across frames. `left` is the eye on the image's left.
 */
export interface EyeOpenness {
  readonly left: number;
  readonly right: number;
}

/** Everything the engine measured of the one face in an image. */
export interface FaceAnalysis {
  /** Name of the embedder that produced this, e.g. `human-faceres`. */
  readonly embedder: string;
  /** Face box, pixels of the analysed image. */
  readonly box: Box;
  readonly landmarks: FaceLandmarks;
  readonly pose: HeadPose;
  /** Eye openness from the landmarks, or null when the model gives no eyelid points. */
  readonly eyes: EyeOpenness | null;
  /** Detector confidence, 0..1. */
  readonly detectionScore: number;
  /** The embedding as the model outputs it (not normalised). */
  readonly embedding: Float32Array;
  /**
   * Passive presentation-attack scores, 0..1 (1 = genuine live face), or null
   * when the embedder has no such model. `antispoof` is trained on printed and
   * replayed faces; `liveness` on real versus fake faces in general.
   */
  readonly antispoof: number | null;
  readonly liveness: number | null;
  readonly quality: FaceQuality;
  /**
   * How many comparable faces were in the image (background faces, narrower
   * than `minFaceFraction` of this one, not counted). Above 1 only under
   * `multipleFaces: 'largest'`.
   */
  readonly faceCount: number;
  /** Wall-clock milliseconds spent in `analyze`. */
  readonly elapsedMs: number;
}

/** Options of one analysis. */
export interface AnalyzeOptions {
  /**
   * Pad images whose shorter side is below this many pixels before detection
   * (tight crops such as ORL's 92x112 are otherwise missed). Default: the
   * embedder's own value.
   */
  padToPx?: number;
  /**
   * What to do when several faces are in the image: `reject` (the default)
   * throws {@link MultipleFacesError}; `largest` describes the largest face
   * (for curated datasets such as LFW, whose subject is the central, largest
   * face). Faces narrower than {@link AnalyzeOptions.minFaceFraction} of the
   * largest one are background and never count.
   */
  multipleFaces?: 'reject' | 'largest';
  /**
   * Faces whose box is narrower than this fraction of the largest face's are
   * ignored as background (people far behind the user). Default 0.5; set 0
   * to count every face.
   */
  minFaceFraction?: number;
}

/**
 * Picks the one face to describe from a detector's faces (already filtered
 * by score): the largest, after dropping background faces; throws when
 * several comparable faces remain and the policy is `reject`.
 *
 * @throws {FaceNotFoundError} no face
 * @throws {MultipleFacesError} several comparable faces under `reject`
 */
export function selectFace<T>(faces: readonly T[], width: (f: T) => number, options: AnalyzeOptions): { face: T; count: number } {
  const sorted = [...faces].sort((x, y) => width(y) - width(x));
  const largest = sorted[0];
  if (largest === undefined) throw new FaceNotFoundError();
  const min = (options.minFaceFraction ?? 0.5) * width(largest);
  const count = sorted.filter((f) => width(f) >= min).length;
  if (count > 1 && (options.multipleFaces ?? 'reject') === 'reject') throw new MultipleFacesError(count);
  return { face: largest, count };
}

/**
 * A face detector + embedder.
 *
 * `analyze` returns the one face in the image or throws; it does not apply
 * quality gates (see `checkFaceQuality`), so callers can record quality of
 * every capture.
 */
export interface FaceEmbedder {
  /** Stable name, recorded with templates: a template only matches embeddings of the same embedder. */
  readonly name: string;
  /** Length of `FaceAnalysis.embedding`. */
  readonly dimensions: number;
  /** Milliseconds it took to load the models. */
  readonly loadMs: number;
  /**
   * Finds the single face in `image` and describes it.
   *
   * @throws {FaceNotFoundError} no face
   * @throws {MultipleFacesError} more than one face
   * @throws {ModelError} the model failed to run
   */
  analyze(image: DecodedImage, options?: AnalyzeOptions): Promise<FaceAnalysis>;
  /** Releases model memory. The embedder cannot be used afterwards. */
  dispose(): Promise<void>;
}
