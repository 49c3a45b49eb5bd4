/**
 * From a keystroke score to evidence the trust fusion can weigh: a
 * log-likelihood ratio (natural log) of "the enrolled person typed this"
 * against "someone else did", by logistic regression calibration (Brümmer &
 * du Preez, "Application-independent evaluation of speaker detection", 2006).
 *
 * The score of a sample is the mean per-feature log-density s (see
 * feature-density.ts) over its n features; μ is the mean of the same score
 * for the person's own enrolment samples, each scored against the others
 * (leave-one-out), so s − μ says how much worse than usual the sample fits.
 * Each feature adds evidence, so the map is per feature:
 *
 *     LLR = n · (α + β · (s − μ))
 *
 * Longer samples (more digraphs of free text) thus count for more, as they
 * should. α and β are fitted with equal weight on genuine and impostor
 * comparisons, so the LLR carries no prior; add the prior log-odds to get a
 * posterior.
 */

/** Parameters of the per-feature logistic map. */
export interface KeystrokeCalibration {
  readonly alpha: number;
  readonly beta: number;
}

/**
 * Fitted on the subjects at odd positions of MEU-Mobile KSD, timing-only and
 * all-feature comparisons together. `bioseal eval keystroke` fits each set
 * alone (timing α 0.076 β 0.224, all α 0.064 β 0.215) and reports the Cllr of
 * both maps on the other half; figures in docs/KEYSTROKE.md.
 */
export const DEFAULT_KEYSTROKE_CALIBRATION: KeystrokeCalibration = { alpha: 0.069, beta: 0.22 };

/** The calibrated log-likelihood ratio of a sample's score. */
export function keystrokeLlr(score: number, reference: number, features: number, c: KeystrokeCalibration = DEFAULT_KEYSTROKE_CALIBRATION): number {
  return features * (c.alpha + c.beta * (score - reference));
}

/** Posterior probability that the enrolled person typed, from an LLR and prior odds (default even). */
export function probabilityFromLlr(llr: number, priorOdds = 1): number {
  const logit = llr + Math.log(priorOdds);
  return logit >= 0 ? 1 / (1 + Math.exp(-logit)) : Math.exp(logit) / (1 + Math.exp(logit));
}

/** One comparison for fitting: centred score s − μ, feature count n, and whether it was genuine. */
export interface CalibrationTrial {
  readonly centred: number;
  readonly features: number;
  readonly genuine: boolean;
}

/**
 * Fits α and β by weighted logistic regression (Newton's method) with
 * genuine and impostor trials weighted to equal totals.
 *
 * @throws RangeError without both genuine and impostor trials
 */
export function fitKeystrokeCalibration(trials: readonly CalibrationTrial[]): KeystrokeCalibration {
  const g = trials.filter((t) => t.genuine).length;
  const i = trials.length - g;
  if (g === 0 || i === 0) throw new RangeError('calibration needs genuine and impostor trials');
  let a = 0;
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const t of trials) {
      const w = t.genuine ? 0.5 / g : 0.5 / i;
      const x1 = t.features;
      const x2 = t.features * t.centred;
      const p = probabilityFromLlr(a * x1 + b * x2);
      const r = w * (p - (t.genuine ? 1 : 0));
      const q = w * p * (1 - p);
      ga += r * x1;
      gb += r * x2;
      haa += q * x1 * x1;
      hab += q * x1 * x2;
      hbb += q * x2 * x2;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { alpha: a, beta: b };
}

/**
 * Cllr, the cost of log-likelihood ratios in bits (Brümmer & du Preez 2006):
 * 0 for perfect, 1 for a system that always answers LLR 0, more when the
 * LLRs mislead.
 */
export function cllr(genuineLlrs: readonly number[], impostorLlrs: readonly number[]): number {
  const softplus2 = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x))) / Math.LN2;
  const mean = (a: readonly number[], f: (x: number) => number) => a.reduce((s, x) => s + f(x), 0) / a.length;
  return 0.5 * (mean(genuineLlrs, (l) => softplus2(-l)) + mean(impostorLlrs, (l) => softplus2(l)));
}
