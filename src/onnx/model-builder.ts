/**
 * A minimal ONNX model writer: hand-written protobuf wire encoding of the
 * handful of ONNX messages bioseal needs to produce test and demo models,
 * with no Python and no network.
 *
 * Field numbers follow onnx.proto3 exactly. Only what is needed is written:
 * ModelProto (ir_version, producer_name, graph, opset_import), GraphProto
 * (node, name, initializer, input, output), NodeProto (input, output, name,
 * op_type, attribute), TensorProto (dims, data_type, name, raw_data),
 * ValueInfoProto and TypeProto.Tensor with a TensorShapeProto.
 *
 * A message is described as a tree of fields, sized first and then written
 * into one buffer allocated at the exact final length, so multi-hundred-MB
 * initializers are produced with a single allocation and no concatenation.
 */

import { UsageError } from '../errors.js';

/** ONNX IR version written into every model (IR v8, ONNX 1.10+). */
export const ONNX_IR_VERSION = 8;

/** Opset version of the default ("ai.onnx") domain written into every model. */
export const ONNX_OPSET_VERSION = 17;

/** TensorProto.DataType codes for the element types this writer supports. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;

/** Element type names accepted by {@link OnnxGraph} descriptions. */
export type OnnxElemType = keyof typeof OnnxDataType;

/**
 * Bytes of an initializer written lazily straight into the final model
 * buffer: `fill` receives a view of exactly `byteLength` bytes (zeroed, not
 * necessarily 4-byte aligned) and must write the little-endian tensor data.
 */
export interface LazyBytes {
  readonly byteLength: number;
  fill(target: Uint8Array): void;
}

/** A constant tensor stored in the graph (GraphProto.initializer). */
export interface OnnxInitializer {
  readonly name: string;
  readonly type: OnnxElemType;
  readonly dims: readonly number[];
  /** Little-endian raw data (TensorProto.raw_data), or a lazy filler for large tensors. */
  readonly rawData: Uint8Array | LazyBytes;
}

/** A graph input or output: a tensor with a name, element type and shape. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxElemType;
  /** Each entry is a fixed size (dim_value) or a symbolic name (dim_param). */
  readonly shape: readonly (number | string)[];
}

/** One operator in the graph. Only integer attributes are supported. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly intAttributes?: Readonly<Record<string, number>>;
}

/** A whole single-graph model in the default ONNX domain. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

// ---------------------------------------------------------------------------
// Protobuf wire encoding
// ---------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Protobuf messages cannot exceed 2 GiB - 1; ONNX Runtime enforces the same. */
const MAX_MESSAGE_BYTES = 0x7fffffff;

type Field =
  | { readonly num: number; readonly kind: 'varint'; readonly value: number | bigint }
  | { readonly num: number; readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly num: number; readonly kind: 'lazy'; readonly value: LazyBytes }
  | { readonly num: number; readonly kind: 'message'; readonly value: Message };

class Message {
  readonly fields: Field[] = [];
  private size = -1;

  varint(num: number, value: number | bigint): this {
    this.fields.push({ num, kind: 'varint', value });
    return this;
  }

  bytes(num: number, value: Uint8Array): this {
    this.fields.push({ num, kind: 'bytes', value });
    return this;
  }

  string(num: number, value: string): this {
    return this.bytes(num, utf8.encode(value));
  }

  lazy(num: number, value: LazyBytes): this {
    this.fields.push({ num, kind: 'lazy', value });
    return this;
  }

  message(num: number, value: Message): this {
    this.fields.push({ num, kind: 'message', value });
    return this;
  }

  /** Encoded length in bytes (memoised; messages are not changed after sizing). */
  byteLength(): number {
    if (this.size >= 0) return this.size;
    let n = 0;
    for (const f of this.fields) {
      if (f.kind === 'varint') {
        n += varintLength(tagOf(f.num, WIRE_VARINT)) + varintLength(f.value);
      } else {
        const len =
          f.kind === 'bytes' ? f.value.length : f.kind === 'lazy' ? f.value.byteLength : f.value.byteLength();
        n += varintLength(tagOf(f.num, WIRE_LEN)) + varintLength(len) + len;
      }
      if (n > MAX_MESSAGE_BYTES) {
        throw new UsageError('the ONNX model would exceed the 2 GiB protobuf limit');
      }
    }
    this.size = n;
    return n;
  }

