/**
 * Running ONNX models held only in memory with onnxruntime-node, and the JSON
 * form of tensors that the CLI and the local server accept and return:
 *
 *     { "input": { "type": "float32", "dims": [1, 4], "data": [0.1, 0.2, 0.3, 0.4] } }
 */

import * as ort from 'onnxruntime-node';

import { ModelError, UsageError } from '../errors.js';

/** Element types accepted and produced in the JSON tensor form. */
export const JSON_TENSOR_TYPES = ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;

/** One of {@link JSON_TENSOR_TYPES}. */
export type JsonTensorType = (typeof JSON_TENSOR_TYPES)[number];

/**
 * A tensor in JSON form. `data` is flat, row-major, of length product(dims).
 * int64 values may be given as numbers (safe integers) or decimal strings and
 * are always returned as decimal strings; bool values are `true`/`false`.
 * Outputs that hold NaN or infinities carry the strings "NaN", "Infinity" and
 * "-Infinity" in their place (JSON has no such numbers).
 */
export interface JsonTensor {
  type: JsonTensorType;
  dims: number[];
  data: (number | string | boolean)[];
}

/** Named tensors in JSON form. */
export type JsonTensors = Record<string, JsonTensor>;

/** Largest number of elements accepted in one input tensor (2^26). */
export const MAX_TENSOR_ELEMENTS = 2 ** 26;

/** Largest rank accepted for an input tensor. */
export const MAX_TENSOR_RANK = 32;

/** What {@link tensorsFromJson} needs to know about a session; an `ort.InferenceSession` fits. */
export interface SessionInputs {
  readonly inputNames: readonly string[];
  readonly inputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
}

/**
 * Creates an onnxruntime-node inference session from model bytes held in
 * memory. Nothing is written to disk: options that would make the runtime
 * write files (`optimizedModelFilePath`, `enableProfiling`) are refused.
 *
 * @throws UsageError when `model` is not a non-empty Uint8Array or the
 *   options would write files.
 * @throws ModelError ("the model could not be loaded: ...", runtime error as
 *   `cause`) when the runtime rejects the bytes.
 * @example
 * const session = await createSessionFromMemory(buildDemoModel());
 * console.log(session.inputNames); // ['input']
 */
export async function createSessionFromMemory(
  model: Uint8Array,
  options?: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  if (!(model instanceof Uint8Array)) {
    throw new UsageError('the model must be given as bytes (Uint8Array)');
  }
  if (model.byteLength === 0) {
    throw new ModelError('the model could not be loaded: the model is empty');
  }
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) throw new UsageError('session options must be an object');
    if (options.optimizedModelFilePath !== undefined) {
      throw new UsageError('optimizedModelFilePath is not allowed: it would write the model to disk');
    }
    if (options.enableProfiling === true) {
      throw new UsageError('enableProfiling is not allowed: it writes files to disk');
    }
  }
  try {
    return await ort.InferenceSession.create(model, options ?? {});
  } catch (err) {
    throw new ModelError(`the model could not be loaded: ${describe(err)}`, { cause: err });
  }
}

/**
 * Converts JSON tensors into onnxruntime feeds for `session`, validating
 * strictly: every key must be a model input and every model input present;
 * each tensor must be `{type, dims, data}` with a supported type, integer
 * dims >= 0 (at most {@link MAX_TENSOR_RANK}), at most
 * {@link MAX_TENSOR_ELEMENTS} elements, data of length product(dims) whose
 * values fit the type (finite numbers; integers in range; booleans for bool).
 * Where the session declares an input's type or fixed positive dimensions
 * (`session.inputMetadata`), they must match too.
 *
 * @throws UsageError naming the offending input.
 * @example
 * const feeds = tensorsFromJson({ input: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } }, session);
 * const outputs = await session.run(feeds);
 */
