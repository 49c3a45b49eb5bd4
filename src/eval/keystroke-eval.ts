/**
 * `bioseal eval keystroke`: the fixed-phrase keystroke detector measured on
 * MEU-Mobile KSD (a CSV, one row per typing of ".tie5Roanl", rows of a
 * subject in the order typed), under the protocol of Killourhy & Maxion
 * (DSN 2009) as ../shared/data/README.md fixes it for MEU:
 *
 * - per subject, enrol on the first 25 repetitions;
 * - genuine comparisons: that subject's remaining repetitions;
 * - impostor comparisons: the first 5 repetitions of every other subject;
 * - the figure of merit is the mean over subjects of each subject's EER.
 *
 * The scaled Manhattan baseline runs on the same comparisons in the same run.
 * The calibration (calibration.ts) is fitted on the subjects at odd
 * positions of the file and its Cllr measured on those at even positions.
 */
import { readFileSync, statSync } from 'node:fs';
import { FormatError, IOError } from '../errors.js';
import { enrolPhrase } from '../biometrics/keystroke/phrase-detector.js';
import { scaledManhattan } from '../biometrics/keystroke/scaled-manhattan.js';
import {
  cllr,
  fitKeystrokeCalibration,
  keystrokeLlr,
  DEFAULT_KEYSTROKE_CALIBRATION,
  type CalibrationTrial,
  type KeystrokeCalibration,
} from '../biometrics/keystroke/calibration.js';
import { equalErrorRate, seededRandom, type Interval, type ScoreSets } from './metrics.js';

/** The 71 feature columns of MEU-Mobile KSD, after `Subject`, as its CSV header spells them. */
export const MEU_FEATURE_COLUMNS: readonly string[] = (() => {
  const keys = ['.', 't', 'i', 'e', 'Shift', '5', 'Shift', 'Caps', 'r', 'o', 'a', 'n', 'l', 'Enter'];
  const pairs = keys.slice(1).map((k, i) => `${keys[i]}.${k}`);
  return [
    ...keys.map((k) => `Hold ${k}`),
    ...pairs.map((p) => `DD ${p}`),
    ...pairs.map((p) => `UD ${p}`),
    ...keys.map((k) => `Pressure ${k}`),
    ...keys.map((k) => `Size ${k}`),
    'AvH',
    'AvP',
    'AvA',
  ];
})();

/** The timing features (hold, down-down, up-down) lead the row. */
export const MEU_TIMING_COUNT = 40;

/** Largest CSV read (the real one is 1.5 MB). */
export const MAX_CSV_BYTES = 64 * 1024 * 1024;

export type FeatureSet = 'timing' | 'all';

/** Repetitions of one subject, in the order typed. */
export interface KeystrokeSubject {
  readonly id: string;
  readonly samples: readonly (readonly number[])[];
}

