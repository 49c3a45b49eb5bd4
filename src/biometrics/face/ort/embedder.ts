/**
 * The face engine on onnxruntime-node only: Human 3.3.6's face models
 * (BlazeFace, FaceMesh, Iris, anti-spoof, liveness), converted to ONNX in
 * memory at load (models.ts), with Human's pre- and post-processing ported
 * to plain arrays (pixels.ts, blazeface.ts, mesh.ts, iris.ts, angles.ts),
 * and FaceRes on the aligned crop as in {@link HumanEmbedder}. Native,
 * 2-thread kernels instead of single-threaded tfjs WebAssembly, and none of
 * tfjs's per-op tensor glue: the same analysis, several times faster.
 *
 * Per frame: pad (as HumanEmbedder), BlazeFace on the frame resized to
 * 256 px; for each box scoring at least `minDetectionScore`, the 192-px face
 * crop (rotated upright by the mouth-to-nose angle), FaceMesh, then Iris on
 * both eyes in one batch; the one face is chosen as HumanEmbedder chooses it;
 * then for that face the head angles, anti-spoof (128 px) and liveness
 * (32 px) on its mesh crop, and the shared description (mesh-analysis.ts):
 * 5 points, eye openness, quality, FaceRes embedding of the aligned crop.
 *
 * Equivalence with HumanEmbedder is measured, not assumed
 * (`scripts/face-ort-compare.mjs`, test/biometrics/face/ort.test.ts).
 * Nothing is cached between frames: every analysis starts from the pixels.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../../errors.js';
import { selectFace, type AnalyzeOptions, type FaceAnalysis, type FaceEmbedder } from '../embedder.js';
import { checkDecodedImage, padImage, type DecodedImage } from '../image.js';
import { describeMeshFace, meshEmbedderName, type MeshFace } from '../mesh-analysis.js';
import { faceResRecognizer, type FaceRecognizer } from '../recognizer.js';
import { packageRoot } from '../tfjs-runtime.js';
import { meshAngles } from './angles.js';
import { BLAZEFACE_SIZE, blazefaceAnchors, decodeBlazeface, type DetectBox, type DetectorSettings } from './blazeface.js';
import { cutEyes, IRIS_OUTPUT, IRIS_SIZE, refineEyes } from './iris.js';
import { cutMeshCrop, MESH_SIZE, meshFaceBox, meshToImage } from './mesh.js';
import { loadHumanModel, runModel, type OrtModel } from './models.js';
import { resizeBilinear } from './pixels.js';

/** Options of {@link OrtFaceEmbedder.create}; the same meaning and defaults as HumanEmbedder's. */
export interface OrtFaceEmbedderOptions {
  /** Folder holding Human's `*.json` + `*.bin` models. Default: `models/` of the installed package. */
  modelDir?: string;
  /** Pad images with a shorter side below this before detection. Default 160. */
  padToPx?: number;
  /** Refine the eye contours with the Iris model. Default true (as HumanEmbedder, whose templates assume it). */
  iris?: boolean;
  /** Run the anti-spoof and liveness models. Default true. */
  liveness?: boolean;
  /** Faces whose detector or mesh score is below this are ignored. Default 0.5. */
  minDetectionScore?: number;
  /** Run every model once after loading. Default true. */
  warmup?: boolean;
  /** `faceres` (default) or a {@link FaceRecognizer} on the aligned crop. */
  recognizer?: 'faceres' | FaceRecognizer;
  /** Flip test-time augmentation, as HumanEmbedder's. Default false. */
  flip?: boolean;
  /** Intra-op threads of each model. Default 2. */
  threads?: number;
}

/** Most faces the detector keeps (HumanEmbedder's `maxDetected`). */
const MAX_FACES = 4;
const ANTISPOOF_SIZE = 128;
const LIVENESS_SIZE = 32;

/** The per-call settings fixed at creation. */
interface Settings {
  readonly padToPx: number;
  readonly minDetectionScore: number;
  readonly flip: boolean;
}

