#!/usr/bin/env node
// Calibrates the quality gates: distributions of the pixel measures on real
// dataset faces (landmarks from a face-embed.mjs dump), on the same faces
// blurred, darkened and shrunk, and the share of each that the default gates
// refuse.
//
//   node scripts/face-quality-calib.mjs DUMP.json DATASET_DIR [--limit 400]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_QUALITY_GATES, measurePixelQuality, readImageFile } from '../dist/src/biometrics/face/index.js';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string', default: '400' } } });
const [dumpFile, dataset] = positionals;
const dump = JSON.parse(await readFile(dumpFile, 'utf8'));
const recs = dump.records.filter((r) => r.ok);
const step = Math.max(1, Math.floor(recs.length / Number(args.limit)));
const sample = recs.filter((_, i) => i % step === 0);

async function blur(img, sigma) {
  const { data } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).blur(sigma).raw().toBuffer({ resolveWithObject: true });
  return { ...img, data: new Uint8Array(data) };
}
const darken = (img, k) => ({ ...img, data: img.data.map((v) => Math.round(v * k)) });

const variants = { original: [], 'blur sigma 1': [], 'blur sigma 2': [], 'blur sigma 3': [], 'dark x0.25': [], 'dark x0.15': [] };
const ied = [];
for (const r of sample) {
  const img = await readImageFile(path.join(dataset, r.file));
  const five = r.five;
  ied.push(Math.hypot(five[1][0] - five[0][0], five[1][1] - five[0][1]));
  variants.original.push(measurePixelQuality(img, five));
  for (const s of [1, 2, 3]) variants[`blur sigma ${s}`].push(measurePixelQuality(await blur(img, s), five));
  variants['dark x0.25'].push(measurePixelQuality(darken(img, 0.25), five));
  variants['dark x0.15'].push(measurePixelQuality(darken(img, 0.15), five));
}
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const g = DEFAULT_QUALITY_GATES;
console.log(`${dumpFile}: ${sample.length} faces; default gates ${JSON.stringify(g)}`);
console.log(`inter-eye px: p1 ${pct(ied, 0.01).toFixed(1)} p5 ${pct(ied, 0.05).toFixed(1)} median ${pct(ied, 0.5).toFixed(1)}`);
for (const [name, qs] of Object.entries(variants)) {
  const line = ['brightness', 'contrast', 'sharpness']
    .map((k) => {
      const a = qs.map((q) => q[k]);
      return `${k} p1 ${pct(a, 0.01).toFixed(1)} p5 ${pct(a, 0.05).toFixed(1)} p50 ${pct(a, 0.5).toFixed(1)} p95 ${pct(a, 0.95).toFixed(1)}`;
    })
    .join(' | ');
  const refused = qs.filter((q) => q.sharpness < g.minSharpness || q.brightness < g.minBrightness || q.brightness > g.maxBrightness || q.contrast < g.minContrast).length;
  const blurred = qs.filter((q) => q.sharpness < g.minSharpness).length;
  console.log(`${name.padEnd(14)} refused ${((100 * refused) / qs.length).toFixed(1)}% (as blurred ${((100 * blurred) / qs.length).toFixed(1)}%)  ${line}`);
}
if (dump.records[0]?.quality?.yawDeg !== undefined) {
  const yaw = recs.map((r) => Math.abs(r.quality.yawDeg));
  const pitch = recs.map((r) => Math.abs(r.quality.pitchDeg));
  const roll = recs.map((r) => Math.abs(r.quality.rollDeg));
  console.log(`|yaw| p50 ${pct(yaw, 0.5).toFixed(1)} p95 ${pct(yaw, 0.95).toFixed(1)} p99 ${pct(yaw, 0.99).toFixed(1)}; |pitch| p50 ${pct(pitch, 0.5).toFixed(1)} p95 ${pct(pitch, 0.95).toFixed(1)} p99 ${pct(pitch, 0.99).toFixed(1)}; |roll| p95 ${pct(roll, 0.95).toFixed(1)} p99 ${pct(roll, 0.99).toFixed(1)}`);
  const turned = recs.filter((r) => Math.abs(r.quality.yawDeg) > g.maxYawDeg || Math.abs(r.quality.pitchDeg) > g.maxPitchDeg || Math.abs(r.quality.rollDeg) > g.maxRollDeg).length;
  console.log(`refused as turned-away by the default gates: ${((100 * turned) / recs.length).toFixed(1)}% of ${recs.length}`);
}
const live = recs.filter((r) => r.antispoof != null);
if (live.length) {
  const as = live.map((r) => r.antispoof);
  const lv = live.map((r) => r.liveness);
  console.log(`antispoof p5 ${pct(as, 0.05)} p50 ${pct(as, 0.5)}; liveness p5 ${pct(lv, 0.05)} p50 ${pct(lv, 0.5)}`);
}
