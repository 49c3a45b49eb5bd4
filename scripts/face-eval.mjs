#!/usr/bin/env node
// Verification accuracy from embedding dumps written by scripts/face-embed.mjs.
//
//   node scripts/face-eval.mjs /tmp/orl-human.json [/tmp/orl-faceapi.json ...] [--cohort-from /tmp/lfw-human.json]
//        [--bootstrap 1000] [--json OUT.json] [--seed 1]
//
// For every dump: all same-person pairs (genuine) and all different-person
// pairs (impostor) of the images where a face was found, scored by
//   raw     cosine similarity of the embeddings;
//   centred cosine after subtracting a cohort mean of unit embeddings computed
//           from OTHER people than the two compared (exact leave-the-pair's-people-out
//           mean over the rest of the dump);
//   centred-ext (with --cohort-from) the cohort mean of another dump (a disjoint set
//           of people, e.g. LFW for ORL): the set-up a shipped product would use.
// Reports EER, FNMR at FMR 1e-3 / 1e-4 / 2e-5 (threshold = the score the
// floor(FMR x impostors)+1-th highest impostor reaches; accept above it), with
// 95% confidence intervals from a bootstrap over people (each drawn person's
// genuine pairs weigh by its draw count, impostor pairs by the product of the
// two draw counts), failure-to-acquire (no face / several faces) and time per image.
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values: args, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    'cohort-from': { type: 'string' },
    bootstrap: { type: 'string', default: '1000' },
    json: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
if (files.length === 0) {
  console.error('usage: node scripts/face-eval.mjs DUMP.json [...] [--cohort-from OTHER.json] [--bootstrap N] [--json OUT]');
  process.exit(2);
}
const FMRS = [1e-3, 1e-4, 2e-5];

function decode(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
function normalize(v) {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}
async function loadDump(file) {
  const d = JSON.parse(await readFile(file, 'utf8'));
  const ok = d.records.filter((r) => r.ok);
  const people = [...new Set(ok.map((r) => r.person))];
  const pIdx = new Map(people.map((p, i) => [p, i]));
  const D = d.dimensions;
  const X = new Float32Array(ok.length * D);
  ok.forEach((r, i) => X.set(normalize(decode(r.embedding)), i * D));
  return { d, ok, people, person: Uint32Array.from(ok.map((r) => pIdx.get(r.person))), X, D, N: ok.length };
}
function meanOf(dump) {
  const m = new Float64Array(dump.D);
  for (let i = 0; i < dump.N; i++) for (let k = 0; k < dump.D; k++) m[k] += dump.X[i * dump.D + k];
  return m.map((x) => x / dump.N);
}
function dot(A, i, B, j, D) {
  let s = 0;
  const a = i * D;
  const b = j * D;
  for (let k = 0; k < D; k++) s += A[a + k] * B[b + k];
  return s;
}

/** All pair scores: raw, leave-out centred, and (optionally) centred on an external mean. */
function scorePairs(dump, extMean) {
  const { N, D, X, person } = dump;
  const P = dump.people.length;
  // Per-person sums S_p and G[i][p] = u_i . S_p, for the exact leave-out cohort mean.
  const Sp = new Float64Array(P * D);
  const n = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    n[person[i]]++;
    for (let k = 0; k < D; k++) Sp[person[i] * D + k] += X[i * D + k];
  }
  const Spf = Float32Array.from(Sp);
  const G = new Float64Array(N * P);
  for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) G[i * P + p] = dot(X, i, Spf, p, D);
  const uS = new Float64Array(N);
  for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) uS[i] += G[i * P + p];
  const PP = new Float64Array(P * P); // S_a . S_b
  for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) PP[person[i] * P + p] += G[i * P + p];
  const SS = new Float64Array(P); // S . S_p
  for (let p = 0; p < P; p++) for (let q = 0; q < P; q++) SS[p] += PP[q * P + p];
  let SSall = 0;
  for (let p = 0; p < P; p++) SSall += SS[p];
  // External cohort: v_i = normalize(u_i - m).
  let V = null;
  if (extMean) {
    V = new Float32Array(N * D);
    for (let i = 0; i < N; i++) {
      let nn = 0;
      for (let k = 0; k < D; k++) {
        const x = X[i * D + k] - extMean[k];
        V[i * D + k] = x;
        nn += x * x;
      }
      nn = Math.sqrt(nn) || 1;
      for (let k = 0; k < D; k++) V[i * D + k] /= nn;
    }
  }
  const pairs = (N * (N - 1)) / 2;
  const raw = new Float64Array(pairs);
  const cen = new Float64Array(pairs);
  const ext = V ? new Float64Array(pairs) : null;
  const pa = new Uint32Array(pairs);
  const pb = new Uint32Array(pairs);
  let t = 0;
  for (let i = 0; i < N; i++) {
    const A = person[i];
    for (let j = i + 1; j < N; j++, t++) {
      const B = person[j];
      const s = dot(X, i, X, j, D);
      raw[t] = s;
      pa[t] = A;
      pb[t] = B;
      // Cohort = everyone but A and B.
      let c, ua, ub, mm;
      if (A === B) {
        c = N - n[A];
        ua = (uS[i] - G[i * P + A]) / c;
        ub = (uS[j] - G[j * P + A]) / c;
        mm = (SSall - 2 * SS[A] + PP[A * P + A]) / (c * c);
      } else {
        c = N - n[A] - n[B];
        ua = (uS[i] - G[i * P + A] - G[i * P + B]) / c;
        ub = (uS[j] - G[j * P + A] - G[j * P + B]) / c;
        mm = (SSall + PP[A * P + A] + PP[B * P + B] - 2 * SS[A] - 2 * SS[B] + 2 * PP[A * P + B]) / (c * c);
      }
      cen[t] = (s - ua - ub + mm) / Math.sqrt((1 - 2 * ua + mm) * (1 - 2 * ub + mm));
      if (ext) ext[t] = dot(V, i, V, j, D);
    }
  }
  return { raw, cen, ext, pa, pb };
}

