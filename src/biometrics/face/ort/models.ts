/**
 * Human's face models (BlazeFace, FaceMesh, Iris, anti-spoof, liveness) as
 * onnxruntime-node sessions: each tfjs graph from the @vladmandic/human
 * package is converted to ONNX in memory (tfjs-to-onnx.ts; nothing is
 * downloaded or written) and loaded with the session options the face
 * engine uses everywhere (`faceSessionOptions`: 2 intra-op threads, every
 * graph optimisation, no spinning).
 * Only the outputs the pipeline reads are converted, so unused heads (the
 * mesh's contour output) are not computed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../../errors.js';
import { faceSessionOptions } from '../recognizer.js';
import { convertTfjsGraphToOnnx, type TfjsGraphJson } from '../tfjs-to-onnx.js';

/** One converted model. */
export interface OrtModel {
  readonly name: string;
  readonly session: ort.InferenceSession;
  /** Output names, in the order requested from {@link loadHumanModel}. */
  readonly outputs: readonly string[];
}

/**
 * Converts `<dir>/<name>.json` (+ its weight shards) to ONNX, keeping the
 * tfjs nodes `outputs`, and opens it on onnxruntime.
 *
 * @throws {ModelError} when the files cannot be read or converted, or the runtime rejects the model
 */
export async function loadHumanModel(dir: string, name: string, outputs: readonly string[], inputShape: readonly number[], threads: number): Promise<OrtModel> {
  let onnx: Uint8Array;
  try {
    const json = JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8')) as TfjsGraphJson;
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, path.basename(p)))));
    onnx = convertTfjsGraphToOnnx(json, shards, outputs, inputShape);
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError(`cannot read the ${name} face model`, { cause: err });
  }
  try {
    const session = await ort.InferenceSession.create(onnx, faceSessionOptions(threads));
    return { name, session, outputs: outputs.length === 1 ? ['output'] : outputs.map((_, i) => `output_${i}`) };
  } catch (err) {
    throw new ModelError(`the ${name} face model could not be loaded`, { cause: err });
  }
}

/**
 * Runs a model on one NHWC float input and returns its outputs' data in
 * the requested order.
 *
 * @throws {ModelError} when the run fails or an output is not float
 */
export async function runModel(model: OrtModel, input: ort.Tensor): Promise<Float32Array[]> {
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    result = await model.session.run({ input });
  } catch (err) {
    throw new ModelError(`the ${model.name} face model failed to run`, { cause: err });
  }
  return model.outputs.map((name) => {
    const data = (result[name] as ort.Tensor | undefined)?.data;
    if (!(data instanceof Float32Array)) throw new ModelError(`the ${model.name} face model returned no float output ${name}`);
    return data;
  });
}