/** Human's rounding of its scores to 2 decimals. */
const round2 = (v: number): number => Math.round(100 * v) / 100;

interface Models {
  readonly blazeface: OrtModel;
  readonly mesh: OrtModel;
  readonly iris: OrtModel | null;
  readonly antispoof: OrtModel | null;
  readonly liveness: OrtModel | null;
}

/** A face that passed detection and the mesh, before the one face is chosen. */
interface Candidate {
  readonly slot: number;
  readonly face: MeshFace;
  readonly mesh: [number, number, number][];
  readonly boxRaw: readonly number[];
}

/** Float input buffers and the tensors over them, allocated once. */
class Inputs {
  readonly blazeface = new Float32Array(BLAZEFACE_SIZE * BLAZEFACE_SIZE * 3);
  readonly blazefaceT = new ort.Tensor('float32', this.blazeface, [1, BLAZEFACE_SIZE, BLAZEFACE_SIZE, 3]);
  readonly meshCrops = Array.from({ length: MAX_FACES }, () => new Float32Array(MESH_SIZE * MESH_SIZE * 3));
  readonly meshT = this.meshCrops.map((c) => new ort.Tensor('float32', c, [1, MESH_SIZE, MESH_SIZE, 3]));
  readonly eyes = new Float32Array(2 * IRIS_SIZE * IRIS_SIZE * 3);
  readonly eyesT = new ort.Tensor('float32', this.eyes, [2, IRIS_SIZE, IRIS_SIZE, 3]);
  readonly antispoof = new Float32Array(ANTISPOOF_SIZE * ANTISPOOF_SIZE * 3);
  readonly antispoofT = new ort.Tensor('float32', this.antispoof, [1, ANTISPOOF_SIZE, ANTISPOOF_SIZE, 3]);
  readonly liveness = new Float32Array(LIVENESS_SIZE * LIVENESS_SIZE * 3);
  readonly livenessT = new ort.Tensor('float32', this.liveness, [1, LIVENESS_SIZE, LIVENESS_SIZE, 3]);
}

/**
 * Face embedder on onnxruntime-node. Create with {@link OrtFaceEmbedder.create};
 * calls to `analyze` on one instance run one at a time (they share the
 * pre-allocated inputs); separate instances are independent.
 *
 * @example
 * const embedder = await OrtFaceEmbedder.create();
 * const face = await embedder.analyze(await readImageFile('me.jpg'));
 */
export class OrtFaceEmbedder implements FaceEmbedder {
  readonly name: string;
  readonly dimensions: number;
  readonly loadMs: number;
  /** Milliseconds of the warm-up inferences (0 if none). */
  readonly warmupMs: number;
  readonly #models: Models;
  readonly #recognizer: FaceRecognizer;
  readonly #opts: Settings;
  readonly #detector: DetectorSettings;
  readonly #anchors = blazefaceAnchors();
  readonly #in = new Inputs();
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(models: Models, recognizer: FaceRecognizer, opts: Settings, loadMs: number, warmupMs: number) {
    this.#models = models;
    this.#recognizer = recognizer;
    this.#opts = opts;
    this.name = meshEmbedderName(recognizer, opts.flip);
    this.dimensions = recognizer.dimensions;
    this.loadMs = loadMs;
    this.warmupMs = warmupMs;
    // HumanEmbedder's detector settings: up to 4 faces, Human's IoU 0.1 and box scale 1.4.
    this.#detector = { maxDetected: MAX_FACES, minConfidence: Math.min(0.3, opts.minDetectionScore), iouThreshold: 0.1, scale: 1.4 };
  }

