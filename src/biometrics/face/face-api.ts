/**
 * The comparison embedder: @vladmandic/face-api 1.7.15 (MIT; SSD MobileNet
 * v1 detector, 68-point landmarks, dlib-style ResNet-34 128-d descriptor),
 * models shipped in its npm package, on tfjs-core + WASM.
 *
 * Loading recipe (Node 20, offline): face-api's Node/WASM build
 * (`dist/face-api.node-wasm.js`) `require`s the umbrella `@tensorflow/tfjs`
 * package, which bioseal does not install (it pulls in WebGL, layers and
 * data, none of them used). The file is evaluated as a CommonJS module with a
 * `require` that answers `@tensorflow/tfjs` with tfjs-core + tfjs-converter.
 * face-api also calls the chained tensor methods (`t.as3D()`, `t.toFloat()`)
 * that only the umbrella package registers; the few it uses are added to
 * tfjs-core's `Tensor.prototype` where absent. Models load with face-api's own
 * `loadFromDisk` (plain `fs`).
 *
 * It has no anti-spoof or liveness model (those fields are null) and its
 * pose is estimated from the 68 landmarks, coarsely.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelError } from '../../errors.js';
import { selectFace, type AnalyzeOptions, type FaceAnalysis, type FaceEmbedder, type FaceLandmarks, type Point } from './embedder.js';
import { checkDecodedImage, padImage, type Box, type DecodedImage } from './image.js';
import { measurePixelQuality } from './quality.js';
import { loadTfjsWasm, packageRoot, requireModule, type Tf } from './tfjs-runtime.js';

/** Options of {@link FaceApiEmbedder.create}. */
export interface FaceApiEmbedderOptions {
  /** Folder of face-api's weight manifests. Default: `model/` of the installed package. */
  modelDir?: string;
  /** Pad images with a shorter side below this before detection. Default 256. */
  padToPx?: number;
  /** Minimum SSD detector score for a face to count. Default 0.5. */
  minDetectionScore?: number;
}

interface FaceApiPoint { x: number; y: number }
interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: FaceApiPoint[] };
  descriptor: Float32Array;
}
interface FaceApiTask { withFaceLandmarks(): { withFaceDescriptors(): Promise<FaceApiResult[]> } }
interface FaceApiModule {
  nets: Record<'ssdMobilenetv1' | 'faceLandmark68Net' | 'faceRecognitionNet', { loadFromDisk(dir: string): Promise<void>; dispose(): void }>;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
  detectAllFaces(input: unknown, options: unknown): FaceApiTask;
}

let faceApi: FaceApiModule | undefined;

/** Adds to tfjs-core's Tensor the chained methods face-api calls, where absent. */
function addChainedOps(tf: Tf): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(ops)) {
    if (typeof fn !== 'function' || !/^[a-z]/.test(name) || name in proto) continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      return (fn as (...a: unknown[]) => unknown)(this, ...args);
    };
  }
  const reshape = (t: unknown, shape: number[]): unknown => tf.reshape(t as Parameters<Tf['reshape']>[0], shape);
  const define = (name: string, f: (this: { size: number }, ...a: number[]) => unknown): void => {
    if (!(name in proto)) proto[name] = f;
  };
  define('as1D', function () { return reshape(this, [this.size]); });
  for (const n of ['as2D', 'as3D', 'as4D', 'as5D']) define(n, function (...shape) { return reshape(this, shape); });
  define('asScalar', function () { return reshape(this, []); });
  define('toFloat', function () { return tf.cast(this as unknown as Parameters<Tf['cast']>[0], 'float32'); });
  define('toInt', function () { return tf.cast(this as unknown as Parameters<Tf['cast']>[0], 'int32'); });
}

function loadFaceApiModule(tf: Tf): FaceApiModule {
  if (faceApi) return faceApi;
  const file = path.join(packageRoot('@vladmandic/face-api'), 'dist', 'face-api.node-wasm.js');
  const source = readFileSync(file, 'utf8');
  const shim = { ...requireModule<object>('@tensorflow/tfjs-converter'), ...tf };
  const mod: { exports: unknown } = { exports: {} };
  const req = (id: string): unknown => (id === '@tensorflow/tfjs' ? shim : requireModule(id));
  addChainedOps(tf);
  // Evaluate the CommonJS bundle with our require (see the module comment).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('exports', 'require', 'module', '__filename', '__dirname', source)(mod.exports, req, mod, file, path.dirname(file));
  faceApi = mod.exports as FaceApiModule;
  return faceApi;
}

/**
 * face-api.js embedder (128-d). For comparison and as a second opinion;
 * {@link HumanEmbedder} is the default.
 */