  /** Writes this message at `pos`; returns the position after it. */
  writeTo(buf: Uint8Array, pos: number): number {
    for (const f of this.fields) {
      if (f.kind === 'varint') {
        pos = writeVarint(buf, pos, tagOf(f.num, WIRE_VARINT));
        pos = writeVarint(buf, pos, f.value);
      } else if (f.kind === 'bytes') {
        pos = writeVarint(buf, pos, tagOf(f.num, WIRE_LEN));
        pos = writeVarint(buf, pos, f.value.length);
        buf.set(f.value, pos);
        pos += f.value.length;
      } else if (f.kind === 'lazy') {
        const len = f.value.byteLength;
        pos = writeVarint(buf, pos, tagOf(f.num, WIRE_LEN));
        pos = writeVarint(buf, pos, len);
        f.value.fill(buf.subarray(pos, pos + len));
        pos += len;
      } else {
        pos = writeVarint(buf, pos, tagOf(f.num, WIRE_LEN));
        pos = writeVarint(buf, pos, f.value.byteLength());
        pos = f.value.writeTo(buf, pos);
      }
    }
    return pos;
  }

  /** Serialises into one buffer of exactly the encoded length. */
  encode(): Uint8Array {
    const buf = new Uint8Array(this.byteLength());
    const end = this.writeTo(buf, 0);
    if (end !== buf.length) throw new Error(`internal error: protobuf size mismatch (${end} != ${buf.length})`);
    return buf;
  }
}

const utf8 = new TextEncoder();

function tagOf(num: number, wire: number): number {
  return num * 8 + wire;
}

const TWO_POW_64 = 1n << 64n;

/** Varints carry unsigned values; negative int64 values use 64-bit two's complement (10 bytes). */
function toUnsigned(value: number | bigint): number | bigint {
  if (typeof value === 'bigint') return value < 0n ? value + TWO_POW_64 : value;
  if (value < 0) return BigInt(value) + TWO_POW_64;
  return value;
}

function varintLength(value: number | bigint): number {
  let v = toUnsigned(value);
  let n = 1;
  if (typeof v === 'number') {
    while (v >= 0x80) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, value: number | bigint): number {
  let v = toUnsigned(value);
  if (typeof v === 'number') {
    while (v >= 0x80) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    return pos;
  }
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

// ---------------------------------------------------------------------------
// ONNX messages
// ---------------------------------------------------------------------------

const ATTRIBUTE_TYPE_INT = 2;

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new UsageError(`${what} must have a non-empty name`);
  }
}

function checkDim(what: string, d: number): void {
  if (!Number.isSafeInteger(d) || d < 0) {
    throw new UsageError(`${what}: dimension ${String(d)} is not a non-negative integer`);
  }
}

function tensorProto(init: OnnxInitializer): Message {
  checkName('an initializer', init.name);
  const dataType = OnnxDataType[init.type];
  if (dataType === undefined) throw new UsageError(`initializer "${init.name}": unsupported type ${String(init.type)}`);
  const elemSize = { float32: 4, uint8: 1, int8: 1, int32: 4, int64: 8, bool: 1, float64: 8 }[init.type];
  let count = 1;
  for (const d of init.dims) {
    checkDim(`initializer "${init.name}"`, d);
    count *= d;
  }
  if (init.rawData.byteLength !== count * elemSize) {
    throw new UsageError(
      `initializer "${init.name}": raw data has ${init.rawData.byteLength} bytes, dims need ${count * elemSize}`,
    );
  }
  const m = new Message();
  for (const d of init.dims) m.varint(1, d); // dims (repeated int64)
  m.varint(2, dataType); // data_type
  m.string(8, init.name); // name
  if (init.rawData instanceof Uint8Array) m.bytes(9, init.rawData); // raw_data
  else m.lazy(9, init.rawData);
  return m;
}

