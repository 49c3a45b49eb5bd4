/**
 * The default face embedder: detection, landmarks, pose and passive liveness
 * from @vladmandic/human 3.3.6 (MIT; models inside its npm package) on tfjs
 * WASM (see tfjs-runtime.ts for the loading recipe), and the embedding from
 * FaceRes on onnxruntime-node (recognizer.ts).
 *
 * Pipeline per image:
 * 1. pad small images (tight crops) so the detector sees context;
 * 2. BlazeFace detects faces; FaceMesh gives 478 landmarks (eye contours
 *    refined by the Iris model) and the head pose; the anti-spoof and
 *    liveness models score Human's face crop;
 * 3. the 5 alignment points from the mesh define a similarity transform to
 *    the ArcFace template (zoomed out 1.25x, 224 px): the aligned crop goes
 *    to FaceRes (HSE FaceRes, a MobileNet v1 whose 1024-d pooled features
 *    are the descriptor), converted from tfjs to ONNX in memory at load and
 *    run natively on 2 threads: about 5x faster than on tfjs WASM, and
 *    better aligned than Human's own crop (figures in README.md in this folder).
 *
 * Human caches detections and model outputs across calls to speed up video.
 * A security check must never reuse an earlier frame's result, so every
 * cache and frame-skip is switched off here (`cacheSensitivity: 0`,
 * `skipFrames: 0`, `skipTime: 0`).
 */
import path from 'node:path';
import type { Config, FaceResult, Human, Tensor } from '@vladmandic/human';
import { ModelError } from '../../errors.js';
import { selectFace, type AnalyzeOptions, type EyeOpenness, type FaceAnalysis, type FaceEmbedder, type FaceLandmarks, type Point } from './embedder.js';
import { checkDecodedImage, padImage, type Box, type DecodedImage } from './image.js';
import { alignFace } from './align.js';
import { measurePixelQuality } from './quality.js';
import { faceResRecognizer, type FaceRecognizer } from './recognizer.js';
import { l2Normalize } from './similarity.js';
import { allowModelDir, loadTfjsWasm, packageRoot, requireModule, wasmDir, type Tf } from './tfjs-runtime.js';

/** Options of {@link HumanEmbedder.create}. */
export interface HumanEmbedderOptions {
  /** Folder holding Human's `*.json` + `*.bin` models. Default: `models/` of the installed package. */
  modelDir?: string;
  /** Pad images with a shorter side below this before detection. Default 160 (see {@link AnalyzeOptions.padToPx}). */
  padToPx?: number;
  /** Refine eye landmarks with the Iris model (better blink measures, about 10-20 ms). Default true. */
  iris?: boolean;
  /** Run the anti-spoof and liveness models. Default true. */
  liveness?: boolean;
  /**
   * Faces whose detector score is below this are ignored, both as the face
   * and when counting faces. Default 0.5.
   */
  minDetectionScore?: number;
  /** Run one inference after loading so the first real call is not slow. Default true. */
  warmup?: boolean;
  /**
   * The embedding model:
   * - `faceres` (default): FaceRes converted to ONNX, on onnxruntime-node, on a
   *   crop aligned from the FaceMesh landmarks;
   * - `human-native`: FaceRes inside Human, on tfjs WASM, on Human's own crop
   *   (the detector box x1.4): slower and less accurate, kept for comparison;
   * - a {@link FaceRecognizer}, for example `await OnnxFaceRecognizer.fromFile('arcface.onnx')`.
   */
  recognizer?: 'faceres' | 'human-native' | FaceRecognizer;
  /**
   * Also embed the mirrored crop and average the two (flip test-time
   * augmentation): steadier embeddings for one more inference. Default false.
   * Not available with `human-native`.
   */
  flip?: boolean;
}

/** Human's `FaceResult` fields this module reads. */
type HumanModule = { Human: new (config?: Partial<Config>) => Human };

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

/**
 * Every call into Human, whichever instance makes it, runs one at a time:
 * Human keeps models and per-frame state (the detector's box list, the last
 * results) in module-level variables shared by all its instances, so two
 * interleaved detections could mix up each other's faces.
 */
let humanQueue: Promise<unknown> = Promise.resolve();

/**
 * Face embedder on Human's FaceRes. Create with {@link HumanEmbedder.create};
 * calls to `analyze` are serialised process-wide (Human is not re-entrant).
 *
 * @example
 * const embedder = await HumanEmbedder.create();
 * const face = await embedder.analyze(await readImageFile('me.jpg'));
 * checkFaceQuality(face.quality);
 */
