import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type * as ort from 'onnxruntime-node';

import { ModelError, UsageError } from '../../src/errors.js';
import {
  MAX_TENSOR_ELEMENTS,
  buildDemoModel,
  createSessionFromMemory,
  encodeModel,
  runModel,
  tensorsFromJson,
  tensorsToJson,
} from '../../src/onnx/index.js';
import type { JsonTensorType, OnnxElemType } from '../../src/onnx/index.js';

function isModelError(e: unknown): boolean {
  return e instanceof ModelError && e.code === 'E_MODEL';
}

/** Asserts a UsageError whose message names the input and matches `pattern`. */
function usageError(input: string | undefined, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.code, 'E_USAGE');
    if (input !== undefined) assert.ok(e.message.includes(`"${input}"`), `message names ${input}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('createSessionFromMemory', () => {
  test('corrupt or empty model bytes give ModelError', async () => {
    const demo = buildDemoModel();
    const corrupt = [
      new Uint8Array(0),
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      demo.subarray(0, demo.length - 7),
      new TextEncoder().encode('this is not an onnx model at all'),
    ];
    for (const bytes of corrupt) {
      await assert.rejects(createSessionFromMemory(bytes), (e: unknown) => {
        assert.ok(isModelError(e), String(e));
        assert.match((e as Error).message, /^the model could not be loaded: /);
        return true;
      });
    }
  });

  test('a valid protobuf with a broken graph gives ModelError', async () => {
    const bytes = encodeModel({
      name: 'bad',
      nodes: [{ opType: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', type: 'float32', shape: [1] }],
      outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    });
    await assert.rejects(createSessionFromMemory(bytes), isModelError);
  });

  test('refuses non-bytes and options that write files', async () => {
    await assert.rejects(createSessionFromMemory('model.onnx' as unknown as Uint8Array), UsageError);
    await assert.rejects(
      createSessionFromMemory(buildDemoModel(), { optimizedModelFilePath: '/tmp/x.onnx' }),
      UsageError,
    );
    await assert.rejects(createSessionFromMemory(buildDemoModel(), { enableProfiling: true }), UsageError);
  });
});

describe('tensorsFromJson validation', () => {
  let session: ort.InferenceSession;
  before(async () => {
    session = await createSessionFromMemory(buildDemoModel());
  });
  after(async () => {
    await session.release();
  });

  const ok = { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] };
  const withInput = (v: unknown) => ({ input: v });

  test('accepts a valid input', () => {
    const feeds = tensorsFromJson(withInput(ok), session);
    assert.deepEqual(Object.keys(feeds), ['input']);
    assert.deepEqual(feeds['input']!.dims, [1, 4]);
    assert.deepEqual(Array.from(feeds['input']!.data as Float32Array), [1, 2, 3, 4]);
  });

  const cases: [string, unknown, string | undefined, RegExp][] = [
    ['not an object', [1, 2], undefined, /JSON object/],
    ['null', null, undefined, /JSON object/],
    ['unknown input name', { input: ok, extra: ok }, 'extra', /unknown input.*"input"/],
    ['missing input', {}, 'input', /missing input/],
    ['tensor not an object', withInput(3), 'input', /must be an object/],
    ['unknown tensor field', withInput({ ...ok, shape: [1] }), 'input', /unknown field "shape"/],
    ['unsupported type', withInput({ ...ok, type: 'float16' }), 'input', /unsupported type "float16"/],
    ['missing type', withInput({ dims: [1, 4], data: [1, 2, 3, 4] }), 'input', /unsupported type/],
    ['dims not an array', withInput({ ...ok, dims: '1,4' }), 'input', /"dims" must be an array/],
    ['negative dim', withInput({ ...ok, dims: [-1, 4] }), 'input', /dimension -1 is not a non-negative integer/],
    ['fractional dim', withInput({ ...ok, dims: [1.5, 4] }), 'input', /dimension 1.5 is not/],
    ['string dim', withInput({ ...ok, dims: ['1', 4] }), 'input', /dimension "1" is not/],
    ['too many elements', withInput({ ...ok, dims: [2 ** 13, 2 ** 14], data: [] }), 'input', /too many elements/],
    ['data not an array', withInput({ ...ok, data: 'abcd' }), 'input', /"data" must be an array/],
    ['data too short', withInput({ ...ok, data: [1, 2, 3] }), 'input', /has 3 values but dims \[1, 4\] need 4/],
    ['data too long', withInput({ ...ok, data: [1, 2, 3, 4, 5] }), 'input', /has 5 values/],
    ['NaN', withInput({ ...ok, data: [1, Number.NaN, 3, 4] }), 'input', /data\[1\] is not a finite number/],
    ['Infinity', withInput({ ...ok, data: [1, 2, Infinity, 4] }), 'input', /data\[2\] is not a finite number/],
    ['string number', withInput({ ...ok, data: [1, 2, 3, '4'] }), 'input', /data\[3\] is not a finite number/],
    ['float32 overflow', withInput({ ...ok, data: [1, 2, 3, 1e39] }), 'input', /float32 range/],
    ['declared type differs', withInput({ ...ok, type: 'float64' }), 'input', /must have type float32, got float64/],
    ['declared dim differs', withInput({ ...ok, dims: [1, 5], data: [1, 2, 3, 4, 5] }), 'input', /dimension 1 must be 4, got 5/],
    ['declared rank differs', withInput({ ...ok, dims: [4], data: [1, 2, 3, 4] }), 'input', /must have 2 dimensions/],
  ];
  for (const [name, json, input, pattern] of cases) {
    test(`rejects: ${name}`, () => {
      assert.throws(() => tensorsFromJson(json, session), usageError(input, pattern));
    });
  }

  test('runModel validates before running', async () => {
    await assert.rejects(runModel(session, { input: { ...ok, dims: [2, 2] } }), UsageError);
  });

  test('the element cap is 2^26', () => {
    assert.equal(MAX_TENSOR_ELEMENTS, 2 ** 26);
  });
});

describe('tensor types without session metadata', () => {
  const fake = (type: JsonTensorType) => ({
    inputNames: ['x'],
    inputMetadata: [{ name: 'x', isTensor: true as const, type, shape: [] }],
  });
  const reject = (type: JsonTensorType, data: unknown[], pattern: RegExp) =>
    assert.throws(() => tensorsFromJson({ x: { type, dims: [data.length], data } }, fake(type)), usageError('x', pattern));

  test('integer types check integrality and range', () => {
    reject('int32', [1.5], /data\[0\] is not an integer/);
    reject('int32', [2 ** 31], /int32 range/);
    reject('uint8', [0, -1], /data\[1\] is out of the uint8 range/);
    reject('uint8', [256], /uint8 range/);
    reject('int8', [128], /int8 range/);
    reject('int8', [Number.NaN], /not an integer/);
    reject('int32', ['7'], /not an integer/);
  });

  test('int64 takes safe integers or decimal strings', () => {
    reject('int64', [2 ** 53], /safe integer/);
    reject('int64', ['12a'], /decimal integer string/);
    reject('int64', ['9223372036854775808'], /int64 range/);
    reject('int64', [1.5], /safe integer/);
    const feeds = tensorsFromJson(
      { x: { type: 'int64', dims: [3], data: [-5, '9223372036854775807', '-9223372036854775808'] } },
      fake('int64'),
    );
    assert.deepEqual(Array.from(feeds['x']!.data as BigInt64Array), [-5n, 2n ** 63n - 1n, -(2n ** 63n)]);
  });

  test('bool takes booleans only', () => {
    reject('bool', [true, 1], /data\[1\] is not true or false/);
  });

  test('a session without inputMetadata skips the declared-shape checks', () => {
    const feeds = tensorsFromJson({ x: { type: 'float64', dims: [2, 0], data: [] } }, { inputNames: ['x'] });
    assert.deepEqual(feeds['x']!.dims, [2, 0]);
  });

  test('symbolic dimensions are not enforced', async () => {
    const bytes = encodeModel({
      name: 'id',
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
    });
    const session = await createSessionFromMemory(bytes);
    try {
      const out = await runModel(session, { x: { type: 'float32', dims: [3, 2], data: [1, 2, 3, 4, 5, 6] } });
      assert.deepEqual(out, { y: { type: 'float32', dims: [3, 2], data: [1, 2, 3, 4, 5, 6] } });
      assert.throws(
        () => tensorsFromJson({ x: { type: 'float32', dims: [3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] } }, session),
        usageError('x', /dimension 1 must be 2/),
      );
    } finally {
      await session.release();
    }
  });
});

describe('round trip through the runtime', () => {
  test('every JSON type survives an Identity model', async () => {
    const values: Record<JsonTensorType, (number | string | boolean)[]> = {
      float32: [0.5, -2, 1e-3],
      float64: [Math.PI, -1e300, 0],
      int32: [-2147483648, 0, 2147483647],
      int64: [(-9007199254740993n).toString(), 42, '9223372036854775807'],
      uint8: [0, 128, 255],
      int8: [-128, 0, 127],
      bool: [true, false, true],
    };
    const types = Object.keys(values) as JsonTensorType[];
    const bytes = encodeModel({
      name: 'identities',
      nodes: types.map((t) => ({ opType: 'Identity', inputs: [`in_${t}`], outputs: [`out_${t}`] })),
      initializers: [],
      inputs: types.map((t) => ({ name: `in_${t}`, type: t as OnnxElemType, shape: [3] })),
      outputs: types.map((t) => ({ name: `out_${t}`, type: t as OnnxElemType, shape: [3] })),
    });
    const session = await createSessionFromMemory(bytes);
    try {
      const inputs = Object.fromEntries(types.map((t) => [`in_${t}`, { type: t, dims: [3], data: values[t] }]));
      const out = await runModel(session, inputs);
      for (const t of types) {
        const got = out[`out_${t}`];
        assert.ok(got, t);
        assert.equal(got.type, t);
        assert.deepEqual(got.dims, [3]);
        const want =
          t === 'int64' ? values[t].map(String) : t === 'float32' ? values[t].map((v) => Math.fround(v as number)) : values[t];
        assert.deepEqual(got.data, want, t);
      }
    } finally {
      await session.release();
    }
  });

  test('runtime failures while running give ModelError', async () => {
    const w = new Uint8Array(4 * 3 * 4);
    const bytes = encodeModel({
      name: 'mm',
      nodes: [{ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
      initializers: [{ name: 'W', type: 'float32', dims: [4, 3], rawData: w }],
      inputs: [{ name: 'x', type: 'float32', shape: ['b', 'k'] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['b', 3] }],
    });
    const session = await createSessionFromMemory(bytes, { logSeverityLevel: 4 });
    try {
      await assert.rejects(runModel(session, { x: { type: 'float32', dims: [1, 5], data: [1, 2, 3, 4, 5] } }), (e) => {
        assert.ok(isModelError(e), String(e));
        assert.match((e as Error).message, /^the model could not be run: /);
        return true;
      });
    } finally {
      await session.release();
    }
  });

  test('tensorsToJson writes non-finite floats as strings and rejects non-JSON types', async () => {
    const ortm = await import('onnxruntime-node');
    const out = tensorsToJson({
      a: new ortm.Tensor('float32', new Float32Array([Number.NaN, Infinity, -Infinity, 1]), [4]),
    });
    assert.deepEqual(out, { a: { type: 'float32', dims: [4], data: ['NaN', 'Infinity', '-Infinity', 1] } });
    assert.throws(() => tensorsToJson({ s: new ortm.Tensor('string', ['a'], [1]) }), isModelError);
  });
});