function valueInfoProto(info: OnnxValueInfo): Message {
  checkName('a graph input or output', info.name);
  const dataType = OnnxDataType[info.type];
  if (dataType === undefined) throw new UsageError(`value "${info.name}": unsupported type ${String(info.type)}`);
  const shape = new Message();
  for (const d of info.shape) {
    const dim = new Message();
    if (typeof d === 'string') {
      dim.string(2, d); // dim_param
    } else {
      checkDim(`value "${info.name}"`, d);
      dim.varint(1, d); // dim_value
    }
    shape.message(1, dim); // dim
  }
  const tensorType = new Message().varint(1, dataType).message(2, shape); // elem_type, shape
  const type = new Message().message(1, tensorType); // tensor_type
  return new Message().string(1, info.name).message(2, type); // name, type
}

function nodeProto(node: OnnxNode): Message {
  if (typeof node.opType !== 'string' || node.opType.length === 0) throw new UsageError('a node must have an op type');
  const m = new Message();
  for (const i of node.inputs) m.string(1, i); // input
  for (const o of node.outputs) m.string(2, o); // output
  if (node.name !== undefined) m.string(3, node.name); // name
  m.string(4, node.opType); // op_type
  for (const [name, value] of Object.entries(node.intAttributes ?? {})) {
    if (!Number.isSafeInteger(value)) throw new UsageError(`node ${node.opType}: attribute ${name} must be an integer`);
    // AttributeProto: name=1, i=3, type=20
    m.message(5, new Message().string(1, name).varint(3, value).varint(20, ATTRIBUTE_TYPE_INT)); // attribute
  }
  return m;
}

function modelProto(graph: OnnxGraph): Message {
  const g = new Message();
  for (const n of graph.nodes) g.message(1, nodeProto(n)); // node
  g.string(2, graph.name); // name
  for (const t of graph.initializers) g.message(5, tensorProto(t)); // initializer
  for (const i of graph.inputs) g.message(11, valueInfoProto(i)); // input
  for (const o of graph.outputs) g.message(12, valueInfoProto(o)); // output

  const opset = new Message().string(1, '').varint(2, ONNX_OPSET_VERSION); // domain, version
  return new Message()
    .varint(1, ONNX_IR_VERSION) // ir_version
    .string(2, 'bioseal') // producer_name
    .message(7, g) // graph
    .message(8, opset); // opset_import
}

/**
 * Serialises a graph description into ONNX model bytes (ModelProto), IR
 * version {@link ONNX_IR_VERSION}, default-domain opset {@link ONNX_OPSET_VERSION}.
 * The output is deterministic: the same description gives the same bytes.
 * The graph is not checked for semantic validity; the runtime does that on load.
 *
 * @throws UsageError when a name is empty, a dimension is not a non-negative
 *   integer, an initializer's data length disagrees with its dims, or the
 *   model would exceed the 2 GiB protobuf limit.
 * @example
 * const bytes = encodeModel({
 *   name: 'id', nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
 *   initializers: [], inputs: [{ name: 'x', type: 'float32', shape: [1] }],
 *   outputs: [{ name: 'y', type: 'float32', shape: [1] }],
 * });
 */
export function encodeModel(graph: OnnxGraph): Uint8Array {
  return modelProto(graph).encode();
}

/** Little-endian bytes of a float32 array (copied; independent of host byte order). */
function float32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Weight of the demo model, 4 inputs x 3 classes, row-major. */
export const DEMO_WEIGHTS: readonly (readonly number[])[] = [
  [0.5, -0.25, 0.125],
  [-0.75, 1.0, 0.25],
  [0.375, 0.5, -1.0],
  [1.25, -0.5, 0.75],
];

/** Bias of the demo model, one per class. */
export const DEMO_BIAS: readonly number[] = [0.1, -0.2, 0.05];

/**
 * Builds the demo classifier: `probabilities = Softmax(input · W + b)` with
 * input "input" float32 [1,4], the fixed {@link DEMO_WEIGHTS} (4x3) and
 * {@link DEMO_BIAS} (3), Softmax on axis -1, output "probabilities" float32 [1,3].
 * Always returns the same bytes (a few hundred).
 *
 * @throws never in practice (only on an internal encoding bug).
 * @example
 * const session = await createSessionFromMemory(buildDemoModel());
 * const out = await runModel(session, { input: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } });
 */
