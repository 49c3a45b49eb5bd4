/**
 * Converts a TensorFlow.js graph model (model.json + weight shards, as
 * Human ships them) into an ONNX model in memory, so that it runs on
 * onnxruntime-node: native, multi-threaded, vectorised kernels instead of
 * tfjs's single-threaded WebAssembly (tfjs disables wasm threads in Node).
 * No Python, no tf2onnx, no file written.
 *
 * Supported: the operators of the convolutional networks Human ships, as
 * the TF converter exports them: Conv2D, _FusedConv2D (BiasAdd + Relu, Relu6
 * or Prelu), DepthwiseConv2dNative, Add/AddV2/Mul/Minimum/Maximum (with a
 * constant or a tensor of the same layout), Relu, Relu6, Prelu, Sigmoid,
 * Softmax, MaxPool, Pad, Reshape, ConcatV2, Mean over H and W, Identity and
 * _FusedMatMul (BiasAdd [+ Relu]). That covers FaceRes, BlazeFace, FaceMesh,
 * Iris, the anti-spoof and the liveness models: each converts and matches
 * tfjs to about 1e-6 relative (scripts/face-onnx-check.mjs). Anything else is
 * refused with a ModelError: better no model than a wrong one.
 *
 * Layout: TF graphs are NHWC, ONNX convolutions NCHW. The input is
 * transposed once; convolution kernels are transposed at conversion
 * (HWIO -> OIHW; depthwise HW(C)(M) -> (C*M)1HW with group C); per-channel
 * constants of Add/Mul become [C,1,1] so they broadcast over NCHW, and a
 * per-channel PReLU becomes a scale, a Relu and an Add (see `prelu` below); a
 * Reshape or an output of an image tensor transposes back to NHWC first, so
 * flattening keeps TF's element order. A Relu, Minimum and Maximum with
 * constant bounds become one Clip (onnx-clamps.ts).
 *
 * Protobuf wire encoding per onnx.proto3 (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto), written by hand below.
 */
import { ModelError } from '../../errors.js';
import { foldClamps } from './onnx-clamps.js';

// ---------------------------------------------------------------- protobuf

/** A protobuf field: varint (number/bigint), length-delimited (string, bytes, sub-message) or fixed32 float. */
type Field = [num: number, value: number | bigint | string | Uint8Array | Field[] | { f32: number }];

