#!/usr/bin/env node
// Equivalence of the two face engines: HumanEmbedder (Human on tfjs WASM +
// FaceRes on onnxruntime) and OrtFaceEmbedder (every model on onnxruntime,
// Human's pre/post-processing ported). For each image: box IoU, landmark
// distance (pixels), embedding cosine, anti-spoof / liveness / pose / eye
// differences, and whether both engines agree on errors (no face, several faces).
//
//   node scripts/face-ort-compare.mjs [--fixtures] [--dataset DIR --per-person N --people N]... [--json OUT]
//   e.g. node scripts/face-ort-compare.mjs --fixtures --dataset ../shared/data/orl-faces --people 40 --per-person 3 \
//          --dataset ../shared/data/lfw --people 150 --per-person 2
import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { HumanEmbedder, cosineSimilarity, mirrorImage, readImageFile, resizeImage } from '../dist/src/biometrics/face/index.js';
import { OrtFaceEmbedder } from '../dist/src/biometrics/face/ort/embedder.js';
import { FACES, faceCrop, samplePhoto } from '../dist/test/biometrics/face/fixtures.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'boolean', default: false },
    dataset: { type: 'string', multiple: true, default: [] },
    'per-person': { type: 'string', default: '2' },
    people: { type: 'string', default: '50' },
    json: { type: 'string' },
  },
});

async function rotated(img, deg) {
  const { data, info } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .rotate(deg, { background: { r: 90, g: 90, b: 90 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** [label, image, analyze options] */
async function* fixtureImages() {
  for (const [k, f] of Object.entries(FACES)) {
    const img = await faceCrop(f);
    yield [`fixture ${k}`, img];
    yield [`fixture ${k} mirrored`, mirrorImage(img)];
    yield [`fixture ${k} 200px`, await resizeImage(img, 200, 200)];
    for (const deg of [-30, -15, 20, 35]) yield [`fixture ${k} rotated ${deg}`, await rotated(img, deg)];
    yield [`fixture ${k} ORL-style grey 92x112`, await faceCrop(f, { margin: 1.0, width: 92, height: 112, grey: true })];
  }
  for (const n of [1, 2, 3, 4, 5, 6]) {
    yield [`group photo ${n}`, await samplePhoto(n, 960)];
    yield [`group photo ${n} largest`, await samplePhoto(n, 960), { multipleFaces: 'largest' }];
  }
}

async function* datasetImages(dir) {
  const collator = new Intl.Collator('en', { numeric: true });
  const people = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort(collator.compare);
  const step = Math.max(1, Math.floor(people.length / Number(args.people)));
  for (let i = 0; i < people.length; i += step) {
    const files = (await readdir(path.join(dir, people[i]))).filter((f) => /\.(jpe?g|png|pgm|ppm)$/i.test(f)).sort(collator.compare);
    for (const f of files.slice(0, Number(args['per-person']))) yield [`${path.basename(dir)}/${people[i]}/${f}`, await readImageFile(path.join(dir, people[i], f)), { multipleFaces: 'largest' }];
  }
}

function iou(a, b) {
  const x1 = Math.max(a.x, b.x), y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width), y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

const settle = (p) => p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e }));
const human = await HumanEmbedder.create();
const ort = await OrtFaceEmbedder.create();
const rows = [];
const sources = [...(args.fixtures ? [fixtureImages()] : []), ...args.dataset.map((d) => datasetImages(d))];
for (const source of sources) {
  for await (const [label, img, opts] of source) {
    const [h, o] = [await settle(human.analyze(img, opts)), await settle(ort.analyze(img, opts))];
    if (!h.ok || !o.ok) {
      const agree = !h.ok && !o.ok && h.e.code === o.e.code && h.e.count === o.e.count;
      rows.push({ label, agree, human: h.ok ? 'face' : `${h.e.code}${h.e.count ? ` (${h.e.count})` : ''}`, ort: o.ok ? 'face' : `${o.e.code}${o.e.count ? ` (${o.e.count})` : ''}` });
      continue;
    }
    const a = h.v, b = o.v;
    const d = a.landmarks.all.map((p, i) => Math.hypot(p[0] - b.landmarks.all[i][0], p[1] - b.landmarks.all[i][1]));
    rows.push({
      label,
      agree: true,
      boxIoU: iou(a.box, b.box),
      landmarkMaxPx: Math.max(...d),
      landmarkMeanPx: d.reduce((x, y) => x + y, 0) / d.length,
      cosine: cosineSimilarity(a.embedding, b.embedding),
      antispoofDiff: Math.abs(a.antispoof - b.antispoof),
      livenessDiff: Math.abs(a.liveness - b.liveness),
      poseDiffDeg: Math.max(Math.abs(a.pose.yaw - b.pose.yaw), Math.abs(a.pose.pitch - b.pose.pitch), Math.abs(a.pose.roll - b.pose.roll)),
      eyeDiff: Math.max(Math.abs(a.eyes.left - b.eyes.left), Math.abs(a.eyes.right - b.eyes.right)),
      scoreDiff: Math.abs(a.detectionScore - b.detectionScore),
      faceCount: [a.faceCount, b.faceCount],
      humanMs: a.elapsedMs,
      ortMs: b.elapsedMs,
    });
  }
}
await human.dispose();
await ort.dispose();

const faces = rows.filter((r) => r.cosine !== undefined);
const q = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const summary = {
  images: rows.length,
  facesCompared: faces.length,
  errorsAgree: rows.filter((r) => r.cosine === undefined && r.agree).length,
  disagreements: rows.filter((r) => !r.agree).map((r) => `${r.label}: human ${r.human}, ort ${r.ort}`),
  identicalLandmarks: faces.filter((r) => r.landmarkMaxPx === 0).length,
  cosine: { min: Math.min(...faces.map((r) => r.cosine)), p01: q(faces.map((r) => r.cosine), 0.01), median: q(faces.map((r) => r.cosine), 0.5) },
  boxIoU: { min: Math.min(...faces.map((r) => r.boxIoU)), median: q(faces.map((r) => r.boxIoU), 0.5) },
  landmarkMaxPx: { max: Math.max(...faces.map((r) => r.landmarkMaxPx)), p99: q(faces.map((r) => r.landmarkMaxPx), 0.99) },
  landmarkMeanPx: { max: Math.max(...faces.map((r) => r.landmarkMeanPx)) },
  antispoofDiffMax: Math.max(...faces.map((r) => r.antispoofDiff)),
  livenessDiffMax: Math.max(...faces.map((r) => r.livenessDiff)),
  poseDiffDegMax: Math.max(...faces.map((r) => r.poseDiffDeg)),
  eyeDiffMax: Math.max(...faces.map((r) => r.eyeDiff)),
  detectionScoreDiffMax: Math.max(...faces.map((r) => r.scoreDiff)),
  medianMs: { human: q(faces.map((r) => r.humanMs), 0.5), ort: q(faces.map((r) => r.ortMs), 0.5) },
  loadavg: os.loadavg(),
};
for (const r of faces.filter((x) => x.cosine < 0.9999 || x.landmarkMaxPx > 2)) console.log(`  differs: ${r.label} cos ${r.cosine.toFixed(5)} landmarks max ${r.landmarkMaxPx.toFixed(1)} px IoU ${r.boxIoU.toFixed(3)}`);
console.log(JSON.stringify(summary, null, 2));
if (args.json) await writeFile(args.json, JSON.stringify({ summary, rows }, null, 2));
