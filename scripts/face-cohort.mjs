// Computes the cohort mean shipped in data/cohorts/EMBEDDER.json from an
// embeddings dump (scripts/face-embed.mjs or `bioseal eval face --embeddings`):
// the mean of the unit-normalised embeddings of the first N people, whose names are recorded so that
// evaluations can leave them out.
//   node scripts/face-cohort.mjs EMBEDDINGS.json [--people 250]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';

const [file, ...rest] = process.argv.slice(2);
const n = Number(rest[rest.indexOf('--people') + 1] ?? 250) || 250;
const dump = JSON.parse(readFileSync(file, 'utf8'));
const people = [...new Set(dump.records.filter((r) => r.ok && r.embedding).map((r) => r.person))].sort().slice(0, n);
const chosen = new Set(people);
let mean;
let count = 0;
for (const r of dump.records) {
  if (!r.ok || !r.embedding || !chosen.has(r.person)) continue;
  const b = Buffer.from(r.embedding, 'base64');
  const e = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  // A mean of unit vectors, as centreEmbedding expects.
  const norm = Math.sqrt(e.reduce((a, v) => a + v * v, 0)) || 1;
  mean ??= new Float64Array(e.length);
  e.forEach((v, i) => (mean[i] += v / norm));
  count++;
}
const values = Array.from(mean, (v) => +(v / count).toPrecision(7));
const digest = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 12);
mkdirSync('data/cohorts', { recursive: true });
const out = `data/cohorts/${dump.embedder}.json`;
writeFileSync(out, JSON.stringify({ id: `lfw-${people.length}p-${digest}`, embedder: dump.embedder, source: 'LFW deep-funneled, first people by name', people, images: count, mean: values }) + '\n');
console.log(`wrote ${out}: mean of ${count} images of ${people.length} people (${people[0]} .. ${people.at(-1)})`);
