/**
 * `bioseal eval face`: verification accuracy and face-secret recovery on a
 * dataset laid out as one folder per person.
 *
 * Protocol: each person with more than `enrol` usable images is enrolled
 * from their first `enrol` images. Genuine comparisons: each of their other
 * images against their enrolment. Impostor comparisons: every image of every
 * other person against the enrolment. Scores are cosine similarities between
 * the cohort-centred probe and the centred mean of the enrolment embeddings.
 * Secret recovery runs the real protected template (fuzzy commitment) on the
 * same comparisons; it decodes without the final Argon2id stretch, which is
 * deterministic and does not change whether a face is recovered.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FaceAnalysis, FaceEmbedder } from '../biometrics/face/embedder.js';
import { centreEmbedding, cosineSimilarity, meanEmbedding } from '../biometrics/face/similarity.js';
import { enrolTemplate, decodesTemplate, freshBits, type TemplateParams } from '../biometrics/template/protected-template.js';

/** Probes within this many bit errors beyond t of the enrolled bits still go through the real decoder. */
const DECODE_MARGIN = 12;
import { projectEmbedding, selectReliableBits } from '../biometrics/template/cancelable.js';
import { messageBits, templateLength } from '../biometrics/template/fuzzy-commitment.js';
import type { Cohort } from '../biometrics/template/cohort.js';
import { bootstrapBySubject, equalErrorRate, fnmrAtFmr, type Interval, type ScoreSets } from './metrics.js';
import { IOError, UsageError } from '../errors.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|pgm|ppm|pnm|bmp|tiff?)$/i;

export interface DatasetPerson {
  readonly id: string;
  readonly images: readonly string[];
}

/** People (sub-folders) and their images in natural order, capped per person. */
export function listDataset(dir: string, maxPerPerson = Infinity, exclude: ReadonlySet<string> = new Set()): DatasetPerson[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new IOError(`${dir}: cannot read the dataset folder (${(error as Error).message})`);
  }
  const people: DatasetPerson[] = [];
  for (const name of names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    if (exclude.has(name)) continue;
    const p = path.join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    const images = readdirSync(p)
      .filter((f) => IMAGE_EXT.test(f))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .slice(0, maxPerPerson)
      .map((f) => path.join(p, f));
    if (images.length) people.push({ id: name, images });
  }
  if (people.length < 2) throw new UsageError(`${dir} needs at least two person folders with images`);
  return people;
}

export interface AnalysedImage {
  readonly person: string;
  readonly file: string;
  readonly embedding: Float32Array;
}

export interface FaceEvalOptions {
  readonly enrol: number;
  readonly cohort?: Cohort;
  readonly params: TemplateParams;
  readonly fmrTargets: readonly number[];
  readonly bootstrap?: number;
  readonly onProgress?: (done: number, total: number, stage: string) => void;
}

export interface FaceEvalReport {
  readonly people: number;
  readonly images: number;
  readonly eer: number;
  readonly eer_ci: Interval;
  readonly fnmr_at_fmr: Record<string, number>;
  readonly fnmr_at_fmr_ci: Record<string, Interval>;
  /** False when the impostor set is too small to resolve that FMR. */
  readonly fmr_resolvable: Record<string, boolean>;
  readonly threshold_at_fmr: Record<string, number>;
  readonly genuine_comparisons: number;
  readonly impostor_comparisons: number;
  readonly secret_recovery_genuine: number;
  readonly secret_recovery_impostor: number;
  readonly secret_recoveries_impostor: number;
  readonly template: { readonly bits: number; readonly m: number; readonly t: number; readonly blocks: number; readonly messageBits: number };
  /** Mean share of agreeing template bits: same person under two seeds, and different people. */
  readonly unlinkability: { readonly same_person_two_seeds: number; readonly different_people: number; readonly same_person_same_seed: number };
  readonly scores: ScoreSets;
}

/** "1e-3", "1e-4", "2e-5": the keys of the report's per-FMR figures. */
function fmrKey(f: number): string {
  return f.toExponential(0);
}