export interface KeystrokeDataset {
  /** Feature column names (71, or the 40 timing columns for a timing-only file). */
  readonly columns: readonly string[];
  readonly subjects: readonly KeystrokeSubject[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a CSV in the MEU-Mobile KSD layout: the header `Subject` and the 71
 * feature columns (or only the first 40, the timing features), then one row
 * per repetition. Strict: the header must match, every row must have as many
 * cells, every feature cell must be a decimal number.
 *
 * @throws FormatError naming the line and column of the first problem
 */
export function parseKeystrokeCsv(text: string): KeystrokeDataset {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new FormatError('the keystroke CSV is empty');
  const header = lines[0]!.split(',').map((c) => c.trim());
  const full = ['Subject', ...MEU_FEATURE_COLUMNS];
  const expected = header.length === 1 + MEU_TIMING_COUNT ? full.slice(0, 1 + MEU_TIMING_COUNT) : full;
  const bad = expected.findIndex((name, i) => header[i] !== name);
  if (header.length !== expected.length || bad >= 0) {
    const detail = bad >= 0 ? `column ${bad + 1} is "${header[bad] ?? ''}", expected "${expected[bad]}"` : `${header.length} columns, expected ${expected.length}`;
    throw new FormatError(`the keystroke CSV header is not the MEU-Mobile KSD layout (Subject, then 71 features or the 40 timing features): ${detail}`);
  }
  const bySubject = new Map<string, number[][]>();
  for (let l = 1; l < lines.length; l++) {
    const cells = lines[l]!.split(',').map((c) => c.trim());
    if (cells.length !== expected.length) throw new FormatError(`line ${l + 1} of the keystroke CSV has ${cells.length} cells, expected ${expected.length}`);
    const id = cells[0]!;
    if (id === '') throw new FormatError(`line ${l + 1} of the keystroke CSV has no subject`);
    const row = cells.slice(1).map((c, i) => {
      const v = Number(c);
      if (!NUMBER.test(c) || !Number.isFinite(v)) throw new FormatError(`line ${l + 1} of the keystroke CSV: "${expected[i + 1]}" is "${c}", not a number`);
      return v;
    });
    (bySubject.get(id) ?? bySubject.set(id, []).get(id)!).push(row);
  }
  if (bySubject.size === 0) throw new FormatError('the keystroke CSV has a header but no rows');
  return { columns: expected.slice(1), subjects: [...bySubject].map(([id, samples]) => ({ id, samples })) };
}

/**
 * Reads and parses a keystroke CSV file.
 *
 * @throws IOError when the file cannot be read or is too large
 * @throws FormatError as {@link parseKeystrokeCsv}
 */
export function readKeystrokeCsv(file: string): KeystrokeDataset {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new IOError(`${file} is not a file`);
    if (st.size > MAX_CSV_BYTES) throw new IOError(`${file} is larger than ${MAX_CSV_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof IOError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new IOError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${code ?? String(e)}`, { cause: e });
  }
  return parseKeystrokeCsv(text);
}

export interface KeystrokeProtocol {
  /** Enrolment repetitions per subject (default 25). */
  readonly train?: number;
  /** Repetitions of every other subject used as impostor attempts (default 5). */
  readonly impostorRepetitions?: number;
  /** Feature set (default 'all'; 'all' needs a 71-column file). */
  readonly features?: FeatureSet;
}

export interface SubjectResult {
  readonly subject: string;
  readonly eer: number;
  readonly baseline_eer: number;
  readonly genuine: number;
  readonly impostor: number;
}

export interface KeystrokeReport {
  readonly detector: string;
  readonly baseline_detector: string;
  readonly features: FeatureSet;
  readonly feature_count: number;
  readonly feature_names: readonly string[];
  readonly subjects: number;
  readonly train_repetitions: number;
  readonly impostor_repetitions: number;
  readonly genuine_comparisons: number;
  readonly impostor_comparisons: number;
  /** Mean over subjects of the per-subject EER. */
  readonly eer: number;
  /** 95% interval of the mean EER from resampling subjects. */
  readonly eer_ci: Interval;
  /** EER of all comparisons pooled, on the calibrated LLR (one threshold for everyone). */
  readonly pooled_eer: number;
  /** Mean EER over the subjects at even positions, which took no part in choosing the density floor. */
  readonly eer_held_out: number;
  readonly baseline: { readonly eer: number; readonly eer_ci: Interval; readonly pooled_eer: number };
  readonly calibration: {
    /** α, β fitted on the subjects at odd positions. */
    readonly fitted: KeystrokeCalibration;
    /** Cllr (bits) on the subjects at even positions, with the fitted map. */
    readonly cllr_held_out: number;
    /** Cllr on the same subjects with the map that ships. */
    readonly cllr_default: number;
    readonly default: KeystrokeCalibration;
  };
  readonly per_subject: readonly SubjectResult[];
  /** Pooled scores for DET plots: the detector's LLRs and the baseline's negated distances. */
  readonly scores: { readonly detector: ScoreSets; readonly baseline: ScoreSets };
}

function meanCi(values: readonly number[], seed = 1, replicates = 1000): Interval {
  const rnd = seededRandom(seed);
  const means: number[] = [];
  for (let r = 0; r < replicates; r++) {
    let s = 0;
    for (let k = 0; k < values.length; k++) s += values[Math.floor(rnd() * values.length)]!;
    means.push(s / values.length);
  }
  means.sort((a, b) => a - b);
  return { low: means[Math.floor(0.025 * (replicates - 1))]!, high: means[Math.ceil(0.975 * (replicates - 1))]! };
}

const mean = (a: readonly number[]) => a.reduce((s, x) => s + x, 0) / a.length;

/**
 * Runs the protocol on a dataset.
 *
 * @throws FormatError when a subject has too few repetitions, there are fewer
 *   than two subjects, or 'all' features are asked of a timing-only file
 */
export function evaluateKeystroke(data: KeystrokeDataset, protocol: KeystrokeProtocol = {}): KeystrokeReport {
  const train = protocol.train ?? 25;
  const impostorReps = protocol.impostorRepetitions ?? 5;
  const features = protocol.features ?? 'all';
  if (features === 'all' && data.columns.length !== MEU_FEATURE_COLUMNS.length) throw new FormatError(`all features need the ${MEU_FEATURE_COLUMNS.length} feature columns; this file has only the ${data.columns.length} timing columns (use --features timing)`);
  if (data.subjects.length < 2) throw new FormatError(`the protocol needs at least two subjects, the file has ${data.subjects.length}`);
  const need = Math.max(train + 1, impostorReps);
  for (const s of data.subjects) {
    if (s.samples.length < need) throw new FormatError(`subject ${s.id} has ${s.samples.length} repetitions; the protocol needs at least ${need} (${train} to enrol, at least one to test)`);
  }
  const count = features === 'timing' ? MEU_TIMING_COUNT : MEU_FEATURE_COLUMNS.length;
  const pick = (v: readonly number[]) => v.slice(0, count);
  const impostorSamples = data.subjects.map((s) => s.samples.slice(0, impostorReps).map(pick));

  const perSubject: SubjectResult[] = [];
  const trials: (CalibrationTrial & { fold: number })[] = [];
  const baselinePooled = { genuine: [] as number[], impostor: [] as number[] };
  data.subjects.forEach((s, idx) => {
    const enrol = s.samples.slice(0, train).map(pick);
    const genuine = s.samples.slice(train).map(pick);
    const impostor = impostorSamples.filter((_, j) => j !== idx).flat();
    const profile = enrolPhrase(enrol);
    const baseline = scaledManhattan(enrol);
    const det: ScoreSets = { genuine: genuine.map(profile.score), impostor: impostor.map(profile.score) };
    const base: ScoreSets = { genuine: genuine.map(baseline), impostor: impostor.map(baseline) };
    perSubject.push({ subject: s.id, eer: equalErrorRate(det).eer, baseline_eer: equalErrorRate(base).eer, genuine: genuine.length, impostor: impostor.length });
    for (const [list, isGenuine] of [[det.genuine, true], [det.impostor, false]] as const) {
      for (const score of list) trials.push({ centred: score - profile.reference, features: count, genuine: isGenuine, fold: idx % 2 });
    }
    baselinePooled.genuine.push(...base.genuine);
    baselinePooled.impostor.push(...base.impostor);
  });

  const fitted = fitKeystrokeCalibration(trials.filter((t) => t.fold === 0));
  const heldOut = trials.filter((t) => t.fold === 1);
  const llrs = (c: KeystrokeCalibration, ts: readonly CalibrationTrial[], g: boolean) => ts.filter((t) => t.genuine === g).map((t) => keystrokeLlr(t.centred, 0, t.features, c));
  const detectorPooled: ScoreSets = { genuine: llrs(DEFAULT_KEYSTROKE_CALIBRATION, trials, true), impostor: llrs(DEFAULT_KEYSTROKE_CALIBRATION, trials, false) };
  const eers = perSubject.map((r) => r.eer);
  const baseEers = perSubject.map((r) => r.baseline_eer);
  return {
    detector: 'kernel-density naive Bayes on log features, floored log-density',
    baseline_detector: 'scaled Manhattan',
    features,
    feature_count: count,
    feature_names: data.columns.slice(0, count),
    subjects: data.subjects.length,
    train_repetitions: train,
    impostor_repetitions: impostorReps,
    genuine_comparisons: perSubject.reduce((a, r) => a + r.genuine, 0),
    impostor_comparisons: perSubject.reduce((a, r) => a + r.impostor, 0),
    eer: mean(eers),
    eer_ci: meanCi(eers),
    pooled_eer: equalErrorRate(detectorPooled).eer,
    eer_held_out: mean(eers.filter((_, i) => i % 2 === 1)),
    baseline: { eer: mean(baseEers), eer_ci: meanCi(baseEers), pooled_eer: equalErrorRate(baselinePooled).eer },
    calibration: {
      fitted,
      cllr_held_out: heldOut.length ? cllr(llrs(fitted, heldOut, true), llrs(fitted, heldOut, false)) : NaN,
      cllr_default: heldOut.length ? cllr(llrs(DEFAULT_KEYSTROKE_CALIBRATION, heldOut, true), llrs(DEFAULT_KEYSTROKE_CALIBRATION, heldOut, false)) : NaN,
      default: DEFAULT_KEYSTROKE_CALIBRATION,
    },
    per_subject: perSubject,
    scores: { detector: detectorPooled, baseline: baselinePooled },
  };
}