export class HumanEmbedder implements FaceEmbedder {
  readonly name: string;
  readonly dimensions: number;
  readonly loadMs: number;
  /** Milliseconds of the warm-up inference (0 if none). */
  readonly warmupMs: number;
  readonly #human: Human;
  readonly #tf: Tf;
  readonly #padToPx: number;
  readonly #minScore: number;
  readonly #liveness: boolean;
  readonly #recognizer: FaceRecognizer | null;
  readonly #flip: boolean;
  #disposed = false;

  private constructor(human: Human, tf: Tf, recognizer: FaceRecognizer | null, options: Required<Omit<HumanEmbedderOptions, 'modelDir' | 'recognizer'>>, loadMs: number, warmupMs: number) {
    this.#human = human;
    this.#recognizer = recognizer;
    this.#flip = options.flip && recognizer !== null;
    this.name = recognizer ? `${recognizer.name === 'faceres' ? 'faceres-aligned' : recognizer.name}${this.#flip ? '-flip' : ''}` : 'human-faceres';
    this.dimensions = recognizer ? recognizer.dimensions : 1024;
    this.#tf = tf;
    this.#padToPx = options.padToPx;
    this.#minScore = options.minDetectionScore;
    this.#liveness = options.liveness;
    this.loadMs = loadMs;
    this.warmupMs = warmupMs;
  }