function varint(n: number | bigint, out: number[]): void {
  let v = BigInt.asUintN(64, BigInt(n));
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** Protobuf wire encoding of a message (field order as given). */
function encodeMsg(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let len = 0;
  const push = (p: Uint8Array): void => {
    parts.push(p);
    len += p.length;
  };
  for (const [num, value] of fields) {
    const head: number[] = [];
    if (typeof value === 'number' || typeof value === 'bigint') {
      varint((num << 3) | 0, head);
      varint(value, head);
      push(Uint8Array.from(head));
    } else if (!(value instanceof Uint8Array) && !Array.isArray(value) && typeof value === 'object') {
      varint((num << 3) | 5, head);
      const b = new Uint8Array(head.length + 4);
      b.set(head);
      new DataView(b.buffer).setFloat32(head.length, value.f32, true);
      push(b);
    } else {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : encodeMsg(value);
      varint((num << 3) | 2, head);
      varint(bytes.length, head);
      push(Uint8Array.from(head));
      push(bytes);
    }
  }
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// AttributeProto: name=1, f=2, i=3, s=4, ints=8, type=20. Types: FLOAT=1, INT=2, STRING=3, INTS=7.
type Attr = { name: string } & ({ i: number } | { ints: number[] } | { s: string } | { f: number });
function attrFields(a: Attr): Field[] {
  if ('i' in a) return [[1, a.name], [3, a.i], [20, 2]];
  if ('ints' in a) return [[1, a.name], ...a.ints.map((v): Field => [8, v]), [20, 7]];
  if ('s' in a) return [[1, a.name], [4, a.s], [20, 3]];
  return [[1, a.name], [2, { f32: a.f }], [20, 1]];
}

interface OnnxNodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
}
interface Initializer {
  name: string;
  dims: number[];
  /** 1 = FLOAT, 7 = INT64 */
  type: 1 | 7;
  raw: Uint8Array;
}

function modelBytes(nodes: OnnxNodeDef[], inits: Initializer[], input: { name: string; dims: (number | string)[] }, outputs: { name: string; dims?: (number | string)[] }[]): Uint8Array {
  // TypeProto.tensor_type (elem_type FLOAT, optional shape of dim_value / dim_param).
  const tensorType = (dims?: (number | string)[]): Field[] => [
    [1, [[1, 1], ...(dims ? [[2, dims.map((d): Field => [1, typeof d === 'number' ? [[1, d]] : [[2, d]]])]] as Field[] : [])]],
  ];
  const valueInfo = (v: { name: string; dims?: (number | string)[] }): Field[] => [[1, v.name], [2, tensorType(v.dims)]];
  const graph: Field[] = [
    ...nodes.map((n, k): Field => [1, [...n.inputs.map((i): Field => [1, i]), ...n.outputs.map((o): Field => [2, o]), [3, `n${k}`], [4, n.op], ...(n.attrs ?? []).map((a): Field => [5, attrFields(a)])]]),
    [2, 'converted'],
    ...inits.map((t): Field => [5, [...t.dims.map((d): Field => [1, d]), [2, t.type], [8, t.name], [9, t.raw]]]),
    [11, valueInfo(input)],
    ...outputs.map((o): Field => [12, valueInfo(o)]),
  ];
  // ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8 (domain=1, version=2).
  return encodeMsg([[1, 8], [2, 'bioseal tfjs-to-onnx'], [7, graph], [8, [[1, ''], [2, 13]]]]);
}

// ------------------------------------------------------------- conversion

/** Placeholder for the ONNX graph input while nodes are built (renamed to `input` at the end). */
const GRAPH_INPUT = '\u0000input';

/** The parts of a tfjs graph model.json the converter reads. */
export interface TfjsGraphJson {
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale?: number; min?: number } }[] }[];
}
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { list?: { i?: string[]; s?: string[] }; s?: string; b?: boolean; i?: string; f?: number; shape?: unknown }>;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Little-endian bytes of a float32 array (TensorProto.raw_data is little-endian). */
function float32LE(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return raw;
}

let f16Table: Float32Array | undefined;

function float16ToFloat32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decodes the weight shards into named float32 / int32 arrays with shapes. */
export function decodeTfjsWeights(json: TfjsGraphJson, shards: Uint8Array[]): Map<string, { shape: number[]; data: Float32Array | Int32Array }> {
  const all = new Uint8Array(shards.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of shards) {
    all.set(b, o);
    o += b.length;
  }
  const bytesOf = (w: TfjsGraphJson['weightsManifest'][number]['weights'][number]): number => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization?.dtype;
    return n * (q === 'uint8' ? 1 : q === 'float16' || q === 'uint16' ? 2 : 4);
  };
  const expected = json.weightsManifest.reduce((s, g) => s + g.weights.reduce((t, w) => t + bytesOf(w), 0), 0);
  if (expected !== all.length) throw new ModelError(`weight shards hold ${all.length} bytes; the manifest describes ${expected}`);
  const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  let off = 0;
  for (const group of json.weightsManifest) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization?.dtype;
      if (w.dtype === 'int32' && !q) {
        const d = new Int32Array(n);
        for (let i = 0; i < n; i++) d[i] = dv.getInt32(off + 4 * i, true);
        off += 4 * n;
        out.set(w.name, { shape: w.shape, data: d });
      } else if (w.dtype === 'float32' && !q) {
        const d = new Float32Array(n);
        for (let i = 0; i < n; i++) d[i] = dv.getFloat32(off + 4 * i, true);
        off += 4 * n;
        out.set(w.name, { shape: w.shape, data: d });
      } else if (w.dtype === 'float32' && q === 'float16') {
        if (!f16Table) {
          f16Table = new Float32Array(65536);
          for (let i = 0; i < 65536; i++) f16Table[i] = float16ToFloat32(i);
        }
        const d = new Float32Array(n);
        for (let i = 0; i < n; i++) d[i] = f16Table[dv.getUint16(off + 2 * i, true)] as number;
        off += 2 * n;
        out.set(w.name, { shape: w.shape, data: d });
      } else if (w.dtype === 'float32' && (q === 'uint8' || q === 'uint16') && w.quantization?.scale !== undefined) {
        const bytes = q === 'uint8' ? 1 : 2;
        const d = new Float32Array(n);
        for (let i = 0; i < n; i++) d[i] = (bytes === 1 ? dv.getUint8(off + i) : dv.getUint16(off + 2 * i, true)) * w.quantization.scale + (w.quantization.min ?? 0);
        off += bytes * n;
        out.set(w.name, { shape: w.shape, data: d });
      } else {
        throw new ModelError(`unsupported weight encoding for ${w.name}: ${w.dtype}/${q ?? 'none'}`);
      }
    }
  }
  if (off !== all.length) throw new ModelError(`weight shards hold ${all.length} bytes; the manifest describes ${off}`);
  return out;
}