  /**
   * Converts and loads the models (from node_modules; nothing is downloaded).
   * @throws {ModelError} when a model cannot be read, converted or loaded
   */
  static async create(options: OrtFaceEmbedderOptions = {}): Promise<OrtFaceEmbedder> {
    const t0 = performance.now();
    const threads = options.threads ?? 2;
    const iris = options.iris ?? true;
    const liveness = options.liveness ?? true;
    const dir = path.resolve(options.modelDir ?? path.join(packageRoot('@vladmandic/human'), 'models'));
    const load = (name: string, outputs: string[], side: number): Promise<OrtModel> => loadHumanModel(dir, name, outputs, [1, side, side, 3], threads);
    const [blazeface, mesh, irisModel, antispoof, live, recognizer] = await Promise.all([
      // Scores and regressors of the 16x16 (512 anchors) and 8x8 (384 anchors) grids.
      load('blazeface', ['Identity', 'Identity_2', 'Identity_1', 'Identity_3'], BLAZEFACE_SIZE),
      load('facemesh', ['Identity_2', 'Identity_1'], MESH_SIZE),
      iris ? load('iris', ['Identity'], IRIS_SIZE) : null,
      liveness ? load('antispoof', ['Identity'], ANTISPOOF_SIZE) : null,
      liveness ? load('liveness', ['Identity'], LIVENESS_SIZE) : null,
      typeof options.recognizer === 'object' ? options.recognizer : faceResRecognizer({ ...(options.modelDir === undefined ? {} : { modelDir: options.modelDir }), threads }),
    ]);
    const opts = { padToPx: options.padToPx ?? 160, minDetectionScore: options.minDetectionScore ?? 0.5, flip: options.flip ?? false };
    const models: Models = { blazeface, mesh, iris: irisModel, antispoof, liveness: live };
    const loadMs = performance.now() - t0;
    if (!(options.warmup ?? true)) return new OrtFaceEmbedder(models, recognizer, opts, loadMs, 0);
    const w0 = performance.now();
    const probe = new OrtFaceEmbedder(models, recognizer, opts, loadMs, 0);
    await probe.#warmup();
    return new OrtFaceEmbedder(models, recognizer, opts, loadMs, performance.now() - w0);
  }