export function buildDemoModel(): Uint8Array {
  return encodeModel({
    name: 'bioseal_demo_classifier',
    nodes: [
      { opType: 'MatMul', name: 'matmul', inputs: ['input', 'W'], outputs: ['logits_raw'] },
      { opType: 'Add', name: 'add_bias', inputs: ['logits_raw', 'B'], outputs: ['logits'] },
      { opType: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: ['probabilities'], intAttributes: { axis: -1 } },
    ],
    initializers: [
      { name: 'W', type: 'float32', dims: [4, 3], rawData: float32Bytes(DEMO_WEIGHTS.flat()) },
      { name: 'B', type: 'float32', dims: [3], rawData: float32Bytes(DEMO_BIAS) },
    ],
    inputs: [{ name: 'input', type: 'float32', shape: [1, 4] }],
    outputs: [{ name: 'probabilities', type: 'float32', shape: [1, 3] }],
  });
}

/** Options of {@link buildLargeModel}. */
export interface LargeModelOptions {
  /** Minimum size of the weight data in bytes (the model file is slightly larger). */
  readonly sizeBytes: number;
  /** PRNG seed (any integer; 0 is remapped). Default 1. */
  readonly seed?: number;
}

/** Largest side so that 4*n*n plus the small model overhead stays under 2 GiB. */
const MAX_LARGE_N = Math.floor(Math.sqrt((MAX_MESSAGE_BYTES - 4096) / 4));

/** Side n of the square weight used by {@link buildLargeModel} for a given size. */
export function largeModelSide(sizeBytes: number): number {
  if (typeof sizeBytes !== 'number' || !Number.isFinite(sizeBytes) || sizeBytes < 0) {
    throw new UsageError(`sizeBytes must be a non-negative finite number, got ${String(sizeBytes)}`);
  }
  let n = Math.max(1, Math.ceil(Math.sqrt(sizeBytes / 4)));
  while (4 * n * n < sizeBytes) n++;
  while (n > 1 && 4 * (n - 1) * (n - 1) >= sizeBytes) n--;
  if (n > MAX_LARGE_N) {
    throw new UsageError(`sizeBytes ${sizeBytes} is too large: an ONNX model must stay under 2 GiB`);
  }
  return n;
}

/**
 * Deterministic weight generator of {@link buildLargeModel}: xorshift32,
 * mapped to uniform floats in [-1/sqrt(n), 1/sqrt(n)). Calling it repeatedly
 * yields the weights in row-major order, so tests can recompute them.
 */
export function largeModelWeights(n: number, seed = 1): () => number {
  let s = seed | 0 || 0x9e3779b9 | 0;
  const scale = 2 / Math.sqrt(n) / 4294967296;
  const half = 1 / Math.sqrt(n);
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return Math.fround((s >>> 0) * scale - half);
  };
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Builds a large model for tests and benchmarks: `output = input · W` with
 * input "input" float32 [1,n], output "output" float32 [1,n] and one square
 * float32 initializer W (n x n), n the smallest side with 4*n*n >= sizeBytes.
 * W is filled from {@link largeModelWeights} directly into the single output
 * buffer, so 200 MB take well under a second and one allocation.
 *
 * @throws UsageError when sizeBytes is negative or not finite, or the model
 *   would exceed the 2 GiB protobuf limit.
 * @example
 * const bytes = buildLargeModel({ sizeBytes: 150 * 1024 * 1024, seed: 7 });
 */
