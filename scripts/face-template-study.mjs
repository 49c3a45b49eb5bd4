// Sizes the protected face template on dumped embeddings (scripts/face-embed.mjs):
// for each person, enrol from the first E images, probe with the rest (genuine)
// and with every image of everyone else (impostor); report bit error rates and
// how often the fuzzy commitment decodes, for several code sizes.
//   node scripts/face-template-study.mjs EMBEDDINGS.json [--cohort COHORT.json] [--enrol 5]
import { readFileSync } from 'node:fs';
import { projectEmbedding, selectReliableBits, templateBits } from '../dist/src/biometrics/template/cancelable.js';
import { bchCode } from '../dist/src/biometrics/template/fuzzy-commitment.js';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const E = Number(opt('--enrol', '5'));
const data = JSON.parse(readFileSync(file, 'utf8'));
const decode = (b64) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.length / 4).slice(); };
const records = data.records.filter((r) => r.ok && r.embedding).map((r) => ({ person: r.person, e: decode(r.embedding) }));
const people = [...new Set(records.map((r) => r.person))];
let cohortMean;
const cohortFile = opt('--cohort');
if (cohortFile) cohortMean = Float32Array.from(JSON.parse(readFileSync(cohortFile, 'utf8')).mean);
else {
  cohortMean = new Float32Array(records[0].e.length);
  for (const r of records) r.e.forEach((v, i) => (cohortMean[i] += v / records.length));
  console.log('(cohort mean: all records of this dataset; pass --cohort for a disjoint one)');
}
const outputs = Number(opt('--outputs', '2048'));
const configs = (opt('--configs', '8x1,8x2,9x1,10x1')).split(',').map((c) => { const [m, blocks] = c.split('x').map(Number); return { m, blocks }; });
const ts = (opt('--t', '18,22,25,27,29,30,31')).split(',').map(Number);
const enrolments = [];
for (const p of people) {
  const mine = records.filter((r) => r.person === p);
  if (mine.length <= E) continue;
  const seed = randomBytes(32);
  const proj = { seed, outputs };
  enrolments.push({ person: p, proj, enrolP: mine.slice(0, E).map((r) => projectEmbedding(r.e, cohortMean, proj)), probes: mine.slice(E) });
}
console.log(`${enrolments.length} people enrolled from ${E} images; projected outputs ${outputs}`);
for (const c of configs) {
  const n = (1 << c.m) - 1;
  const L = n * c.blocks;
  const gen = []; const imp = [];
  // per-block max error fraction (decoding needs every block within t)
  for (const en of enrolments) {
    const sel = selectReliableBits(en.enrolP, L, c.blocks);
    const dist = (e) => {
      const bits = templateBits(projectEmbedding(e, cohortMean, en.proj), sel.indices);
      let worst = 0;
      for (let b = 0; b < c.blocks; b++) { let d = 0; for (let i = b * n; i < (b + 1) * n; i++) d += bits[i] ^ sel.reference[i]; worst = Math.max(worst, d); }
      return worst;
    };
    for (const pr of en.probes) gen.push(dist(pr.e));
    for (const r of records) if (r.person !== en.person) imp.push(dist(r.e));
  }
  gen.sort((a, b) => a - b); imp.sort((a, b) => a - b);
  const pct = (a, q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];
  console.log(`\nm=${c.m} blocks=${c.blocks} (${L} bits): worst-block errors genuine mean ${(gen.reduce((a, b) => a + b, 0) / gen.length).toFixed(1)} p95 ${pct(gen, 0.95)} max ${gen.at(-1)}; impostor min ${imp[0]} p1 ${pct(imp, 0.01)} mean ${(imp.reduce((a, b) => a + b, 0) / imp.length).toFixed(1)}  [n=${gen.length}/${imp.length}]`);
  // Daugman's degrees of freedom: the impostor distances behave like a binomial
  // with N independent bits; N bounds what a guessing attacker faces.
  const f = imp.map((d) => d / n); const mf = f.reduce((a, b) => a + b, 0) / f.length;
  const vf = f.reduce((a, b) => a + (b - mf) ** 2, 0) / f.length;
  const dof = (mf * (1 - mf)) / vf;
  console.log(`  impostor fraction mean ${mf.toFixed(3)} sd ${Math.sqrt(vf).toFixed(3)} -> ${dof.toFixed(0)} degrees of freedom`);
  const tsFor = c.m === 8 ? ts : (c.m === 9 ? [40, 50, 55, 58, 59, 61, 62] : [80, 100, 110, 115, 120]);
  for (const t of tsFor) {
    let code; try { code = bchCode(c.m, t); } catch { continue; }
    // log2 of 1 / P[Binomial(dof, mf) <= dof * t/n]: bits an attacker guessing faces must pay
    const kk = Math.floor((dof * t) / n); let cdf = 0; let lg = 0;
    for (let j = 0; j <= kk; j++) { lg = lgamma(dof + 1) - lgamma(j + 1) - lgamma(dof - j + 1) + j * Math.log(mf) + (dof - j) * Math.log(1 - mf); cdf += Math.exp(lg); }
    const bits = -Math.log2(cdf);
    const g = gen.filter((d) => d <= t).length / gen.length;
    const i = imp.filter((d) => d <= t).length;
    console.log(`  t=${t} k=${code.k} msgbits=${code.k * c.blocks}: genuine recovery ${(100 * g).toFixed(1)}%  impostor recoveries ${i}/${imp.length}  binomial-model bits ${bits.toFixed(1)}`);
  }
}

function lgamma(x) { // Lanczos approximation
  const g = 7, c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1; let a = c[0]; const t = x + g + 0.5; for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