export class FaceApiEmbedder implements FaceEmbedder {
  readonly name = 'face-api-resnet34';
  readonly dimensions = 128;
  readonly loadMs: number;
  readonly #api: FaceApiModule;
  readonly #tf: Tf;
  readonly #padToPx: number;
  readonly #minScore: number;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(api: FaceApiModule, tf: Tf, padToPx: number, minScore: number, loadMs: number) {
    this.#api = api;
    this.#tf = tf;
    this.#padToPx = padToPx;
    this.#minScore = minScore;
    this.loadMs = loadMs;
  }

  /**
   * Loads face-api and its three models from node_modules.
   * @throws {ModelError}
   */
  static async create(options: FaceApiEmbedderOptions = {}): Promise<FaceApiEmbedder> {
    const t0 = performance.now();
    const tf = await loadTfjsWasm();
    try {
      const api = loadFaceApiModule(tf);
      const dir = path.resolve(options.modelDir ?? path.join(packageRoot('@vladmandic/face-api'), 'model'));
      await api.nets.ssdMobilenetv1.loadFromDisk(dir);
      await api.nets.faceLandmark68Net.loadFromDisk(dir);
      await api.nets.faceRecognitionNet.loadFromDisk(dir);
      return new FaceApiEmbedder(api, tf, options.padToPx ?? 256, options.minDetectionScore ?? 0.5, performance.now() - t0);
    } catch (err) {
      throw new ModelError('cannot load the face-api models', { cause: err });
    }
  }

  analyze(image: DecodedImage, options: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    const run = this.#queue.then(() => this.#analyze(image, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #analyze(image: DecodedImage, options: AnalyzeOptions): Promise<FaceAnalysis> {
    if (this.#disposed) throw new ModelError('the face embedder was disposed');
    const t0 = performance.now();
    checkDecodedImage(image);
    const padded = padImage(image, options.padToPx ?? this.#padToPx);
    const input = this.#tf.tensor3d(padded.image.data, [padded.image.height, padded.image.width, 3], 'int32');
    let faces: FaceApiResult[];
    try {
      const opts = new this.#api.SsdMobilenetv1Options({ minConfidence: this.#minScore, maxResults: 4 });
      faces = await this.#api.detectAllFaces(input, opts).withFaceLandmarks().withFaceDescriptors();
    } catch (err) {
      throw new ModelError('the face-api model failed', { cause: err });
    } finally {
      input.dispose();
    }
    const { face: f, count } = selectFace(faces, (x) => x.detection.box.width, options);
    const ox = padded.offsetX;
    const oy = padded.offsetY;
    const all: Point[] = f.landmarks.positions.map((p) => [p.x - ox, p.y - oy] as const);
    const at = (i: number): Point => all[i] ?? [Number.NaN, Number.NaN];
    const centre = (from: number): Point => {
      let x = 0;
      let y = 0;
      for (let i = from; i < from + 6; i++) {
        x += at(i)[0];
        y += at(i)[1];
      }
      return [x / 6, y / 6];
    };
    const d = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
    // 68-point scheme (iBUG 300-W): eyes 36-41 and 42-47, nose tip 30, mouth corners 48 and 54.
    const ear = (s: number): number => (d(at(s + 1), at(s + 5)) + d(at(s + 2), at(s + 4))) / (2 * d(at(s), at(s + 3)) || 1);
    const eyeL = centre(36);
    const eyeR = centre(42);
    const nose = at(30);
    const mouthL = at(48);
    const mouthR = at(54);
    const ied = d(eyeL, eyeR);
    const eyeMid: Point = [(eyeL[0] + eyeR[0]) / 2, (eyeL[1] + eyeR[1]) / 2];
    const mouthMid: Point = [(mouthL[0] + mouthR[0]) / 2, (mouthL[1] + mouthR[1]) / 2];
    const roll = (Math.atan2(eyeR[1] - eyeL[1], eyeR[0] - eyeL[0]) * 180) / Math.PI;
    // Coarse pose from a frontal face model: the nose tip stands about 0.65
    // inter-eye distances in front of the eye plane; a frontal nose tip sits
    // about 55% of the way from the eye line down to the mouth line.
    const yaw = (Math.atan2(nose[0] - eyeMid[0], 0.65 * ied) * 180) / Math.PI;
    const faceH = d(eyeMid, mouthMid) || 1;
    const pitch = (Math.atan2(nose[1] - eyeMid[1] - 0.55 * faceH, 0.65 * ied) * 180) / Math.PI;
    const b = f.detection.box;
    const box: Box = { x: b.x - ox, y: b.y - oy, width: b.width, height: b.height };
    const five: FaceLandmarks['five'] = [eyeL, eyeR, nose, mouthL, mouthR];
    const px = measurePixelQuality(image, five);
    return {
      embedder: this.name,
      box,
      landmarks: { five, all },
      pose: { yaw, pitch, roll },
      eyes: { left: ear(36), right: ear(42) },
      detectionScore: f.detection.score,
      embedding: Float32Array.from(f.descriptor),
      antispoof: null,
      liveness: null,
      quality: {
        faceSizePx: Math.min(box.width, box.height),
        interEyePx: ied,
        ...px,
        yawDeg: yaw,
        pitchDeg: pitch,
        rollDeg: roll,
        detectionScore: f.detection.score,
      },
      faceCount: count,
      elapsedMs: performance.now() - t0,
    };
  }

  async dispose(): Promise<void> {
    await this.#queue;
    if (this.#disposed) return;
    this.#disposed = true;
    for (const net of [this.#api.nets.ssdMobilenetv1, this.#api.nets.faceLandmark68Net, this.#api.nets.faceRecognitionNet]) net.dispose();
  }
}