  /** One run of every model on blank input: the first runs allocate and plan. */
  async #warmup(): Promise<void> {
    const m = this.#models;
    await this.#detect({ width: 160, height: 160, data: new Uint8Array(160 * 160 * 3).fill(128) });
    await runModel(m.mesh, this.#in.meshT[0] as ort.Tensor);
    if (m.iris) await runModel(m.iris, this.#in.eyesT);
    if (m.antispoof) await runModel(m.antispoof, this.#in.antispoofT);
    if (m.liveness) await runModel(m.liveness, this.#in.livenessT);
    await this.#recognizer.embed([new Float32Array(this.#recognizer.align.size ** 2 * 3).fill(128)]);
  }

  analyze(image: DecodedImage, options: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    const run = this.#queue.then(() => this.#analyze(image, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** BlazeFace boxes of an image. */
  async #detect(image: DecodedImage): Promise<DetectBox[]> {
    if (this.#disposed) throw new ModelError('the face embedder was disposed');
    resizeBilinear(image, BLAZEFACE_SIZE, BLAZEFACE_SIZE, this.#in.blazeface, 1 / 127.5, -1);
    const outs = await runModel(this.#models.blazeface, this.#in.blazefaceT);
    const [s512, r512, s384, r384] = outs as [Float32Array, Float32Array, Float32Array, Float32Array];
    if (s512.length !== 512 || r512.length !== 512 * 16 || s384.length !== 384 || r384.length !== 384 * 16) throw new ModelError('the BlazeFace model returned outputs of unexpected sizes');
    const scores = new Float32Array(896);
    scores.set(s512);
    scores.set(s384, 512);
    const regressors = new Float32Array(896 * 16);
    regressors.set(r512);
    regressors.set(r384, 512 * 16);
    return decodeBlazeface(scores, regressors, this.#anchors, image.width, image.height, this.#detector);
  }

  /** FaceMesh (+ Iris) on one box: the face in image pixels, or null when the mesh does not confirm it. */
  async #mesh(image: DecodedImage, box: DetectBox, slot: number): Promise<Candidate | null> {
    const crop = this.#in.meshCrops[slot] as Float32Array;
    const cut = cutMeshCrop(image, box, crop);
    const [points, flag] = (await runModel(this.#models.mesh, this.#in.meshT[slot] as ort.Tensor)) as [Float32Array, Float32Array];
    if (points.length !== 468 * 3 || flag.length !== 1) throw new ModelError('the FaceMesh model returned outputs of unexpected sizes');
    const faceScore = round2(flag[0] as number);
    if (faceScore < this.#opts.minDetectionScore) return null;
    let raw: number[][] = [];
    for (let i = 0; i < 468; i++) raw.push([points[3 * i] as number, points[3 * i + 1] as number, points[3 * i + 2] as number]);
    if (this.#models.iris) {
      const eyes = cutEyes(raw, crop, this.#in.eyes);
      const [out] = (await runModel(this.#models.iris, this.#in.eyesT)) as [Float32Array];
      if (out.length !== 2 * IRIS_OUTPUT) throw new ModelError('the Iris model returned an output of unexpected size');
      raw = refineEyes(raw, out, eyes);
    }
    const mesh = meshToImage(raw, box, cut);
    const { box: faceBox, raw: boxRaw } = meshFaceBox(mesh, box, image.width, image.height);
    return { slot, mesh, boxRaw, face: { mesh, box: faceBox, boxScore: round2(box.confidence) } };
  }

  /** Anti-spoof and liveness scores of a mesh crop (Human resizes the crop to each model's input). */
  async #passive(slot: number): Promise<{ real?: number; live?: number }> {
    const m = this.#models;
    if (!m.antispoof || !m.liveness) return {};
    const crop = { width: MESH_SIZE, height: MESH_SIZE, data: this.#in.meshCrops[slot] as Float32Array };
    resizeBilinear(crop, ANTISPOOF_SIZE, ANTISPOOF_SIZE, this.#in.antispoof);
    resizeBilinear(crop, LIVENESS_SIZE, LIVENESS_SIZE, this.#in.liveness);
    const [[real], [live]] = (await Promise.all([runModel(m.antispoof, this.#in.antispoofT), runModel(m.liveness, this.#in.livenessT)])) as [[Float32Array], [Float32Array]];
    return { real: round2(real[0] as number), live: round2(live[0] as number) };
  }

  async #analyze(image: DecodedImage, options: AnalyzeOptions): Promise<FaceAnalysis> {
    const t0 = performance.now();
    checkDecodedImage(image);
    const padded = padImage(image, options.padToPx ?? this.#opts.padToPx);
    const min = this.#opts.minDetectionScore;
    const boxes = (await this.#detect(padded.image)).filter((b) => round2(b.confidence) >= min);
    const candidates: Candidate[] = [];
    for (const [slot, box] of boxes.entries()) {
      const c = await this.#mesh(padded.image, box, slot);
      if (c) candidates.push(c);
    }
    const { face: chosen, count } = selectFace(candidates, (c) => c.face.box[2] as number, options);
    const { width, height } = padded.image;
    const face: MeshFace = { ...chosen.face, angle: meshAngles(chosen.mesh, chosen.boxRaw, width, height, MESH_SIZE), ...(await this.#passive(chosen.slot)) };
    return describeMeshFace(image, padded, face, {
      name: this.name,
      recognizer: this.#recognizer,
      flip: this.#opts.flip,
      liveness: this.#models.antispoof !== null,
      count,
      startedAt: t0,
    });
  }

  async dispose(): Promise<void> {
    await this.#queue;
    if (this.#disposed) return;
    this.#disposed = true;
    const m = this.#models;
    await Promise.all([m.blazeface, m.mesh, m.iris, m.antispoof, m.liveness].map((x) => x?.session.release()));
    await this.#recognizer.dispose();
  }
}
