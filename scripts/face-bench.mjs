#!/usr/bin/env node
// Speed of the face engine on this machine: model load (reported apart),
// then one 640x480 camera-like frame, detection + landmarks + liveness +
// embedding, after warm-up; plus where the time goes (each model alone, on
// tfjs WASM as Human runs it and on onnxruntime as OrtFaceEmbedder runs it).
//
//   node scripts/face-bench.mjs [--frames 30] [--variants all|none|<name prefix>] [--json OUT.json]
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { HumanEmbedder, OrtFaceEmbedder, alignFace, faceResRecognizer, FACERES_ALIGN } from '../dist/src/biometrics/face/index.js';
import { loadHumanModel, runModel } from '../dist/src/biometrics/face/ort/models.js';
import { allowModelDir, loadTfjsWasm, packageRoot } from '../dist/src/biometrics/face/tfjs-runtime.js';
import { FACES, faceCrop } from '../dist/test/biometrics/face/fixtures.js';

const { values: args } = parseArgs({ options: { frames: { type: 'string', default: '30' }, json: { type: 'string' }, variants: { type: 'string', default: 'all' } } });
const FRAMES = Number(args.frames);

/** A 640x480 frame: a textured background with one face (about 140 px box) near the centre. */
async function frame640() {
  const face = await faceCrop(FACES.a, { size: 320, margin: 1.8 });
  const bg = Buffer.alloc(640 * 480 * 3);
  for (let y = 0; y < 480; y++) for (let x = 0; x < 640; x++) {
    const v = 60 + ((x * 7 + y * 3) % 50) + 30 * Math.sin(x / 37) * Math.cos(y / 23);
    bg.fill(Math.max(0, Math.min(255, Math.round(v))), (y * 640 + x) * 3, (y * 640 + x) * 3 + 3);
  }
  const { data } = await sharp(bg, { raw: { width: 640, height: 480, channels: 3 } })
    .composite([{ input: Buffer.from(face.data), raw: { width: face.width, height: face.height, channels: 3 }, left: 160, top: 80 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: 640, height: 480, data: new Uint8Array(data) };
}

function stats(ts) {
  const s = [...ts].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { min: +s[0].toFixed(1), median: +q(0.5).toFixed(1), p90: +q(0.9).toFixed(1), n: s.length };
}

async function time(fn, n = FRAMES, warm = 5) {
  for (let i = 0; i < warm; i++) await fn();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return stats(ts);
}

const result = { host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavgBefore: os.loadavg() }, frame: '640x480, one face', variants: {}, models: {} };
const img = await frame640();

const variants = [
  ['ort (default: every model on onnxruntime)', {}, OrtFaceEmbedder],
  ['ort without iris (not equivalent)', { iris: false }, OrtFaceEmbedder],
  ['human (faceres on ORT, aligned; iris; anti-spoof + liveness)', {}],
  ['no iris', { iris: false }],
  ['no anti-spoof/liveness', { liveness: false }],
  ['flip TTA', { flip: true }],
  ['human-native (FaceRes on tfjs WASM, Human crop)', { recognizer: 'human-native' }],
];
for (const [name, opts, Engine = HumanEmbedder] of variants) {
  if (args.variants !== 'all' && !name.startsWith(args.variants)) continue;
  const e = await Engine.create(opts);
  const one = await e.analyze(img);
  const t = await time(() => e.analyze(img));
  result.variants[name] = { embedder: e.name, loadMs: +e.loadMs.toFixed(0), warmupMs: +e.warmupMs.toFixed(0), perFrameMs: t, faceBox: one.box };
  console.log(`${name.padEnd(52)} load ${e.loadMs.toFixed(0)} ms (+ warm-up ${e.warmupMs.toFixed(0)} ms); per frame min ${t.min} / median ${t.median} / p90 ${t.p90} ms`);
  await e.dispose();
}

// Each model alone, on inputs of its own size.
const tf = await loadTfjsWasm();
const root = packageRoot('@vladmandic/human');
await allowModelDir(path.join(root, 'models'));
const converter = createRequire(import.meta.url)('@tensorflow/tfjs-converter');
for (const name of ['blazeface', 'facemesh', 'iris', 'antispoof', 'liveness', 'faceres']) {
  const m = await converter.loadGraphModel('file://' + path.join(root, 'models', name + '.json'));
  const shape = m.inputs[0].shape.map((d) => (d < 0 ? 1 : d));
  const x = tf.randomUniform(shape, 0, 1);
  const reps = name === 'iris' ? 2 : 1; // Human runs iris on each eye
  const t = await time(async () => {
    for (let r = 0; r < reps; r++) {
      const out = m.execute(x);
      for (const o of Array.isArray(out) ? out : [out]) await o.data();
      tf.dispose(out);
    }
  }, 15, 3);
  result.models[`${name} (tfjs wasm${reps > 1 ? ', x2 eyes' : ''}) ${JSON.stringify(shape)}`] = t;
  x.dispose();
  m.dispose();
}
// The same models on onnxruntime (2 threads), as OrtFaceEmbedder converts and runs them.
const ortModels = [
  ['blazeface', ['Identity', 'Identity_2', 'Identity_1', 'Identity_3'], 256, 1],
  ['facemesh', ['Identity_2', 'Identity_1'], 192, 1],
  ['iris', ['Identity'], 64, 2],
  ['antispoof', ['Identity'], 128, 1],
  ['liveness', ['Identity'], 32, 1],
];
for (const [name, outputs, side, batch] of ortModels) {
  const m = await loadHumanModel(path.join(root, 'models'), name, outputs, [1, side, side, 3], 2);
  const x = new ort.Tensor('float32', new Float32Array(batch * side * side * 3).fill(0.5), [batch, side, side, 3]);
  result.models[`${name} (onnxruntime, 2 threads${batch > 1 ? ', both eyes' : ''}) [${batch},${side},${side},3]`] = await time(() => runModel(m, x), 15, 3);
  await m.session.release();
}
const rec = await faceResRecognizer();
const crop = alignFace(img, [[250, 250], [290, 250], [270, 275], [255, 300], [285, 300]], FACERES_ALIGN);
result.models['faceres (onnxruntime, 2 threads) [1,224,224,3]'] = await time(() => rec.embed([crop]), 15, 3);
result.models['alignFace 224 px (JS)'] = await time(() => alignFace(img, [[250, 250], [290, 250], [270, 275], [255, 300], [285, 300]], FACERES_ALIGN), 15, 3);
await rec.dispose();
for (const [k, v] of Object.entries(result.models)) console.log(`  ${k.padEnd(62)} min ${v.min} / median ${v.median} ms`);
result.host.loadavgAfter = os.loadavg();
console.log(`load average before ${result.host.loadavgBefore.map((v) => v.toFixed(1)).join(' ')}, after ${result.host.loadavgAfter.map((v) => v.toFixed(1)).join(' ')} (${result.host.cpus} cores)`);
if (args.json) await writeFile(args.json, JSON.stringify(result, null, 2));