/** Runs the protocol on analysed images. */
export async function evaluateFaces(images: readonly AnalysedImage[], o: FaceEvalOptions): Promise<FaceEvalReport> {
  const byPerson = new Map<string, AnalysedImage[]>();
  for (const im of images) byPerson.set(im.person, [...(byPerson.get(im.person) ?? []), im]);
  const centre = (e: Float32Array) => (o.cohort ? centreEmbedding(e, o.cohort.mean) : e);
  const enrolled = [...byPerson.entries()].filter(([, list]) => list.length > o.enrol);
  if (enrolled.length < 2) throw new UsageError(`fewer than two people have more than ${o.enrol} usable images`);
  const perSubject = new Map<string, ScoreSets>();
  const genuine: number[] = [];
  const impostor: number[] = [];
  let recoveredG = 0;
  let recoveredI = 0;
  let probesG = 0;
  let probesI = 0;
  const unlink = { sameTwoSeeds: 0, sameSeed: 0, different: 0, nTwo: 0, nSame: 0, nDiff: 0 };
  const centredAll = images.map((im) => ({ person: im.person, file: im.file, raw: im.embedding, c: centre(im.embedding) }));
  let done = 0;
  for (const [person, list] of enrolled) {
    const enrolSet = list.slice(0, o.enrol);
    const reference = meanEmbedding(enrolSet.map((x) => centre(x.embedding)));
    const { template, secret } = await enrolTemplate(enrolSet.map((x) => x.embedding), { embedder: 'eval', cohortMean: o.cohort?.mean, params: o.params });
    secret.fill(0);
    const g: number[] = [];
    const imp: number[] = [];
    // The enrolled template bits, recomputed exactly as enrolment chose them
    // (majority sign at the selected coordinates), to skip hopeless decodes.
    const enrolProj = enrolSet.map((x) => projectEmbedding(x.embedding, o.cohort?.mean, template.projection));
    const enrolledBits = Uint8Array.from(template.indices, (j) => (enrolProj.reduce((sum, p) => sum + p[j]!, 0) > 0 ? 1 : 0));
    const n = (1 << o.params.m) - 1;
    const worstBlock = (bits: Uint8Array) => {
      let worst = 0;
      for (let b = 0; b < o.params.blocks; b++) {
        let d = 0;
        for (let i = b * n; i < (b + 1) * n; i++) d += bits[i]! ^ enrolledBits[i]!;
        worst = Math.max(worst, d);
      }
      return worst;
    };
    for (const probe of centredAll) {
      if (probe.person === person && enrolSet.some((x) => x.file === probe.file)) continue;
      const score = cosineSimilarity(probe.c, reference);
      // A BCH decoder with designed distance 2t+1 cannot return the enrolled
      // message for a word more than t errors away in any block; the real
      // decoder runs on everything within a margin of that bound.
      const far = worstBlock(freshBits(template, probe.raw, o.cohort?.mean)) > o.params.t + DECODE_MARGIN;
      const decodes = !far && decodesTemplate(template, probe.raw, o.cohort?.mean) !== undefined;
      if (probe.person === person) {
        g.push(score);
        probesG++;
        if (decodes) recoveredG++;
      } else {
        imp.push(score);
        probesI++;
        if (decodes) recoveredI++;
      }
    }
    genuine.push(...g);
    impostor.push(...imp);
    perSubject.set(person, { genuine: g, impostor: imp });
    // Unlinkability: the same enrolment images under two seeds, against the same seed and another person.
    const bits = templateLength(o.params);
    const bitsUnder = (seed: Uint8Array, set: AnalysedImage[]) => {
      const proj = { seed, outputs: o.params.projectedOutputs };
      const projections = set.map((x) => projectEmbedding(x.embedding, o.cohort?.mean, proj));
      return { sel: selectReliableBits(projections, bits, o.params.blocks), projections };
    };
    const agree = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + (v === b[i] ? 1 : 0), 0) / a.length;
    const seedA = template.projection.seed;
    const seedB = new Uint8Array(32).map((_, i) => (seedA[i]! ^ 0x5a) & 0xff);
    const a = bitsUnder(seedA, enrolSet);
    const b = bitsUnder(seedB, enrolSet);
    // The same coordinates read from two projections: positions chosen under seed A.
    const readAt = (projections: Float64Array[], idx: Uint32Array) => {
      const mean = new Float64Array(idx.length);
      for (const p of projections) idx.forEach((j, i) => (mean[i]! += p[j]!));
      return Uint8Array.from(mean, (v) => (v > 0 ? 1 : 0));
    };
    unlink.sameTwoSeeds += agree(a.sel.reference, readAt(b.projections, a.sel.indices));
    unlink.nTwo++;
    const heldOut = list.slice(o.enrol);
    const heldProj = heldOut.map((x) => projectEmbedding(x.embedding, o.cohort?.mean, { seed: seedA, outputs: o.params.projectedOutputs }));
    unlink.sameSeed += agree(a.sel.reference, readAt(heldProj, a.sel.indices));
    unlink.nSame++;
    const other = enrolled.find(([p]) => p !== person)![1].slice(0, o.enrol);
    const otherProj = other.map((x) => projectEmbedding(x.embedding, o.cohort?.mean, { seed: seedA, outputs: o.params.projectedOutputs }));
    unlink.different += agree(a.sel.reference, readAt(otherProj, a.sel.indices));
    unlink.nDiff++;
    o.onProgress?.(++done, enrolled.length, 'comparing');
  }
  const scores = { genuine, impostor };
  const reps = { replicates: o.bootstrap ?? 200, seed: 7 };
  const fnmr: Record<string, number> = {};
  const fnmrCi: Record<string, Interval> = {};
  const resolvable: Record<string, boolean> = {};
  const thresholds: Record<string, number> = {};
  for (const f of o.fmrTargets) {
    const k = fmrKey(f);
    const p = fnmrAtFmr(scores, f);
    fnmr[k] = p.fnmr;
    resolvable[k] = p.resolvable;
    thresholds[k] = p.threshold;
    fnmrCi[k] = bootstrapBySubject(perSubject, (s) => fnmrAtFmr(s, f).fnmr, reps);
  }
  return {
    people: enrolled.length,
    images: images.length,
    eer: equalErrorRate(scores).eer,
    eer_ci: bootstrapBySubject(perSubject, (s) => equalErrorRate(s).eer, reps),
    fnmr_at_fmr: fnmr,
    fnmr_at_fmr_ci: fnmrCi,
    fmr_resolvable: resolvable,
    threshold_at_fmr: thresholds,
    genuine_comparisons: genuine.length,
    impostor_comparisons: impostor.length,
    secret_recovery_genuine: probesG ? recoveredG / probesG : 0,
    secret_recovery_impostor: probesI ? recoveredI / probesI : 0,
    secret_recoveries_impostor: recoveredI,
    template: { bits: templateLength(o.params), m: o.params.m, t: o.params.t, blocks: o.params.blocks, messageBits: messageBits(o.params) },
    unlinkability: {
      same_person_two_seeds: unlink.sameTwoSeeds / unlink.nTwo,
      same_person_same_seed: unlink.sameSeed / unlink.nSame,
      different_people: unlink.different / unlink.nDiff,
    },
    scores,
  };
}

/** Analyses every image, skipping (and counting) those the engine refuses. */
export async function analyseDataset(
  people: readonly DatasetPerson[],
  embedder: FaceEmbedder,
  read: (file: string) => Promise<Parameters<FaceEmbedder['analyze']>[0]>,
  onProgress?: (done: number, total: number, stage: string) => void,
): Promise<{ images: AnalysedImage[]; failures: { file: string; code: string }[]; msPerImage: number }> {
  const total = people.reduce((s, p) => s + p.images.length, 0);
  const images: AnalysedImage[] = [];
  const failures: { file: string; code: string }[] = [];
  let done = 0;
  let ms = 0;
  for (const p of people) {
    for (const file of p.images) {
      try {
        const a: FaceAnalysis = await embedder.analyze(await read(file));
        ms += a.elapsedMs;
        images.push({ person: p.id, file, embedding: a.embedding });
      } catch (error) {
        failures.push({ file, code: (error as { code?: string }).code ?? 'E_INTERNAL' });
      }
      onProgress?.(++done, total, 'analysing');
    }
  }
  return { images, failures, msPerImage: images.length ? ms / images.length : 0 };
}
