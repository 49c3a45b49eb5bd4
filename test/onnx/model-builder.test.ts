import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { UsageError } from '../../src/errors.js';
import {
  DEMO_BIAS,
  DEMO_WEIGHTS,
  buildDemoModel,
  buildLargeModel,
  createSessionFromMemory,
  encodeModel,
  largeModelSide,
  largeModelWeights,
  runModel,
} from '../../src/onnx/index.js';

/** Minimal protobuf reader: top-level fields of a message as [fieldNumber, varint | bytes]. */
function readFields(buf: Uint8Array): [number, bigint | Uint8Array][] {
  const out: [number, bigint | Uint8Array][] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      assert.ok(b !== undefined, 'truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire === 0) out.push([tag >> 3, varint()]);
    else if (wire === 2) {
      const len = Number(varint());
      out.push([tag >> 3, buf.subarray(pos, pos + len)]);
      pos += len;
    } else assert.fail(`unexpected wire type ${wire}`);
  }
  assert.equal(pos, buf.length);
  return out;
}

const text = (v: bigint | Uint8Array | undefined): string => new TextDecoder().decode(v as Uint8Array);

function demoReference(x: readonly number[]): number[] {
  const logits = DEMO_BIAS.map((b, j) => x.reduce((acc, xi, i) => acc + xi * DEMO_WEIGHTS[i]![j]!, b));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

test('demo model bytes are deterministic and use the ONNX field numbers', () => {
  const a = buildDemoModel();
  const b = buildDemoModel();
  assert.deepEqual(a, b);

  const model = readFields(a);
  assert.deepEqual(
    model.map(([n]) => n),
    [1, 2, 7, 8],
  );
  assert.equal(model[0]![1], 8n); // ir_version
  assert.equal(text(model[1]![1]), 'bioseal'); // producer_name
  const opset = readFields(model[3]![1] as Uint8Array);
  assert.deepEqual(opset, [
    [1, new Uint8Array(0)],
    [2, 17n],
  ]);

  const graph = readFields(model[2]![1] as Uint8Array);
  const nodes = graph.filter(([n]) => n === 1).map(([, v]) => readFields(v as Uint8Array));
  assert.deepEqual(
    nodes.map((f) => text(f.find(([n]) => n === 4)?.[1])),
    ['MatMul', 'Add', 'Softmax'],
  );
  // Softmax axis attribute: name=1 "axis", i=3 -1 (two's complement), type=20 INT
  const attr = readFields(nodes[2]!.find(([n]) => n === 5)![1] as Uint8Array);
  assert.equal(text(attr[0]![1]), 'axis');
  assert.equal(BigInt.asIntN(64, attr[1]![1] as bigint), -1n);
  assert.deepEqual(attr[2], [20, 2n]);

  const inits = graph.filter(([n]) => n === 5).map(([, v]) => readFields(v as Uint8Array));
  assert.equal(inits.length, 2);
  assert.deepEqual(inits[0]!.slice(0, 4), [
    [1, 4n],
    [1, 3n],
    [2, 1n],
    [8, new TextEncoder().encode('W')],
  ]);
  const raw = inits[0]![4]![1] as Uint8Array;
  assert.equal(raw.length, 48);
  assert.equal(new DataView(raw.buffer, raw.byteOffset).getFloat32(4, true), DEMO_WEIGHTS[0]![1]);
  assert.equal(graph.filter(([n]) => n === 11).length, 1);
  assert.equal(graph.filter(([n]) => n === 12).length, 1);
});

test('demo model loads from memory and computes softmax(x·W+b)', async () => {
  const session = await createSessionFromMemory(buildDemoModel());
  try {
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['probabilities']);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 4 }),
        async (x) => {
          const out = await runModel(session, { input: { type: 'float32', dims: [1, 4], data: x } });
          const p = out['probabilities'];
          assert.ok(p);
          assert.equal(p.type, 'float32');
          assert.deepEqual(p.dims, [1, 3]);
          const got = p.data as number[];
          const sum = got.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `sum ${sum}`);
          const want = demoReference(x.map(Math.fround));
          got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5, `p[${i}] ${g} vs ${want[i]}`));
        },
      ),
      { numRuns: 50 },
    );
  } finally {
    await session.release();
  }
});