function splitSorted(scores, pa, pb) {
  let ng = 0;
  for (let t = 0; t < scores.length; t++) if (pa[t] === pb[t]) ng++;
  const gen = new Float64Array(ng);
  const genP = new Uint32Array(ng);
  const imp = new Float64Array(scores.length - ng);
  const impA = new Uint32Array(scores.length - ng);
  const impB = new Uint32Array(scores.length - ng);
  let g = 0;
  let m = 0;
  for (let t = 0; t < scores.length; t++) {
    if (pa[t] === pb[t]) {
      gen[g] = scores[t];
      genP[g++] = pa[t];
    } else {
      imp[m] = scores[t];
      impA[m] = pa[t];
      impB[m++] = pb[t];
    }
  }
  const gi = Uint32Array.from({ length: ng }, (_, i) => i).sort((x, y) => gen[x] - gen[y]); // ascending
  const ii = Uint32Array.from({ length: imp.length }, (_, i) => i).sort((x, y) => imp[y] - imp[x]); // descending
  return {
    gen: Float64Array.from(gi, (i) => gen[i]),
    genP: Uint32Array.from(gi, (i) => genP[i]),
    imp: Float64Array.from(ii, (i) => imp[i]),
    impA: Uint32Array.from(ii, (i) => impA[i]),
    impB: Uint32Array.from(ii, (i) => impB[i]),
  };
}