  /**
   * Loads the models (from node_modules; nothing is downloaded).
   * @throws {ModelError} when tfjs or a model cannot be loaded
   */
  static async create(options: HumanEmbedderOptions = {}): Promise<HumanEmbedder> {
    const opts = {
      padToPx: options.padToPx ?? 160,
      iris: options.iris ?? true,
      liveness: options.liveness ?? true,
      minDetectionScore: options.minDetectionScore ?? 0.5,
      warmup: options.warmup ?? true,
      flip: options.flip ?? false,
    };
    const t0 = performance.now();
    const tf = await loadTfjsWasm();
    const native = options.recognizer === 'human-native';
    let recognizer: FaceRecognizer | null = null;
    if (!native) recognizer = typeof options.recognizer === 'object' ? options.recognizer : await faceResRecognizer(options.modelDir === undefined ? {} : { modelDir: options.modelDir });
    let human: Human;
    try {
      const root = packageRoot('@vladmandic/human');
      const modelDir = path.resolve(options.modelDir ?? path.join(root, 'models'));
      await allowModelDir(modelDir);
      // Human's Node build for the WASM backend; it requires the same tfjs-core as loadTfjsWasm().
      const { Human: HumanClass } = requireModule<HumanModule>(path.join(root, 'dist', 'human.node-wasm.js'));
      const noSkip = { skipFrames: 0, skipTime: 0 };
      const config: Partial<Config> = {
        backend: 'wasm',
        wasmPath: wasmDir(),
        modelBasePath: 'file://' + modelDir + path.sep,
        cacheModels: false,
        cacheSensitivity: 0,
        warmup: 'none',
        debug: false,
        async: false,
        filter: { enabled: false },
        gesture: { enabled: false },
        body: { enabled: false },
        hand: { enabled: false },
        object: { enabled: false },
        segmentation: { enabled: false },
        face: {
          enabled: true,
          detector: { rotation: true, maxDetected: 4, minConfidence: Math.min(0.3, opts.minDetectionScore), return: false, ...noSkip },
          mesh: { enabled: true },
          iris: { enabled: opts.iris },
          emotion: { enabled: false },
          description: { enabled: native, ...noSkip },
          antispoof: { enabled: opts.liveness, ...noSkip },
          liveness: { enabled: opts.liveness, ...noSkip },
        },
      } as Partial<Config>;
      human = new HumanClass(config);
      await human.load();
      const missing = ['blazeface', 'facemesh', ...(native ? ['faceres'] : []), ...(opts.iris ? ['iris'] : []), ...(opts.liveness ? ['antispoof', 'liveness'] : [])].filter(
        (m) => !(human.models.models as Record<string, unknown>)[m],
      );
      if (missing.length > 0) throw new Error(`models not loaded: ${missing.join(', ')}`);
    } catch (err) {
      if (err instanceof ModelError) throw err;
      throw new ModelError('cannot load the Human face models', { cause: err });
    }
    const loadMs = performance.now() - t0;
    const embedder = new HumanEmbedder(human, tf, recognizer, opts, loadMs, 0);
    if (!opts.warmup) return embedder;
    const w0 = performance.now();
    const warm = humanQueue.then(() => embedder.#detect({ width: 160, height: 160, data: new Uint8Array(160 * 160 * 3).fill(128) }));
    humanQueue = warm.catch(() => undefined);
    await warm;
    if (recognizer) await recognizer.embed([new Float32Array(recognizer.align.size ** 2 * 3).fill(128)]);
    return new HumanEmbedder(human, tf, recognizer, opts, loadMs, performance.now() - w0);
  }

  analyze(image: DecodedImage, options: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    const run = humanQueue.then(() => this.#analyze(image, options));
    humanQueue = run.catch(() => undefined);
    return run;
  }

  async #detect(image: DecodedImage): Promise<FaceResult[]> {
    if (this.#disposed) throw new ModelError('the face embedder was disposed');
    const tf = this.#tf;
    const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      const result = await this.#human.detect(input as unknown as Tensor);
      if (result.error) throw new ModelError(`face model failed: ${result.error}`);
      return result.face;
    } finally {
      input.dispose();
    }
  }

  async #analyze(image: DecodedImage, options: AnalyzeOptions): Promise<FaceAnalysis> {
    const t0 = performance.now();
    checkDecodedImage(image);
    const padded = padImage(image, options.padToPx ?? this.#padToPx);
    const faces = (await this.#detect(padded.image)).filter((f) => f.boxScore >= this.#minScore && f.score >= this.#minScore);
    const { face: f, count } = selectFace(faces, (x) => x.box[2], options);
    if (!this.#recognizer && (!f.embedding || f.embedding.length !== this.dimensions)) throw new ModelError('the face model returned no embedding');
    const ox = padded.offsetX;
    const oy = padded.offsetY;
    const all: Point[] = f.mesh.map((p) => [p[0] - ox, p[1] - oy] as const);
    const at = (i: number): Point => all[i] ?? [Number.NaN, Number.NaN];
    const eyeCentre = (e: typeof MESH.eyeL | typeof MESH.eyeR): Point => mid(at(e.outer), at(e.inner));
    const ear = (e: typeof MESH.eyeL | typeof MESH.eyeR): number => {
      const w = dist(at(e.outer), at(e.inner));
      const h = dist(at(e.upper[0]), at(e.lower[0])) + dist(at(e.upper[1]), at(e.lower[1]));
      return w > 0 ? h / (2 * w) : 0;
    };
    const five: FaceLandmarks['five'] = [eyeCentre(MESH.eyeL), eyeCentre(MESH.eyeR), at(MESH.noseTip), at(MESH.mouthL), at(MESH.mouthR)];
    const eyes: EyeOpenness | null = all.length >= 468 ? { left: ear(MESH.eyeL), right: ear(MESH.eyeR) } : null;
    const box: Box = { x: f.box[0] - ox, y: f.box[1] - oy, width: f.box[2], height: f.box[3] };
    const angle = f.rotation?.angle ?? { yaw: 0, pitch: 0, roll: 0 };
    // Human's yaw is negative when the nose points to the image's right; bioseal's is positive.
    const pose = { yaw: -angle.yaw * DEG, pitch: angle.pitch * DEG, roll: angle.roll * DEG };
    const px = measurePixelQuality(image, five);
    let embedding: Float32Array;
    if (this.#recognizer) {
      const r = this.#recognizer;
      const crops = [alignFace(image, five, r.align), ...(this.#flip ? [alignFace(image, five, r.align, true)] : [])];
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
      embedding = Float32Array.from(f.embedding ?? []);
    }
    return {
      embedder: this.name,
      box,
      landmarks: { five, all },
      pose,
      eyes,
      detectionScore: f.boxScore,
      embedding,
      antispoof: this.#liveness ? (f.real ?? 0) : null,
      liveness: this.#liveness ? (f.live ?? 0) : null,
      quality: {
        faceSizePx: Math.min(box.width, box.height),
        interEyePx: dist(five[0], five[1]),
        ...px,
        yawDeg: pose.yaw,
        pitchDeg: pose.pitch,
        rollDeg: pose.roll,
        detectionScore: f.boxScore,
      },
      faceCount: count,
      elapsedMs: performance.now() - t0,
    };
  }

  /**
   * Releases the recogniser. Human's own models stay loaded: Human keeps them
   * in module-level variables shared by every instance in the process, so
   * disposing them would break other embedders.
   */
  async dispose(): Promise<void> {
    await humanQueue;
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#recognizer?.dispose();
  }
}