export function tensorsFromJson(json: unknown, session: SessionInputs): Record<string, ort.Tensor> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError('inputs must be a JSON object mapping input names to tensors');
  }
  const expected = session.inputNames;
  const given = Object.keys(json);
  for (const name of given) {
    if (!expected.includes(name)) {
      throw new UsageError(
        `unknown input ${quote(name)}; the model's inputs are: ${expected.map(quote).join(', ') || '(none)'}`,
      );
    }
  }
  for (const name of expected) {
    if (!Object.hasOwn(json, name)) throw new UsageError(`missing input ${quote(name)}`);
  }
  const metadata = runtimeInputMetadata(session);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of expected) {
    const value = (json as Record<string, unknown>)[name];
    const tensor = tensorFromJson(name, value, metadata?.find((m) => m.name === name));
    Object.defineProperty(feeds, name, { value: tensor, enumerable: true, writable: true, configurable: true });
  }
  return feeds;
}

/**
 * Converts runtime outputs into JSON tensors (see {@link JsonTensor} for how
 * int64, bool and non-finite floats are written).
 *
 * @throws ModelError when an output is not a tensor or has a type outside
 *   {@link JSON_TENSOR_TYPES}.
 * @example
 * const json = tensorsToJson(await session.run(feeds));
 * console.log(JSON.stringify(json));
 */
