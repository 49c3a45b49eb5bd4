#!/usr/bin/env node
// Dumps face embeddings of a dataset (one folder per person) to a JSON file,
// so that template and threshold research can run without the models.
//
//   node scripts/face-embed.mjs --dataset ../shared/data/orl-faces --out /tmp/orl-human.json
//   node scripts/face-embed.mjs --dataset ../shared/data/lfw --max-per-person 10 --out /tmp/lfw-human.json
//   options: --embedder human|face-api (default human), --max-per-person N (default: all),
//            --min-per-person N (default 2: people with fewer usable files are skipped),
//            --limit-people N, --no-liveness, --no-iris, --flip (flip test-time augmentation),
//            --recognizer faceres|human-native (default faceres: aligned crop, FaceRes on onnxruntime;
//            human-native: Human's own crop and FaceRes on tfjs),
//            --multiple-faces reject|largest (default reject; LFW needs largest: its photos often show
//            other people beside the subject, who is the largest face)
//
// Output format ("bioseal-face-embeddings/1"):
//   { format, embedder, dimensions, dataset, createdAt, loadMs, warmupMs, selection, host,
//     records: [ { person, file, ok, error?: { code, reason?, message },
//                  embedding?: base64 of float32 little-endian (dimensions values, as the model outputs them, not normalised),
//                  detectionScore, antispoof, liveness, pose: {yaw,pitch,roll} (degrees),
//                  eyes: {left,right} (eye aspect ratios), quality: {...}, box, five, decodeMs, analyzeMs } ] }
//   Read an embedding: Python np.frombuffer(base64.b64decode(r["embedding"]), "<f4");
//   Node new Float32Array(Uint8Array.from(Buffer.from(r.embedding, "base64")).buffer).
// People are the sub-folders, sorted by name; a person's files are sorted in natural order
// (ORL's 1..10, LFW's _0001..) and the first --max-per-person are taken.
import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceApiEmbedder, HumanEmbedder, readImageFile } from '../dist/src/biometrics/face/index.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    out: { type: 'string' },
    embedder: { type: 'string', default: 'human' },
    'max-per-person': { type: 'string' },
    'min-per-person': { type: 'string', default: '2' },
    'limit-people': { type: 'string' },
    'no-liveness': { type: 'boolean', default: false },
    'no-iris': { type: 'boolean', default: false },
    'multiple-faces': { type: 'string', default: 'reject' },
    recognizer: { type: 'string', default: 'faceres' },
    flip: { type: 'boolean', default: false },
  },
});
if (!args.dataset || !args.out) {
  console.error('usage: node scripts/face-embed.mjs --dataset DIR --out FILE.json [--embedder human|face-api] [--max-per-person N]');
  process.exit(2);
}
const maxPer = args['max-per-person'] ? Number(args['max-per-person']) : Infinity;
const minPer = Number(args['min-per-person']);
const collator = new Intl.Collator('en', { numeric: true });
const imageExt = /\.(jpe?g|png|webp|pgm|ppm)$/i;

const people = (await readdir(args.dataset, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort(collator.compare)
  .slice(0, args['limit-people'] ? Number(args['limit-people']) : undefined);
const jobs = [];
for (const person of people) {
  const files = (await readdir(path.join(args.dataset, person))).filter((f) => imageExt.test(f)).sort(collator.compare).slice(0, maxPer);
  if (files.length < minPer) continue;
  for (const f of files) jobs.push({ person, file: path.join(person, f) });
}

const embedder =
  args.embedder === 'face-api'
    ? await FaceApiEmbedder.create()
    : await HumanEmbedder.create({ liveness: !args['no-liveness'], iris: !args['no-iris'], recognizer: args.recognizer, flip: args.flip });
console.error(`${embedder.name}: loaded in ${embedder.loadMs.toFixed(0)} ms; ${jobs.length} images of ${new Set(jobs.map((j) => j.person)).size} people`);

const round = (v, d = 4) => (typeof v === 'number' ? Math.round(v * 10 ** d) / 10 ** d : v);
const roundObj = (o) => (o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)])) : o);
const records = [];
const t0 = performance.now();
let failed = 0;
for (const [i, job] of jobs.entries()) {
  const rec = { person: job.person, file: job.file, ok: false };
  try {
    const d0 = performance.now();
    const img = await readImageFile(path.join(args.dataset, job.file));
    rec.decodeMs = round(performance.now() - d0, 2);
    const a = await embedder.analyze(img, { multipleFaces: args['multiple-faces'] });
    rec.ok = true;
    rec.embedding = Buffer.from(a.embedding.buffer, a.embedding.byteOffset, a.embedding.byteLength).toString('base64');
    rec.detectionScore = round(a.detectionScore);
    rec.antispoof = round(a.antispoof);
    rec.liveness = round(a.liveness);
    rec.pose = roundObj(a.pose);
    rec.eyes = roundObj(a.eyes);
    rec.quality = roundObj(a.quality);
    rec.box = roundObj(a.box);
    rec.five = a.landmarks.five.map((p) => p.map((v) => round(v, 1)));
    rec.faceCount = a.faceCount;
    rec.analyzeMs = round(a.elapsedMs, 2);
  } catch (err) {
    failed++;
    rec.error = { code: err.code ?? 'E_UNKNOWN', reason: err.reason, message: err.message };
  }
  records.push(rec);
  if ((i + 1) % 50 === 0 || i + 1 === jobs.length) {
    const el = (performance.now() - t0) / 1000;
    console.error(`${i + 1}/${jobs.length} (${failed} failed) ${el.toFixed(0)} s, ${((1000 * el) / (i + 1)).toFixed(0)} ms/image`);
  }
}
const out = {
  format: 'bioseal-face-embeddings/1',
  embedder: embedder.name,
  dimensions: embedder.dimensions,
  dataset: path.resolve(args.dataset),
  createdAt: new Date().toISOString(),
  loadMs: round(embedder.loadMs, 1),
  warmupMs: round(embedder.warmupMs ?? 0, 1),
  multipleFaces: args['multiple-faces'],
  selection: { maxPerPerson: Number.isFinite(maxPer) ? maxPer : null, minPerPerson: minPer, order: 'people by name; files in natural order, first N' },
  host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
  records,
};
await writeFile(args.out, JSON.stringify(out));
await embedder.dispose();
console.error(`wrote ${args.out}: ${records.length} records, ${failed} failed`);