const strAttr = (n: TfNode, k: string): string | undefined => {
  const s = n.attr?.[k]?.s;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
};
const intsAttr = (n: TfNode, k: string): number[] => (n.attr?.[k]?.list?.i ?? []).map(Number);

/**
 * Converts the sub-graph of a tfjs graph model that computes `outputs` from
 * its single NHWC float input into ONNX bytes. The ONNX input is `input`
 * (NHWC, as in TF); the outputs are `output` (one requested) or `output_0`,
 * `output_1`, ... in the order requested, each in TF's layout.
 *
 * @throws {ModelError} on an operator or an attribute outside the supported set
 */
export function convertTfjsGraphToOnnx(json: TfjsGraphJson, shards: Uint8Array[], outputs: string | readonly string[], inputShape: readonly number[]): Uint8Array {
  const outputList = typeof outputs === 'string' ? [outputs] : [...outputs];
  const weights = decodeTfjsWeights(json, shards);
  const byName = new Map(json.modelTopology.node.map((n) => [n.name, n]));
  const strip = (s: string): string => s.replace(/^\^/, '').replace(/:0$/, '');
  // Reachable nodes from the outputs, in dependency order.
  const order: TfNode[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const key = strip(name);
    if (seen.has(key)) return;
    seen.add(key);
    const n = byName.get(key);
    if (!n) throw new ModelError(`tfjs graph has no node ${key}`);
    for (const i of n.input ?? []) visit(i);
    order.push(n);
  };
  for (const o of outputList) visit(o);

  const nodes: OnnxNodeDef[] = [];
  const inits: Initializer[] = [];
  /** Layout of each produced tensor: `nchw` = a TF NHWC 4-d tensor held as NCHW; `tf` = as in TF. */
  const layout = new Map<string, 'nchw' | 'tf'>();
  let counter = 0;
  const tmp = (base: string): string => `${base}__${counter++}`;
  const constOf = (name: string): { shape: number[]; data: Float32Array | Int32Array } | undefined => {
    const n = byName.get(strip(name));
    return n?.op === 'Const' ? weights.get(n.name) : undefined;
  };
  /** Scalar float constants by name, for {@link foldClamps}. */
  const scalars = new Map<string, number>();
  const addFloatInit = (name: string, dims: number[], data: Float32Array): string => {
    inits.push({ name, dims, type: 1, raw: float32LE(data) });
    if (dims.length === 0) scalars.set(name, data[0] as number);
    return name;
  };
  const addInt64Init = (name: string, values: number[]): string => {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
    inits.push({ name, dims: [values.length], type: 7, raw });
    return name;
  };
  /** @throws ModelError unless the constant of `n` on an image tensor varies along one axis at most (the channels). */
  const checkPerChannel = (n: TfNode, shape: readonly number[]): void => {
    if (shape.filter((d) => d > 1).length > 1) throw new ModelError(`${n.name}: only per-channel constants are supported on image tensors`);
  };
  /** A per-channel constant shaped to broadcast over NCHW ([C,1,1]) or kept as is. */
  const channelConst = (n: TfNode, c: { shape: number[]; data: Float32Array | Int32Array }, forNchw: boolean): string => {
    const data = Float32Array.from(c.data);
    if (data.length === 1) return addFloatInit(tmp(`${n.name}/c`), [], data);
    if (!forNchw) return addFloatInit(tmp(`${n.name}/c`), c.shape, data);
    checkPerChannel(n, c.shape);
    return addFloatInit(tmp(`${n.name}/c`), [data.length, 1, 1], data);
  };
  /** A per-channel scale y = k * x over NCHW, as a BatchNormalization that onnxruntime runs in its blocked layout. */
  const scale = (n: TfNode, x: string, k: Float32Array, out: string): void => {
    const c = k.length;
    const init = (what: string, v: Float32Array) => addFloatInit(tmp(`${n.name}/${what}`), [c], v);
    nodes.push({ op: 'BatchNormalization', inputs: [x, init('k', k), init('b', new Float32Array(c)), init('mean', new Float32Array(c)), init('var', new Float32Array(c).fill(1))], outputs: [out], attrs: [{ name: 'epsilon', f: 0 }] });
  };
  /**
   * PReLU with per-channel slopes a over NCHW, as x + (1 - a) * relu(-x),
   * from a per-channel scale, a Relu and an Add: onnxruntime keeps these in
   * its blocked (NCHWc) layout beside the convolutions, where its PRelu
   * kernel runs slowly and needs the tensor reordered before and after (it
   * took about 40% of FaceMesh's and Iris's time). Per channel, the middle
   * term is relu((a - 1) x) for a <= 1, and -relu((1 - a) x) for a > 1.
   * Finite inputs give PReLU to within an ulp of x; infinite ones give NaN.
   */
  const prelu = (n: TfNode, x: string, alpha: { shape: number[]; data: Float32Array | Int32Array }, nchw: boolean, out: string): void => {
    const a = Float32Array.from(alpha.data);
    if (!nchw || a.length === 1) {
      nodes.push({ op: 'PRelu', inputs: [x, channelConst(n, alpha, nchw)], outputs: [out] });
      return;
    }
    checkPerChannel(n, alpha.shape);
    const k = a.map((v) => (v <= 1 ? v - 1 : 1 - v));
    const scaled = tmp(`${n.name}/scaled`);
    const relu = tmp(`${n.name}/relu`);
    scale(n, x, k, scaled);
    nodes.push({ op: 'Relu', inputs: [scaled], outputs: [relu] });
    if (a.every((v) => v <= 1)) {
      nodes.push({ op: 'Add', inputs: [x, relu], outputs: [out] });
      return;
    }
    const signed = tmp(`${n.name}/signed`);
    scale(n, relu, a.map((v) => (v <= 1 ? 1 : -1)), signed);
    nodes.push({ op: 'Add', inputs: [x, signed], outputs: [out] });
  };
  const toNhwc = (name: string): string => {
    const t = tmp(`${name}/nhwc`);
    nodes.push({ op: 'Transpose', inputs: [name], outputs: [t], attrs: [{ name: 'perm', ints: [0, 2, 3, 1] }] });
    return t;
  };
  const convAttrs = (n: TfNode, kh: number, kw: number): Attr[] => {
    if ((strAttr(n, 'data_format') ?? 'NHWC') !== 'NHWC') throw new ModelError(`${n.name}: only NHWC is supported`);
    const strides = intsAttr(n, 'strides');
    const dil = intsAttr(n, 'dilations');
    const pad = strAttr(n, 'padding');
    if (pad !== 'SAME' && pad !== 'VALID') throw new ModelError(`${n.name}: padding ${pad} is not supported`);
    return [
      { name: 'kernel_shape', ints: [kh, kw] },
      { name: 'strides', ints: [strides[1] ?? 1, strides[2] ?? 1] },
      ...(dil.length ? [{ name: 'dilations', ints: [dil[1] ?? 1, dil[2] ?? 1] }] : []),
      // TF's SAME puts the odd padding pixel at the end: ONNX SAME_UPPER.
      { name: 'auto_pad', s: pad === 'SAME' ? 'SAME_UPPER' : 'VALID' },
    ];
  };
  let inputNode: string | undefined;

  for (const n of order) {
    const ins = (n.input ?? []).filter((i) => !i.startsWith('^')).map(strip);
    const out = n.name;
    const need = (k: number): string => {
      const v = ins[k];
      if (v === undefined) throw new ModelError(`${n.op} ${n.name} lacks input ${k}`);
      return v;
    };
    const lay = (k: number): 'nchw' | 'tf' => layout.get(need(k)) ?? 'tf';
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        if (inputNode) throw new ModelError('graphs with several inputs are not supported');
        inputNode = n.name;
        nodes.push({ op: 'Transpose', inputs: [GRAPH_INPUT], outputs: [out], attrs: [{ name: 'perm', ints: [0, 3, 1, 2] }] });
        layout.set(out, 'nchw');
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case '_FusedConv2D': {
        const w = constOf(need(1));
        if (!w || w.shape.length !== 4) throw new ModelError(`${n.name}: the kernel must be a 4-d constant`);
        if (lay(0) !== 'nchw') throw new ModelError(`${n.name}: convolution of a non-image tensor`);
        const [kh, kw, ci, co] = w.shape as [number, number, number, number];
        const attrs = convAttrs(n, kh, kw);
        const src = w.data;
        let oihw: Float32Array;
        let dims: number[];
        if (n.op !== 'DepthwiseConv2dNative') {
          dims = [co, ci, kh, kw];
          oihw = new Float32Array(src.length);
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) oihw[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o] as number;
        } else {
          // [kh, kw, C, M] -> [C*M, 1, kh, kw], output channel c*M+m.
          dims = [ci * co, 1, kh, kw];
          oihw = new Float32Array(src.length);
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < ci; c++) for (let m = 0; m < co; m++) oihw[((c * co + m) * kh + y) * kw + x] = src[((y * kw + x) * ci + c) * co + m] as number;
          attrs.push({ name: 'group', i: ci });
        }
        const convIns = [need(0), addFloatInit(tmp(`${n.name}/W`), dims, oihw)];
        let act: string | undefined;
        if (n.op === '_FusedConv2D') {
          const fused = (n.attr?.['fused_ops']?.list?.s ?? []).map((x) => Buffer.from(x, 'base64').toString('utf8'));
          if (fused[0] !== 'BiasAdd' || fused.length > 2) throw new ModelError(`${n.name}: fused ops ${fused.join(',')} are not supported`);
          const b = constOf(need(2));
          if (!b) throw new ModelError(`${n.name}: the bias must be a constant`);
          convIns.push(addFloatInit(tmp(`${n.name}/B`), [b.data.length], Float32Array.from(b.data)));
          act = fused[1];
          if (act !== undefined && !['Relu', 'Relu6', 'Prelu'].includes(act)) throw new ModelError(`${n.name}: fused activation ${act} is not supported`);
        }
        const convOut = act ? tmp(`${n.name}/conv`) : out;
        nodes.push({ op: 'Conv', inputs: convIns, outputs: [convOut], attrs });
        if (act === 'Relu') nodes.push({ op: 'Relu', inputs: [convOut], outputs: [out] });
        if (act === 'Relu6') nodes.push({ op: 'Clip', inputs: [convOut, addFloatInit(tmp('lo'), [], Float32Array.of(0)), addFloatInit(tmp('hi'), [], Float32Array.of(6))], outputs: [out] });
        if (act === 'Prelu') {
          const alpha = constOf(need(3));
          if (!alpha) throw new ModelError(`${n.name}: the PReLU slope must be a constant`);
          prelu(n, convOut, alpha, true, out);
        }
        layout.set(out, 'nchw');
        break;
      }
      case 'Add':
      case 'AddV2':
      case 'Mul':
      case 'Minimum':
      case 'Maximum': {
        const opName = { Add: 'Add', AddV2: 'Add', Mul: 'Mul', Minimum: 'Min', Maximum: 'Max' }[n.op] as string;
        const [a, b] = [need(0), need(1)];
        const ca = constOf(a);
        const cb = constOf(b);
        if (ca && cb) throw new ModelError(`${n.name}: constant folding is not supported`);
        if (ca || cb) {
          const tensorIn = ca ? b : a;
          const l = layout.get(tensorIn) ?? 'tf';
          const other = channelConst(n, (ca ?? cb) as { shape: number[]; data: Float32Array }, l === 'nchw');
          nodes.push({ op: opName, inputs: ca ? [other, tensorIn] : [tensorIn, other], outputs: [out] });
          layout.set(out, l);
        } else {
          if (lay(0) !== lay(1)) throw new ModelError(`${n.name}: operands in different layouts`);
          nodes.push({ op: opName, inputs: [a, b], outputs: [out] });
          layout.set(out, lay(0));
        }
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Identity': {
        nodes.push({ op: n.op, inputs: [need(0)], outputs: [out] });
        layout.set(out, lay(0));
        break;
      }
      case 'Relu6': {
        const lo = addFloatInit(tmp(`${n.name}/lo`), [], Float32Array.of(0));
        const hi = addFloatInit(tmp(`${n.name}/hi`), [], Float32Array.of(6));
        nodes.push({ op: 'Clip', inputs: [need(0), lo, hi], outputs: [out] });
        layout.set(out, lay(0));
        break;
      }
      case 'Prelu': {
        const alpha = constOf(need(1));
        if (!alpha) throw new ModelError(`${n.name}: the PReLU slope must be a constant`);
        prelu(n, need(0), alpha, lay(0) === 'nchw', out);
        layout.set(out, lay(0));
        break;
      }
      case 'Softmax': {
        nodes.push({ op: 'Softmax', inputs: [need(0)], outputs: [out], attrs: [{ name: 'axis', i: lay(0) === 'nchw' ? 1 : -1 }] });
        layout.set(out, lay(0));
        break;
      }
      case 'MaxPool': {
        if (lay(0) !== 'nchw') throw new ModelError(`${n.name}: pooling of a non-image tensor`);
        const k = (n.attr?.['ksize']?.list?.i ?? []).map(Number);
        nodes.push({ op: 'MaxPool', inputs: [need(0)], outputs: [out], attrs: convAttrs(n, k[1] ?? 1, k[2] ?? 1).filter((a) => a.name !== 'dilations') });
        layout.set(out, 'nchw');
        break;
      }
      case 'Pad': {
        const p = constOf(need(1));
        if (!p || p.data.length !== 8 || lay(0) !== 'nchw') throw new ModelError(`${n.name}: only constant padding of an image tensor is supported`);
        const d = [...p.data]; // NHWC pairs [n0,n1,h0,h1,w0,w1,c0,c1]
        const pads = addInt64Init(tmp(`${n.name}/pads`), [d[0], d[6], d[2], d[4], d[1], d[7], d[3], d[5]] as number[]);
        nodes.push({ op: 'Pad', inputs: [need(0), pads], outputs: [out] });
        layout.set(out, 'nchw');
        break;
      }
      case 'Reshape': {
        const shape = constOf(need(1));
        if (!shape) throw new ModelError(`${n.name}: only constant shapes are supported`);
        const x = lay(0) === 'nchw' ? toNhwc(need(0)) : need(0);
        nodes.push({ op: 'Reshape', inputs: [x, addInt64Init(tmp(`${n.name}/shape`), [...shape.data])], outputs: [out] });
        layout.set(out, 'tf');
        break;
      }
      case 'ConcatV2': {
        const axisC = constOf(ins[ins.length - 1] as string);
        if (!axisC || axisC.data.length !== 1) throw new ModelError(`${n.name}: the axis must be a constant`);
        const parts = ins.slice(0, -1);
        const l = layout.get(parts[0] as string) ?? 'tf';
        if (parts.some((q) => (layout.get(q) ?? 'tf') !== l)) throw new ModelError(`${n.name}: operands in different layouts`);
        let axis = axisC.data[0] as number;
        if (l === 'nchw') axis = [0, 2, 3, 1][axis < 0 ? axis + 4 : axis] as number;
        nodes.push({ op: 'Concat', inputs: parts, outputs: [out], attrs: [{ name: 'axis', i: axis }] });
        layout.set(out, l);
        break;
      }
      case 'Mean': {
        const axes = constOf(need(1));
        const keep = n.attr?.['keep_dims']?.b ?? false;
        if (!axes || lay(0) !== 'nchw' || [...axes.data].sort().join() !== '1,2') throw new ModelError(`${n.name}: only a mean over H and W of an image tensor is supported`);
        if (keep) throw new ModelError(`${n.name}: keep_dims is not supported`);
        const pooled = tmp(`${n.name}/pool`);
        nodes.push({ op: 'GlobalAveragePool', inputs: [need(0)], outputs: [pooled] });
        nodes.push({ op: 'Flatten', inputs: [pooled], outputs: [out], attrs: [{ name: 'axis', i: 1 }] });
        layout.set(out, 'tf');
        break;
      }
      case '_FusedMatMul': {
        const fused = (n.attr?.['fused_ops']?.list?.s ?? []).map((x) => Buffer.from(x, 'base64').toString('utf8'));
        if (n.attr?.['transpose_a']?.b || n.attr?.['transpose_b']?.b) throw new ModelError(`${n.name}: transposed MatMul is not supported`);
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] !== undefined && fused[1] !== 'Relu')) throw new ModelError(`${n.name}: fused ops ${fused.join(',')} are not supported`);
        if (lay(0) !== 'tf') throw new ModelError(`${n.name}: MatMul of an image tensor`);
        const w = constOf(need(1));
        const b = constOf(need(2));
        if (!w || !b) throw new ModelError(`${n.name}: weights must be constants`);
        const gemm = fused[1] ? tmp(`${n.name}/gemm`) : out;
        nodes.push({ op: 'Gemm', inputs: [need(0), addFloatInit(tmp(`${n.name}/W`), w.shape, Float32Array.from(w.data)), addFloatInit(tmp(`${n.name}/b`), b.shape, Float32Array.from(b.data))], outputs: [gemm] });
        if (fused[1]) nodes.push({ op: 'Relu', inputs: [gemm], outputs: [out] });
        layout.set(out, 'tf');
        break;
      }
      default:
        throw new ModelError(`tfjs operator ${n.op} (${n.name}) is not supported by the ONNX converter`);
    }
  }
  if (!inputNode) throw new ModelError('the tfjs graph has no input');
  const names = outputList.length === 1 ? ['output'] : outputList.map((_, i) => `output_${i}`);
  outputList.forEach((o, i) => {
    const src = strip(o);
    nodes.push({ op: 'Identity', inputs: [layout.get(src) === 'nchw' ? toNhwc(src) : src], outputs: [names[i] as string] });
  });
  foldClamps(nodes, scalars, new Set(names));
  // TF node names become ONNX tensor names under a prefix, so none can collide
  // with the graph's own input and output names (blazeface's input node is "input").
  const rename = (t: string): string => (t === GRAPH_INPUT ? 'input' : byName.has(t) ? `tf:${t}` : t);
  for (const node of nodes) {
    node.inputs = node.inputs.map(rename);
    node.outputs = node.outputs.map(rename);
  }
  const [, h, w, c] = inputShape;
  return modelBytes(nodes, inits, { name: 'input', dims: ['N', h ?? 'H', w ?? 'W', c ?? 3] }, names.map((name) => ({ name })));
}