export function tensorsToJson(outputs: Readonly<Record<string, ort.OnnxValue>>): JsonTensors {
  const result: JsonTensors = {};
  for (const name of Object.keys(outputs)) {
    const value = outputs[name];
    if (!(value instanceof ort.Tensor)) {
      throw new ModelError(`output ${quote(name)} is not a tensor`);
    }
    const type = value.type;
    if (!isJsonTensorType(type)) {
      throw new ModelError(`output ${quote(name)} has type ${type}, which cannot be returned as JSON`);
    }
    const src = value.data as ArrayLike<number | bigint>;
    const data: (number | string | boolean)[] = new Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (type === 'int64') data[i] = v.toString();
      else if (type === 'bool') data[i] = v !== 0;
      else data[i] = Number.isFinite(v) ? (v as number) : String(v);
    }
    const entry: JsonTensor = { type, dims: [...value.dims], data };
    Object.defineProperty(result, name, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/**
 * Validates `inputsJson`, runs `session` on it and returns the outputs as
 * JSON tensors.
 *
 * @throws UsageError when the inputs are not valid (see {@link tensorsFromJson}).
 * @throws ModelError ("the model could not be run: ...") when the runtime
 *   fails, or an output cannot be converted.
 * @example
 * const { probabilities } = await runModel(session, {
 *   input: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] },
 * });
 */
export async function runModel(session: ort.InferenceSession, inputsJson: unknown): Promise<JsonTensors> {
  const feeds = tensorsFromJson(inputsJson, session);
  let outputs: ort.InferenceSession.ReturnType;
  try {
    outputs = await session.run(feeds);
  } catch (err) {
    throw new ModelError(`the model could not be run: ${describe(err)}`, { cause: err });
  }
  return tensorsToJson(outputs);
}

// ---------------------------------------------------------------------------

const INT_RANGES = {
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  int8: [-128, 127],
} as const;

const FLOAT32_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const JSON_TENSOR_KEYS = new Set(['type', 'dims', 'data']);

function isJsonTensorType(t: unknown): t is JsonTensorType {
  return typeof t === 'string' && (JSON_TENSOR_TYPES as readonly string[]).includes(t);
}

function quote(name: string): string {
  return JSON.stringify(name);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The session's input metadata, when this runtime provides it. */
function runtimeInputMetadata(session: SessionInputs): readonly ort.InferenceSession.ValueMetadata[] | undefined {
  let md: unknown;
  try {
    md = (session as { inputMetadata?: unknown }).inputMetadata;
  } catch {
    return undefined;
  }
  return Array.isArray(md) ? (md as ort.InferenceSession.ValueMetadata[]) : undefined;
}

function tensorFromJson(name: string, value: unknown, meta: ort.InferenceSession.ValueMetadata | undefined): ort.Tensor {
  const where = `input ${quote(name)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where} must be an object with "type", "dims" and "data"`);
  }
  for (const key of Object.keys(value)) {
    if (!JSON_TENSOR_KEYS.has(key)) throw new UsageError(`${where} has an unknown field ${quote(key)}`);
  }
  const { type, dims, data } = value as { type?: unknown; dims?: unknown; data?: unknown };

  if (!isJsonTensorType(type)) {
    throw new UsageError(
      `${where} has unsupported type ${typeof type === 'string' ? quote(type) : String(type)}; ` +
        `supported: ${JSON_TENSOR_TYPES.join(', ')}`,
    );
  }
  if (!Array.isArray(dims)) throw new UsageError(`${where}: "dims" must be an array of integers`);
  if (dims.length > MAX_TENSOR_RANK) throw new UsageError(`${where}: more than ${MAX_TENSOR_RANK} dimensions`);
  let count = 1;
  for (const d of dims as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new UsageError(`${where}: dimension ${JSON.stringify(d) ?? String(d)} is not a non-negative integer`);
    }
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) {
      throw new UsageError(`${where} has too many elements (at most ${MAX_TENSOR_ELEMENTS})`);
    }
  }
  const shape = dims as number[];

  if (meta !== undefined) checkAgainstMetadata(where, type, shape, meta);

  if (!Array.isArray(data)) throw new UsageError(`${where}: "data" must be an array`);
  if (data.length !== count) {
    throw new UsageError(`${where}: "data" has ${data.length} values but dims [${shape.join(', ')}] need ${count}`);
  }
  const values = data as unknown[];
  const bad = (i: number, why: string): never => {
    throw new UsageError(`${where}: data[${i}] ${why}`);
  };

  switch (type) {
    case 'float32':
    case 'float64': {
      const out = type === 'float32' ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(i, 'is not a finite number');
        if (type === 'float32' && Math.abs(v as number) > FLOAT32_MAX) bad(i, 'is out of the float32 range');
        out[i] = v as number;
      }
      return new ort.Tensor(type, out, shape);
    }
    case 'int32':
    case 'uint8':
    case 'int8': {
      const [lo, hi] = INT_RANGES[type];
      const out = type === 'int32' ? new Int32Array(count) : type === 'uint8' ? new Uint8Array(count) : new Int8Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, `is not an integer`);
        if ((v as number) < lo || (v as number) > hi) bad(i, `is out of the ${type} range [${lo}, ${hi}]`);
        out[i] = v as number;
      }
      return new ort.Tensor(type, out, shape);
    }
    case 'int64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        let big: bigint;
        if (typeof v === 'number') {
          if (!Number.isSafeInteger(v)) bad(i, 'is not a safe integer (give large int64 values as decimal strings)');
          big = BigInt(v);
        } else if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) {
          big = BigInt(v);
        } else {
          return bad(i, 'is not an integer or a decimal integer string');
        }
        if (big < INT64_MIN || big > INT64_MAX) bad(i, 'is out of the int64 range');
        out[i] = big;
      }
      return new ort.Tensor('int64', out, shape);
    }
    case 'bool': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') bad(i, 'is not true or false');
        out[i] = v ? 1 : 0;
      }
      return new ort.Tensor('bool', out, shape);
    }
  }
}

function checkAgainstMetadata(
  where: string,
  type: JsonTensorType,
  dims: readonly number[],
  meta: ort.InferenceSession.ValueMetadata,
): void {
  if (!meta.isTensor) throw new UsageError(`${where} is not a tensor input`);
  if (typeof meta.type === 'string' && meta.type !== type) {
    throw new UsageError(`${where} must have type ${meta.type}, got ${type}`);
  }
  const declared = Array.isArray(meta.shape) ? meta.shape : [];
  if (declared.length === 0) return; // unknown shape (or a scalar): nothing to enforce
  if (declared.length !== dims.length) {
    throw new UsageError(
      `${where} must have ${declared.length} dimensions [${declared.join(', ')}], got [${dims.join(', ')}]`,
    );
  }
  declared.forEach((d, i) => {
    if (typeof d === 'number' && Number.isInteger(d) && d > 0 && dims[i] !== d) {
      throw new UsageError(`${where}: dimension ${i} must be ${d}, got ${dims[i]} (expected [${declared.join(', ')}])`);
    }
  });
}
