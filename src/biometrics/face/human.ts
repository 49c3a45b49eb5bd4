/**
 * The reference face embedder: detection, landmarks, pose and passive liveness
 * from @vladmandic/human 3.3.6 (MIT; models inside its npm package) on tfjs
 * WASM (see tfjs-runtime.ts for the loading recipe), and the embedding from
 * FaceRes on onnxruntime-node (recognizer.ts). The default engine,
 * OrtFaceEmbedder (ort/), runs the same models and processing on
 * onnxruntime and gives the same analysis faster; this one is kept as the
 * reference it is checked against (`BIOSEAL_FACE_ENGINE=human`).
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
import { selectFace, type AnalyzeOptions, type FaceAnalysis, type FaceEmbedder } from './embedder.js';
import { checkDecodedImage, padImage, type DecodedImage } from './image.js';
import { describeMeshFace, meshEmbedderName } from './mesh-analysis.js';
import { faceResRecognizer, type FaceRecognizer } from './recognizer.js';
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
    this.name = meshEmbedderName(recognizer, this.#flip);
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
    return describeMeshFace(image, padded, { mesh: f.mesh, box: f.box, angle: f.rotation?.angle, boxScore: f.boxScore, real: f.real, live: f.live }, {
      name: this.name,
      recognizer: this.#recognizer,
      flip: this.#flip,
      liveness: this.#liveness,
      ...(this.#recognizer ? {} : { nativeEmbedding: Float32Array.from(f.embedding ?? []) }),
      count,
      startedAt: t0,
    });
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
