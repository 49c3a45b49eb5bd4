#!/usr/bin/env node
// Converts Human's tfjs models to ONNX in memory (src/biometrics/face/tfjs-to-onnx.ts),
// checks each output against tfjs on random input, and times both runtimes.
//
//   node scripts/face-onnx-check.mjs [blazeface facemesh iris antispoof liveness faceres]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { convertTfjsGraphToOnnx } from '../dist/src/biometrics/face/tfjs-to-onnx.js';
import { loadTfjsWasm, packageRoot, allowModelDir } from '../dist/src/biometrics/face/tfjs-runtime.js';

const root = path.join(packageRoot('@vladmandic/human'), 'models');
const tf = await loadTfjsWasm();
await allowModelDir(root);
const converter = createRequire(import.meta.url)('@tensorflow/tfjs-converter');
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['blazeface', 'facemesh', 'iris', 'antispoof', 'liveness', 'faceres'];
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const name of names) {
  const json = JSON.parse(await readFile(path.join(root, name + '.json'), 'utf8'));
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(root, p))));
  const model = await converter.loadGraphModel('file://' + path.join(root, name + '.json'));
  const outs = name === 'faceres' ? ['global_pooling/Mean'] : model.outputs.map((o) => o.name);
  const shape = model.inputs[0].shape.map((d) => (d < 0 ? 1 : d));
  let t0 = performance.now();
  const onnx = convertTfjsGraphToOnnx(json, shards, outs, shape);
  const convMs = performance.now() - t0;
  const sess = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random() * 2 - 1);
  const xt = tf.tensor(x, shape);
  const ref = model.execute(xt, outs);
  const refs = await Promise.all((Array.isArray(ref) ? ref : [ref]).map((t) => t.data()));
  const res = await sess.run({ input: new ort.Tensor('float32', x, shape) });
  const got = outs.length === 1 ? [res.output] : outs.map((_, i) => res[`output_${i}`]);
  const diffs = refs.map((r, i) => {
    let d = 0, m = 0;
    for (let k = 0; k < r.length; k++) { d = Math.max(d, Math.abs(r[k] - got[i].data[k])); m = Math.max(m, Math.abs(r[k])); }
    return `${outs[i].split('/').pop()} ${got[i].dims.join('x')} maxdiff ${d.toExponential(1)} (max ${m.toFixed(2)})${got[i].data.length !== r.length ? ' LENGTH MISMATCH' : ''}`;
  });
  const to = [], tt = [];
  for (let i = 0; i < 20; i++) { t0 = performance.now(); await sess.run({ input: new ort.Tensor('float32', x, shape) }); to.push(performance.now() - t0); }
  for (let i = 0; i < 8; i++) { t0 = performance.now(); const r = model.execute(xt, outs); for (const t of Array.isArray(r) ? r : [r]) { await t.data(); t.dispose(); } tt.push(performance.now() - t0); }
  console.log(`${name.padEnd(10)} ${JSON.stringify(shape)} convert ${convMs.toFixed(0)} ms; onnxruntime ${med(to).toFixed(1)} ms vs tfjs-wasm ${med(tt).toFixed(1)} ms (median); ${diffs.join('; ')}`);
  await sess.release();
  xt.dispose();
  tf.dispose(ref);
  model.dispose();
}
