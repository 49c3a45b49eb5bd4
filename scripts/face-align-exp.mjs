#!/usr/bin/env node
// Research: FaceRes on crops aligned from the 5 FaceMesh landmarks of a
// face-embed.mjs dump, at several zooms of the ArcFace framing, with and
// without flip test-time augmentation. Writes one dump per variant, in the
// face-embed.mjs format, for face-eval.mjs. (FaceRes runs on onnxruntime via
// the in-memory tfjs->ONNX conversion; it matched tfjs to 1.4e-6.)
//
//   node scripts/face-align-exp.mjs DUMP.json DATASET_DIR OUT_PREFIX [zooms=1,1.25,1.5] [--flip]
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { alignFace, faceResRecognizer, l2Normalize, readImageFile } from '../dist/src/biometrics/face/index.js';

const [dumpFile, dataset, outPrefix, zoomArg] = process.argv.slice(2);
const flip = process.argv.includes('--flip');
const zooms = (zoomArg && !zoomArg.startsWith('--') ? zoomArg : '1,1.25,1.5').split(',').map(Number);
const rec = await faceResRecognizer();
const size = rec.align.size;
const dump = JSON.parse(await readFile(dumpFile, 'utf8'));
const variants = zooms.flatMap((z) => [{ z, flip: false }, ...(flip ? [{ z, flip: true }] : [])]);
const outs = variants.map(() => ({ ...dump, records: [] }));
const b64 = (e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64');
let n = 0;
const t0 = performance.now();
for (const r of dump.records) {
  if (!r.ok) continue;
  const img = await readImageFile(path.join(dataset, r.file));
  for (const z of zooms) {
    const spec = { size, zoom: z };
    const [e, m] = await rec.embed([alignFace(img, r.five, spec), ...(flip ? [alignFace(img, r.five, spec, true)] : [])]);
    variants.forEach((v, vi) => {
      if (v.z !== z) return;
      let out = e;
      if (v.flip) {
        const u = l2Normalize(e);
        const w = l2Normalize(m);
        out = u.map((x, i) => x + w[i]);
      }
      outs[vi].records.push({ person: r.person, file: r.file, ok: true, embedding: b64(out) });
    });
  }
  if (++n % 200 === 0) console.error(n, ((performance.now() - t0) / n).toFixed(0), 'ms/image');
}
for (const [vi, v] of variants.entries()) {
  const f = `${outPrefix}-z${v.z}${v.flip ? '-flip' : ''}.json`;
  outs[vi].embedder = `faceres-aligned-z${v.z}${v.flip ? '-flip' : ''}`;
  outs[vi].dimensions = rec.dimensions;
  await writeFile(f, JSON.stringify(outs[vi]));
  console.error('wrote', f);
}