test('buildLargeModel(1e6) loads and matches a plain JS matmul', async () => {
  const bytes = buildLargeModel({ sizeBytes: 1e6, seed: 42 });
  const n = largeModelSide(1e6);
  assert.equal(n, 500);
  assert.ok(bytes.length >= 1e6);
  assert.deepEqual(buildLargeModel({ sizeBytes: 1e6, seed: 42 }), bytes);
  assert.notDeepEqual(buildLargeModel({ sizeBytes: 1e6, seed: 43 }), bytes);

  const session = await createSessionFromMemory(bytes);
  try {
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['output']);
    const x = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 0.5));
    const out = await runModel(session, { input: { type: 'float32', dims: [1, n], data: x } });
    const got = out['output']!;
    assert.deepEqual(got.dims, [1, n]);

    const next = largeModelWeights(n, 42);
    const want = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      for (let j = 0; j < n; j++) want[j] = want[j]! + xi * next();
    }
    let maxAbs = 0;
    for (const w of want) maxAbs = Math.max(maxAbs, Math.abs(w));
    assert.ok(maxAbs > 0.01, 'weights are not all tiny');
    (got.data as number[]).forEach((g, j) => assert.ok(Math.abs(g - want[j]!) < 1e-4, `y[${j}] ${g} vs ${want[j]}`));
  } finally {
    await session.release();
  }
});

test('largeModelSide picks the smallest n with 4n² >= sizeBytes', () => {
  assert.equal(largeModelSide(0), 1);
  assert.equal(largeModelSide(4), 1);
  assert.equal(largeModelSide(5), 2);
  assert.equal(largeModelSide(16), 2);
  assert.equal(largeModelSide(17), 3);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000_000 }), (size) => {
      const n = largeModelSide(size);
      return 4 * n * n >= size && (n === 1 || 4 * (n - 1) * (n - 1) < size);
    }),
  );
});

test('buildLargeModel rejects unusable sizes with UsageError', () => {
  for (const sizeBytes of [-1, Number.NaN, Number.POSITIVE_INFINITY, 3 * 2 ** 30]) {
    assert.throws(() => buildLargeModel({ sizeBytes }), (e: unknown) => e instanceof UsageError && e.code === 'E_USAGE');
  }
  assert.throws(() => buildLargeModel({ sizeBytes: 16, seed: 1.5 }), UsageError);
});

test('encodeModel writes symbolic dims and checks its description', async () => {
  const bytes = encodeModel({
    name: 'identity',
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    initializers: [],
    inputs: [{ name: 'x', type: 'int64', shape: ['batch', 2] }],
    outputs: [{ name: 'y', type: 'int64', shape: ['batch', 2] }],
  });
  const session = await createSessionFromMemory(bytes);
  try {
    assert.deepEqual(session.inputMetadata, [{ name: 'x', isTensor: true, type: 'int64', shape: ['batch', 2] }]);
  } finally {
    await session.release();
  }
  const base = { name: 'g', nodes: [], inputs: [], outputs: [] };
  assert.throws(
    () => encodeModel({ ...base, initializers: [{ name: 'w', type: 'float32', dims: [2], rawData: new Uint8Array(4) }] }),
    UsageError,
  );
  assert.throws(
    () => encodeModel({ ...base, initializers: [{ name: 'w', type: 'float32', dims: [-1], rawData: new Uint8Array(0) }] }),
    UsageError,
  );
  assert.throws(() => encodeModel({ ...base, initializers: [], inputs: [{ name: '', type: 'bool', shape: [] }] }), UsageError);
});
