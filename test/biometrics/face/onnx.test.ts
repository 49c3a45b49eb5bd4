/**
 * The embedding path: alignment (align.ts), the in-memory tfjs -> ONNX
 * conversion of FaceRes (tfjs-to-onnx.ts) and the onnxruntime recogniser
 * (recognizer.ts). What a user depends on: the converted model computes what
 * the original computes, alignment puts the landmarks where the model
 * expects them, and a bad user-supplied model is refused with a typed error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';

import { ModelError, UsageError } from '../../../src/errors.js';
import { alignFace, alignTemplate, ARCFACE_TEMPLATE_112, fitSimilarity } from '../../../src/biometrics/face/align.js';
import type { FaceLandmarks, Point } from '../../../src/biometrics/face/embedder.js';
import { FACERES_ALIGN, faceResRecognizer, OnnxFaceRecognizer } from '../../../src/biometrics/face/recognizer.js';
import { allowModelDir, loadTfjsWasm, packageRoot } from '../../../src/biometrics/face/tfjs-runtime.js';
import { convertTfjsGraphToOnnx, type TfjsGraphJson } from '../../../src/biometrics/face/tfjs-to-onnx.js';
import { FACES, faceCrop } from './fixtures.js';

describe('alignment', () => {
  test('fitSimilarity recovers any rotation, scale and shift exactly', () => {
    fc.assert(
      fc.property(fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }), fc.double({ min: 0.2, max: 5, noNaN: true }), fc.double({ min: -500, max: 500, noNaN: true }), fc.double({ min: -500, max: 500, noNaN: true }), (th, s, tx, ty) => {
        const a = s * Math.cos(th);
        const b = s * Math.sin(th);
        const dst = ARCFACE_TEMPLATE_112.map(([u, v]) => [a * u - b * v + tx, b * u + a * v + ty] as const);
        const got = fitSimilarity(ARCFACE_TEMPLATE_112, dst);
        const want = [a, b, tx, ty];
        got.forEach((g, i) => {
          const w = want[i] as number;
          assert.ok(Math.abs(g - w) < 1e-6 * Math.max(1, Math.abs(w)), `${g} vs ${w}`);
        });
      }),
      { numRuns: 200 },
    );
  });

  test('the aligned crop takes each landmark pixel to its template position', () => {
    // An image whose pixel value encodes its own coordinates.
    const W = 300;
    const H = 300;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x % 256, y % 256, 0], (y * W + x) * 3);
    const tpl = alignTemplate({ size: 112, zoom: 1 });
    // Landmarks = template scaled 1.5x and shifted: the crop is a pure scale + shift.
    const five = tpl.map(([u, v]) => [u * 1.5 + 40, v * 1.5 + 30] as const) as unknown as FaceLandmarks['five'];
    const crop = alignFace({ width: W, height: H, data }, five, { size: 112, zoom: 1 });
    for (const [u, v] of [[10, 20], [56, 56], [100, 90]] as Point[]) {
      const o = (v * 112 + u) * 3;
      assert.ok(Math.abs((crop[o] as number) - (u * 1.5 + 40)) < 1e-3, `x at ${u},${v}`);
      assert.ok(Math.abs((crop[o + 1] as number) - (v * 1.5 + 30)) < 1e-3, `y at ${u},${v}`);
    }
    const mirrored = alignFace({ width: W, height: H, data }, five, { size: 112, zoom: 1 }, true);
    assert.equal(mirrored[0], crop[111 * 3]);
  });
});

describe('FaceRes converted to ONNX', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bioseal-face-onnx-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('computes the same 1024-d descriptor as the tfjs original, on a real aligned face', async () => {
    const rec = await faceResRecognizer();
    try {
      assert.equal(rec.dimensions, 1024);
      const face = await faceCrop(FACES.b, { size: 320 });
      // Landmarks roughly where a frontal face sits in this crop; exactness is irrelevant here.
      const five: FaceLandmarks['five'] = [[130, 150], [190, 150], [160, 185], [138, 215], [182, 215]];
      const crop = alignFace(face, five, FACERES_ALIGN);
      const [onnx] = await rec.embed([crop]);
      const tf = await loadTfjsWasm();
      const modelDir = path.join(packageRoot('@vladmandic/human'), 'models');
      await allowModelDir(modelDir);
      const converter = createRequire(import.meta.url)('@tensorflow/tfjs-converter') as { loadGraphModel(url: string): Promise<{ execute(x: unknown, out: string): { data(): Promise<Float32Array>; dispose(): void }; dispose(): void }> };
      const model = await converter.loadGraphModel('file://' + path.join(modelDir, 'faceres.json'));
      const x = tf.tensor4d(crop, [1, 224, 224, 3]);
      const y = model.execute(x, 'global_pooling/Mean');
      const ref = await y.data();
      x.dispose();
      y.dispose();
      model.dispose();
      assert.ok(onnx);
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs((ref[i] as number) - (onnx[i] as number)));
      assert.ok(maxDiff < 1e-4, `max difference ${maxDiff}`);
    } finally {
      await rec.dispose();
    }
  });

  test('the liveness, anti-spoof and iris models convert too (PReLU, Pad, MaxPool, Reshape, Concat, Softmax) and match tfjs', async () => {
    const tf = await loadTfjsWasm();
    const modelDir = path.join(packageRoot('@vladmandic/human'), 'models');
    await allowModelDir(modelDir);
    const converter = createRequire(import.meta.url)('@tensorflow/tfjs-converter') as {
      loadGraphModel(url: string): Promise<{ outputs: { name: string }[]; inputs: { shape: number[] }[]; execute(x: unknown, out: string[]): { data(): Promise<Float32Array> }[] | { data(): Promise<Float32Array> }; dispose(): void }>;
    };
    const ort = await import('onnxruntime-node');
    for (const name of ['liveness', 'antispoof', 'iris']) {
      const json = JSON.parse(await readFile(path.join(modelDir, `${name}.json`), 'utf8')) as TfjsGraphJson;
      const bin = await readFile(path.join(modelDir, `${name}.bin`));
      const model = await converter.loadGraphModel('file://' + path.join(modelDir, `${name}.json`));
      const outs = model.outputs.map((o) => o.name);
      const shape = (model.inputs[0]?.shape ?? []).map((d) => (d < 0 ? 1 : d));
      const onnx = convertTfjsGraphToOnnx(json, [bin], outs, shape);
      let seed = 3;
      const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
      const xt = tf.tensor(x, shape);
      const y = model.execute(xt, outs);
      const ref = await Promise.all((Array.isArray(y) ? y : [y]).map((t) => t.data()));
      const session = await ort.InferenceSession.create(onnx);
      const got = await session.run({ input: new ort.Tensor('float32', x, shape) });
      ref.forEach((r, i) => {
        const g = (outs.length === 1 ? got['output'] : got[`output_${i}`])?.data as Float32Array;
        assert.equal(g.length, r.length, name);
        let maxDiff = 0;
        let maxAbs = 0;
        for (let k = 0; k < r.length; k++) {
          maxDiff = Math.max(maxDiff, Math.abs((r[k] as number) - (g[k] as number)));
          maxAbs = Math.max(maxAbs, Math.abs(r[k] as number));
        }
        assert.ok(maxDiff <= 1e-4 * Math.max(1, maxAbs), `${name} output ${i}: max difference ${maxDiff} (max ${maxAbs})`);
      });
      await session.release();
      xt.dispose();
      model.dispose();
    }
  });

  test("per-channel PReLU is written without onnxruntime's PRelu, which leaves its blocked layout", async () => {
    const root = path.join(packageRoot('@vladmandic/human'), 'models');
    for (const [name, side] of [['facemesh', 192], ['iris', 64]] as const) {
      const json = JSON.parse(await readFile(path.join(root, `${name}.json`), 'utf8')) as TfjsGraphJson;
      const bin = await readFile(path.join(root, `${name}.bin`));
      assert.ok(json.modelTopology.node.some((n) => n.op === 'Prelu'), `${name} has PReLU layers`);
      const onnx = Buffer.from(convertTfjsGraphToOnnx(json, [bin], 'Identity', [1, side, side, 3]));
      assert.equal(onnx.includes('PRelu'), false, name);
      assert.ok(onnx.includes('BatchNormalization'), name);
    }
  });

  test('a PReLU slope that is not per-channel is refused, not mistranslated', async () => {
    const root = path.join(packageRoot('@vladmandic/human'), 'models');
    const json = JSON.parse(await readFile(path.join(root, 'iris.json'), 'utf8')) as TfjsGraphJson;
    const bin = await readFile(path.join(root, 'iris.bin'));
    const prelu = json.modelTopology.node.find((n) => n.op === 'Prelu');
    const slope = json.weightsManifest.flatMap((g) => g.weights).find((w) => w.name === prelu?.input?.[1]);
    assert.ok(slope, 'the first PReLU has a constant slope');
    const channels = slope.shape.reduce((a, b) => a * b, 1);
    slope.shape = [1, 2, channels / 2];
    assert.throws(() => convertTfjsGraphToOnnx(json, [bin], 'Identity', [1, 64, 64, 3]), (e: unknown) => e instanceof ModelError && /per-channel/.test(e.message));
  });

  test('an operator outside the supported set is refused, not mistranslated', async () => {
    const root = path.join(packageRoot('@vladmandic/human'), 'models');
    const json = JSON.parse(await readFile(path.join(root, 'faceres.json'), 'utf8')) as TfjsGraphJson;
    const bin = await readFile(path.join(root, 'faceres.bin'));
    const node = json.modelTopology.node.find((n) => n.op === 'Relu');
    assert.ok(node);
    node.op = 'Elu';
    assert.throws(() => convertTfjsGraphToOnnx(json, [bin], 'global_pooling/Mean', [1, 224, 224, 3]), (e: unknown) => e instanceof ModelError && /Elu/.test(e.message));
    assert.throws(() => convertTfjsGraphToOnnx(json, [bin.subarray(0, 1000)], 'global_pooling/Mean', [1, 224, 224, 3]), ModelError);
  });

  test('a user-supplied model that is not ONNX is E_MODEL; a missing one E_USAGE', async () => {
    const bad = path.join(dir, 'arcface.onnx');
    await writeFile(bad, 'not a model');
    await assert.rejects(OnnxFaceRecognizer.fromFile(bad), ModelError);
    await assert.rejects(OnnxFaceRecognizer.fromFile(path.join(dir, 'missing.onnx')), UsageError);
  });
});
