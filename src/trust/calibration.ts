/**
 * Score calibration: turning a modality's raw score into a log-likelihood
 * ratio, LLR = ln P(score | genuine) / P(score | impostor). Positive values
 * speak for the enrolled person, negative ones against; 0 says nothing. Each
 * biometric module can bring its own {@link ScoreCalibration}; three
 * standard forms are offered here:
 *
 * - {@link gaussianCalibration}: a continuous score (a similarity, a distance)
 *   whose genuine and impostor distributions were measured and fitted with
 *   normal distributions; LLR is the log ratio of the two densities.
 * - {@link rateCalibration}: an accept/reject decision with measured false
 *   match and false non-match rates (score >= threshold means accept):
 *   accept gives ln((1 - FNMR) / FMR), reject ln(FNMR / (1 - FMR)).
 * - {@link probabilityCalibration}: a module that already outputs a
 *   calibrated probability of "genuine" (logistic regression, Platt scaling)
 *   at a known training prior: LLR = logit(p) - logit(prior).
 *
 * The defaults for the face re-check and for keystroke samples are at the
 * end, with where their figures come from (docs/TRUST.md).
 */
import { UsageError } from '../errors.js';
import { checkNumber } from './check.js';
import { logit } from './log-odds.js';

/** Maps one modality's score to a log-likelihood ratio. */
export interface ScoreCalibration {
  /** Short name shown in explanations, e.g. "rate(FMR 1e-4, FNMR 0.2)". */
  readonly name: string;
  /** The scores it accepts; anything outside is a typed error. */
  readonly range: readonly [number, number];
  /** ln P(score | genuine) / P(score | impostor), finite. */
  llr(score: number): number;
}

/** A fitted normal distribution of scores. */
export interface NormalFit {
  readonly mean: number;
  readonly sd: number;
}

/**
 * LLR of a continuous score from normal fits of the genuine and impostor
 * score distributions. Far in the tails the quadratic terms grow without
 * bound, so the result is clamped to +-`maxLlr` (default 10).
 * @throws {UsageError} when a standard deviation is not positive
 * @example gaussianCalibration({ genuine: { mean: 0.55, sd: 0.1 }, impostor: { mean: 0.02, sd: 0.08 }, range: [-1, 1] })
 */
export function gaussianCalibration(o: { genuine: NormalFit; impostor: NormalFit; range: readonly [number, number]; maxLlr?: number }): ScoreCalibration {
  const g = checkFit('genuine', o.genuine);
  const i = checkFit('impostor', o.impostor);
  const maxLlr = checkNumber('maxLlr', o.maxLlr ?? 10, 0);
  const range = checkRange(o.range);
  const logDensity = (x: number, f: NormalFit) => -Math.log(f.sd) - 0.5 * ((x - f.mean) / f.sd) ** 2;
  return {
    name: `gaussian(genuine ${g.mean}±${g.sd}, impostor ${i.mean}±${i.sd})`,
    range,
    llr: (s) => clampAbs(logDensity(s, g) - logDensity(s, i), maxLlr),
  };
}

/**
 * LLR of an accept/reject decision with measured error rates. Scores at or
 * above `threshold` (default 0.5) are accepts, so 1/0 and a match score that
 * is 0 on rejection both work.
 * @throws {UsageError} when a rate is not in (0, 1)
 * @example rateCalibration({ fmr: 1e-4, fnmr: 0.2 }).llr(1) // ln(0.8 / 1e-4) = 8.99
 */
export function rateCalibration(o: { fmr: number; fnmr: number; threshold?: number; range?: readonly [number, number] }): ScoreCalibration {
  const fmr = checkNumber('fmr', o.fmr, Number.MIN_VALUE, 1 - Number.EPSILON);
  const fnmr = checkNumber('fnmr', o.fnmr, Number.MIN_VALUE, 1 - Number.EPSILON);
  if (fmr + fnmr >= 1) throw new UsageError('trust: fmr + fnmr must be below 1 (otherwise the decision carries no information or is inverted)');
  const threshold = checkNumber('threshold', o.threshold ?? 0.5);
  const accept = Math.log((1 - fnmr) / fmr);
  const reject = Math.log(fnmr / (1 - fmr));
  return {
    name: `rate(FMR ${fmr}, FNMR ${fnmr})`,
    range: checkRange(o.range ?? [0, 1]),
    llr: (s) => (s >= threshold ? accept : reject),
  };
}

/**
 * LLR of a calibrated probability of "genuine", trained at class prior
 * `trainingPrior` (default 0.5, balanced classes). Probabilities are kept
 * within [`epsilon`, 1 - `epsilon`] (default 1e-4) so 0 and 1 stay finite.
 * @example probabilityCalibration().llr(0.9) // ln 9 = 2.20
 */
export function probabilityCalibration(o: { trainingPrior?: number; epsilon?: number } = {}): ScoreCalibration {
  const prior = checkNumber('trainingPrior', o.trainingPrior ?? 0.5, Number.EPSILON, 1 - Number.EPSILON);
  const eps = checkNumber('epsilon', o.epsilon ?? 1e-4, Number.EPSILON, 0.5);
  const base = logit(prior);
  return {
    name: `probability(prior ${prior})`,
    range: [0, 1],
    llr: (p) => logit(Math.min(1 - eps, Math.max(eps, p))) - base,
  };
}

/**
 * Default face re-check calibration: the decision of the protected-template
 * match (src/enrolment/face.ts `verifyFace`, whose score is 1 - corrected/bits
 * on a match and 0 otherwise). FMR 1e-4: no impostor out of 15,600 matched on
 * ORL (rule of three: below 2e-4) and 16 of 2.1 M on LFW (7.5e-6), so 1e-4 is
 * a cautious round figure. FNMR 0.2: 1-3% on ORL with a five-image
 * enrolment, worse in the wild; a high value keeps one missed match from
 * costing much (docs/FACE.md, docs/TRUST.md).
 */
export const DEFAULT_FACE_CALIBRATION: ScoreCalibration = rateCalibration({ fmr: 1e-4, fnmr: 0.2 });

/**
 * Default keystroke calibration: the keystroke detector reports a calibrated
 * probability that the typist is the enrolled person, fitted on balanced
 * genuine and impostor samples. A detector with other scores passes its own.
 */
export const DEFAULT_KEYSTROKE_CALIBRATION: ScoreCalibration = probabilityCalibration();

function checkFit(name: string, f: NormalFit): NormalFit {
  return { mean: checkNumber(`${name}.mean`, f?.mean), sd: checkNumber(`${name}.sd`, f?.sd, Number.MIN_VALUE) };
}

function checkRange(r: readonly [number, number]): readonly [number, number] {
  const lo = checkNumber('range[0]', r?.[0]);
  const hi = checkNumber('range[1]', r?.[1]);
  if (lo >= hi) throw new UsageError(`trust: range [${lo}, ${hi}] is empty`);
  return [lo, hi];
}

function clampAbs(x: number, max: number): number {
  return Math.max(-max, Math.min(max, x));
}