export function buildLargeModel(options: LargeModelOptions): Uint8Array {
  if (typeof options !== 'object' || options === null) throw new UsageError('buildLargeModel needs an options object');
  const n = largeModelSide(options.sizeBytes);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new UsageError(`seed must be an integer, got ${String(seed)}`);
  const count = n * n;
  const weights: LazyBytes = {
    byteLength: count * 4,
    fill(target) {
      const next = largeModelWeights(n, seed);
      const CHUNK = 1 << 16;
      const chunk = new Float32Array(Math.min(CHUNK, count));
      const chunkBytes = new Uint8Array(chunk.buffer);
      for (let done = 0; done < count; done += CHUNK) {
        const len = Math.min(CHUNK, count - done);
        for (let i = 0; i < len; i++) chunk[i] = next();
        if (!HOST_LITTLE_ENDIAN) {
          for (let i = 0; i < len * 4; i += 4) {
            const a = chunkBytes[i]!, b = chunkBytes[i + 1]!;
            chunkBytes[i] = chunkBytes[i + 3]!;
            chunkBytes[i + 1] = chunkBytes[i + 2]!;
            chunkBytes[i + 2] = b;
            chunkBytes[i + 3] = a;
          }
        }
        target.set(chunkBytes.subarray(0, len * 4), done * 4);
      }
    },
  };
  return encodeModel({
    name: 'bioseal_large',
    nodes: [{ opType: 'MatMul', name: 'matmul', inputs: ['input', 'W'], outputs: ['output'] }],
    initializers: [{ name: 'W', type: 'float32', dims: [n, n], rawData: weights }],
    inputs: [{ name: 'input', type: 'float32', shape: [1, n] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, n] }],
  });
}

/** Options of {@link buildMlpModel}. */
export interface MlpModelOptions {
  /** Input features (default 256). */
  readonly inputs?: number;
  /** Width of each hidden layer (default 1024). */
  readonly hidden?: number;
  /** Hidden layers, each MatMul + Add + Relu (default 3). */
  readonly layers?: number;
  /** Output classes, through a final MatMul + Add + Softmax (default 10). */
  readonly outputs?: number;
  /** PRNG seed of the weights (default 1). */
  readonly seed?: number;
}

/**
 * Builds a multi-layer perceptron, a model of realistic cost per call for
 * benchmarks: input "input" float32 [batch, inputs] (batch symbolic),
 * `layers` hidden layers of `hidden` units with ReLU, and a softmax output
 * "probabilities" float32 [batch, outputs]. Weights come from
 * {@link largeModelWeights}, scaled per layer; biases are small constants.
 *
 * @throws UsageError when a size is not a positive integer or the model would exceed 2 GiB.
 * @example
 * const bytes = buildMlpModel({ inputs: 256, hidden: 1024, layers: 3, outputs: 10 });
 */
export function buildMlpModel(options: MlpModelOptions = {}): Uint8Array {
  const { inputs = 256, hidden = 1024, layers = 3, outputs = 10, seed = 1 } = options;
  for (const [name, v] of Object.entries({ inputs, hidden, layers, outputs })) {
    if (!Number.isSafeInteger(v) || v < 1 || v > 65_536) throw new UsageError(`buildMlpModel: ${name} must be an integer from 1 to 65536, got ${String(v)}`);
  }
  if (!Number.isSafeInteger(seed)) throw new UsageError(`seed must be an integer, got ${String(seed)}`);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  let previous = 'input';
  let width = inputs;
  for (let l = 0; l <= layers; l++) {
    const last = l === layers;
    const out = last ? outputs : hidden;
    const next = largeModelWeights(width, seed + l);
    const weights = new Array<number>(width * out);
    for (let i = 0; i < weights.length; i++) weights[i] = next();
    initializers.push({ name: `W${l}`, type: 'float32', dims: [width, out], rawData: float32Bytes(weights) });
    initializers.push({ name: `B${l}`, type: 'float32', dims: [out], rawData: float32Bytes(new Array<number>(out).fill(0.01)) });
    nodes.push({ opType: 'MatMul', name: `matmul${l}`, inputs: [previous, `W${l}`], outputs: [`h${l}_raw`] });
    nodes.push({ opType: 'Add', name: `bias${l}`, inputs: [`h${l}_raw`, `B${l}`], outputs: [`h${l}_pre`] });
    previous = last ? 'logits' : `h${l}`;
    nodes.push(last
      ? { opType: 'Softmax', name: 'softmax', inputs: [`h${l}_pre`], outputs: ['probabilities'], intAttributes: { axis: -1 } }
      : { opType: 'Relu', name: `relu${l}`, inputs: [`h${l}_pre`], outputs: [previous] });
    width = out;
  }
  return encodeModel({
    name: 'bioseal_mlp',
    nodes,
    initializers,
    inputs: [{ name: 'input', type: 'float32', shape: ['batch', inputs] }],
    outputs: [{ name: 'probabilities', type: 'float32', shape: ['batch', outputs] }],
  });
}
