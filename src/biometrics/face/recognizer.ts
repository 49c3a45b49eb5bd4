/**
 * Face recognisers: models that turn an aligned face crop into an
 * embedding, run on onnxruntime-node (native, multi-threaded).
 *
 * - {@link faceResRecognizer}: Human's FaceRes (MobileNet v1, 1024-d),
 *   converted from its tfjs graph in memory at load (tfjs-to-onnx.ts), on
 *   crops aligned to the ArcFace template zoomed out 1.25x, 224 px.
 * - {@link OnnxFaceRecognizer.fromFile}: a model the user supplies, such as
 *   an ArcFace / InsightFace recognition ONNX (112 px, NCHW,
 *   (x - 127.5) / 127.5), with its preprocessing described by options.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError, UsageError } from '../../errors.js';
import type { AlignSpec } from './align.js';
import { packageRoot } from './tfjs-runtime.js';
import { convertTfjsGraphToOnnx, type TfjsGraphJson } from './tfjs-to-onnx.js';

/** A model from aligned face crop to embedding. */
export interface FaceRecognizer {
  /** Stable name, part of the embedder name recorded with templates. */
  readonly name: string;
  readonly dimensions: number;
  /** The crop the model wants. */
  readonly align: AlignSpec;
  /**
   * Embeds crops from {@link alignFace} (size x size x 3 RGB, 0..255, HWC),
   * one embedding per crop.
   */
  embed(crops: readonly Float32Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** How a user-supplied ONNX model wants its input. */
export interface OnnxRecognizerOptions {
  /** Crop side, pixels. Default 112 (ArcFace). */
  size?: number;
  /** Zoom of the ArcFace framing, see {@link AlignSpec.zoom}. Default 1 (ArcFace's own). */
  zoom?: number;
  /** Tensor layout of the model input. Default `nchw`. */
  layout?: 'nchw' | 'nhwc';
  /** Channel order. Default `rgb`. */
  channels?: 'rgb' | 'bgr';
  /** Input = (pixel - mean) / std, pixel 0..255. Default mean 127.5, std 127.5 (ArcFace). */
  mean?: number;
  std?: number;
  /** Name recorded with templates. Default `onnx:<file name>`. */
  name?: string;
  /** Threads for one inference. Default 2. */
  threads?: number;
}

/** Largest ONNX model file accepted (ArcFace R100 is about 250 MB). */
export const MAX_RECOGNIZER_BYTES = 600 * 1024 * 1024;

type Preprocess = Required<Pick<OnnxRecognizerOptions, 'layout' | 'channels' | 'mean' | 'std'>>;

/**
 * onnxruntime session options of every face model: `threads` intra-op
 * threads, all graph optimisations, and idle threads that sleep rather than
 * spin. Spinning (onnxruntime's default) lets the pools of the engine's
 * several sessions steal the 2 cores from one another: measured on this
 * machine under load, spinning made a frame 2-4x slower.
 */
export function faceSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** A recogniser on onnxruntime-node. */
export class OnnxFaceRecognizer implements FaceRecognizer {
  readonly name: string;
  readonly dimensions: number;
  readonly align: AlignSpec;
  readonly #session: ort.InferenceSession;
  readonly #input: string;
  readonly #output: string;
  readonly #opts: Preprocess;

  private constructor(session: ort.InferenceSession, name: string, dimensions: number, align: AlignSpec, opts: Preprocess) {
    this.#session = session;
    this.name = name;
    this.dimensions = dimensions;
    this.align = align;
    this.#input = session.inputNames[0] as string;
    this.#output = session.outputNames[0] as string;
    this.#opts = opts;
  }

  /**
   * Loads a recogniser from ONNX bytes held in memory and probes it once to
   * learn its output size.
   * @throws {ModelError} when the runtime rejects the model or it does not output one vector per crop
   */
  static async fromBytes(model: Uint8Array, options: OnnxRecognizerOptions & { name: string }): Promise<OnnxFaceRecognizer> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, faceSessionOptions(options.threads ?? 2));
    } catch (err) {
      throw new ModelError('the face recognition model could not be loaded', { cause: err });
    }
    if (session.inputNames.length !== 1) throw new ModelError(`the face recognition model must have one input; it has ${session.inputNames.length}`);
    const align = { size: options.size ?? 112, zoom: options.zoom ?? 1 };
    const opts = { layout: options.layout ?? 'nchw', channels: options.channels ?? 'rgb', mean: options.mean ?? 127.5, std: options.std ?? 127.5 } as const;
    const probe = new OnnxFaceRecognizer(session, options.name, 0, align, opts);
    const [out] = await probe.embed([new Float32Array(align.size * align.size * 3).fill(128)]);
    if (!out || out.length < 16) throw new ModelError(`the face recognition model outputs ${out?.length ?? 0} values per face; an embedding was expected`);
    return new OnnxFaceRecognizer(session, options.name, out.length, align, opts);
  }

  /**
   * Loads a user-supplied recogniser file (for example an ArcFace ONNX).
   * @throws {UsageError} when the file is missing or too large
   * @throws {ModelError} when the runtime rejects it
   */
  static async fromFile(file: string, options: OnnxRecognizerOptions = {}): Promise<OnnxFaceRecognizer> {
    const st = await stat(file).catch((err: unknown) => {
      throw new UsageError(`cannot read the face model ${file}`, { cause: err });
    });
    if (!st.isFile() || st.size > MAX_RECOGNIZER_BYTES) throw new UsageError(`the face model ${file} is not a file of at most ${MAX_RECOGNIZER_BYTES} bytes`);
    return OnnxFaceRecognizer.fromBytes(await readFile(file), { ...options, name: options.name ?? `onnx:${path.basename(file)}` });
  }

  async embed(crops: readonly Float32Array[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const n = this.align.size;
    const plane = n * n;
    const batch = new Float32Array(crops.length * plane * 3);
    const { layout, channels, mean, std } = this.#opts;
    crops.forEach((crop, k) => {
      if (crop.length !== plane * 3) throw new UsageError(`face crop has ${crop.length} values; ${plane * 3} expected`);
      const base = k * plane * 3;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          const src = crop[p * 3 + (channels === 'bgr' ? 2 - c : c)] as number;
          const v = (src - mean) / std;
          if (layout === 'nchw') batch[base + c * plane + p] = v;
          else batch[base + p * 3 + c] = v;
        }
      }
    });
    const dims = layout === 'nchw' ? [crops.length, 3, n, n] : [crops.length, n, n, 3];
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.#session.run({ [this.#input]: new ort.Tensor('float32', batch, dims) });
    } catch (err) {
      throw new ModelError('the face recognition model failed to run', { cause: err });
    }
    const out = result[this.#output] as ort.Tensor | undefined;
    const data = out?.data;
    if (!(data instanceof Float32Array) || data.length % crops.length !== 0) throw new ModelError('the face recognition model returned no float embedding');
    const d = data.length / crops.length;
    return crops.map((_, k) => data.slice(k * d, (k + 1) * d));
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** Framing FaceRes was measured best with on ORL and LFW (README.md in this folder): ArcFace template zoomed out 1.25x, 224 px. */
export const FACERES_ALIGN: AlignSpec = Object.freeze({ size: 224, zoom: 1.25 });

/**
 * Human's FaceRes descriptor (`global_pooling/Mean`, 1024-d) on
 * onnxruntime-node, converted from the tfjs model shipped in the
 * @vladmandic/human package.
 *
 * @throws {ModelError}
 */
export async function faceResRecognizer(options: { modelDir?: string; threads?: number } = {}): Promise<OnnxFaceRecognizer> {
  const dir = options.modelDir ?? path.join(packageRoot('@vladmandic/human'), 'models');
  let onnx: Uint8Array;
  try {
    const json = JSON.parse(await readFile(path.join(dir, 'faceres.json'), 'utf8')) as TfjsGraphJson;
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, path.basename(p)))));
    onnx = convertTfjsGraphToOnnx(json, shards, 'global_pooling/Mean', [1, FACERES_ALIGN.size, FACERES_ALIGN.size, 3]);
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError('cannot read the FaceRes model', { cause: err });
  }
  // FaceRes takes RGB 0..255 as is, NHWC (the layout the tfjs graph had).
  return OnnxFaceRecognizer.fromBytes(onnx, { name: 'faceres', size: FACERES_ALIGN.size, zoom: FACERES_ALIGN.zoom, layout: 'nhwc', channels: 'rgb', mean: 0, std: 1, threads: options.threads ?? 2 });
}