/** Weighted metrics; w = per-person weights (all 1 for the point estimate). */
function metrics(s, w) {
  const { gen, genP, imp, impA, impB } = s;
  let Wg = 0;
  for (let i = 0; i < gen.length; i++) Wg += w[genP[i]];
  let Wi = 0;
  // Total impostor weight = sum over person pairs of w_a w_b n_a n_b; computed by a pass (cheap enough).
  for (let i = 0; i < imp.length; i++) Wi += w[impA[i]] * w[impB[i]];
  const out = { fnmr: {}, thr: {} };
  // FNMR at FMR x: walk impostors from the top until their weight exceeds x * Wi.
  for (const x of FMRS) {
    const allowed = x * Wi;
    let acc = 0;
    let k = 0;
    while (k < imp.length && acc + w[impA[k]] * w[impB[k]] <= allowed) {
      acc += w[impA[k]] * w[impB[k]];
      k++;
    }
    const thr = k < imp.length ? imp[k] : -Infinity;
    let rej = 0;
    for (let i = 0; i < gen.length && gen[i] <= thr; i++) rej += w[genP[i]];
    out.fnmr[x] = rej / Wg;
    out.thr[x] = thr;
  }
  // EER: lower the threshold through the impostor scores until FMR >= FNMR.
  let accI = 0;
  let gPtr = gen.length; // genuine at index >= gPtr are above the threshold
  let accG = Wg; // genuine weight <= threshold
  // Start with threshold at +inf: FMR 0, FNMR 1.
  let prevF = 0;
  let prevR = 1;
  out.eer = 0.5;
  for (let k = 0; k < imp.length; k++) {
    const thr = imp[k];
    // threshold just below imp[k]: impostors 0..k accepted, genuine > thr accepted
    while (gPtr > 0 && gen[gPtr - 1] > thr) {
      gPtr--;
      accG -= w[genP[gPtr]];
    }
    accI += w[impA[k]] * w[impB[k]];
    const fmr = accI / Wi;
    const fnmr = accG / Wg;
    if (fmr >= fnmr) {
      out.eer = (Math.min(fmr, prevR) + Math.max(fnmr, prevF)) / 2;
      out.eerThr = thr;
      break;
    }
    prevF = fmr;
    prevR = fnmr;
  }
  return out;
}

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function evaluate(sorted, P, B, seed) {
  const point = metrics(sorted, new Float64Array(P).fill(1));
  const rand = rng(seed);
  const reps = { eer: [], ...Object.fromEntries(FMRS.map((x) => [x, []])) };
  for (let b = 0; b < B; b++) {
    const w = new Float64Array(P);
    for (let i = 0; i < P; i++) w[Math.floor(rand() * P)]++;
    const m = metrics(sorted, w);
    reps.eer.push(m.eer);
    for (const x of FMRS) reps[x].push(m.fnmr[x]);
  }
  const ci = (a) => {
    if (a.length === 0) return null;
    const s = [...a].sort((x, y) => x - y);
    return [s[Math.floor(0.025 * (s.length - 1))], s[Math.ceil(0.975 * (s.length - 1))]];
  };
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  return {
    genuine_comparisons: sorted.gen.length,
    impostor_comparisons: sorted.imp.length,
    eer: point.eer,
    eer_ci95: ci(reps.eer),
    eer_threshold: point.eerThr,
    fnmr_at_fmr: Object.fromEntries(FMRS.map((x) => [x.toExponential(0).replace('e-', 'e-'), point.fnmr[x]])),
    fnmr_at_fmr_ci95: Object.fromEntries(FMRS.map((x) => [x.toExponential(0), ci(reps[x])])),
    threshold_at_fmr: Object.fromEntries(FMRS.map((x) => [x.toExponential(0), point.thr[x]])),
    genuine_mean: mean(sorted.gen),
    genuine_p05: sorted.gen[Math.floor(0.05 * sorted.gen.length)],
    impostor_mean: mean(sorted.imp),
    impostor_max: sorted.imp[0],
  };
}

const B = Number(args.bootstrap);
const extMean = args['cohort-from'] ? meanOf(await loadDump(args['cohort-from'])) : null;
const results = [];
for (const file of files) {
  const t0 = performance.now();
  const dump = await loadDump(file);
  const recs = dump.d.records;
  const fails = recs.filter((r) => !r.ok);
  const failBy = {};
  for (const r of fails) failBy[r.error.code] = (failBy[r.error.code] ?? 0) + 1;
  const times = dump.ok.map((r) => r.analyzeMs).sort((a, b) => a - b);
  const sc = scorePairs(dump, extMean && extMean.length === dump.D ? extMean : null);
  const res = {
    file,
    embedder: dump.d.embedder,
    dataset: dump.d.dataset,
    images: recs.length,
    people: dump.people.length,
    failure_to_acquire: fails.length / recs.length,
    failures: failBy,
    ms_per_image_median: times[Math.floor(times.length / 2)],
    load_ms: dump.d.loadMs,
    scoring: {},
  };
  for (const [name, scores] of [['raw', sc.raw], ['centred', sc.cen], ...(sc.ext ? [['centred-ext', sc.ext]] : [])]) {
    res.scoring[name] = evaluate(splitSorted(scores, sc.pa, sc.pb), dump.people.length, B, Number(args.seed));
  }
  res.eval_s = (performance.now() - t0) / 1000;
  results.push(res);
  const pct = (v) => (v == null ? '-' : (100 * v).toFixed(2) + '%');
  const ci = (c) => (c ? `[${pct(c[0])}, ${pct(c[1])}]` : '');
  console.log(`\n${file}: ${res.embedder}, ${res.images} images of ${res.people} people, FTA ${pct(res.failure_to_acquire)} ${JSON.stringify(failBy)}, median ${res.ms_per_image_median} ms/image (loaded machine, see bench)`);
  for (const [name, r] of Object.entries(res.scoring)) {
    console.log(
      `  ${name.padEnd(12)} gen ${r.genuine_comparisons} imp ${r.impostor_comparisons}  EER ${pct(r.eer)} ${ci(r.eer_ci95)}  ` +
        FMRS.map((x) => `FNMR@${x.toExponential(0)} ${pct(r.fnmr_at_fmr[x.toExponential(0)])} ${ci(r.fnmr_at_fmr_ci95[x.toExponential(0)])}`).join('  ') +
        `  (gen mean ${r.genuine_mean.toFixed(3)}, imp mean ${r.impostor_mean.toFixed(3)}, imp max ${r.impostor_max.toFixed(3)})`,
    );
  }
}
if (args.json) await writeFile(args.json, JSON.stringify(results, null, 2));
