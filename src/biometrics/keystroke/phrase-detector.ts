/**
 * The fixed-phrase keystroke detector: each feature of the person's enrolled
 * typings of the phrase is modelled by a kernel density (feature-density.ts),
 * the features are treated as independent (naive Bayes), and a new typing
 * scores the mean of its floored per-feature log-densities. One-class: it
 * learns only from the person's own samples, never from other people.
 *
 * @example
 * const profile = enrolPhrase(vectors);            // vectors from phraseFeatures(...).values
 * const { score, llr } = profile.verify(phraseFeatures(events).values);
 */
import { FormatError, UsageError } from '../../errors.js';
import type { KeystrokeCalibration } from './calibration.js';
import { featureLogDensity, fitFeatureDensity, type FeatureDensity } from './feature-density.js';
import { verdict, type KeystrokeVerdict } from './verdict.js';

/** Fewest enrolment typings accepted (the leave-one-out reference needs a few). */
export const MIN_PHRASE_ENROLMENT = 5;

/** A person's enrolled typing of one phrase. */
export interface PhraseProfile {
  /** Length of the feature vectors it takes. */
  readonly featureCount: number;
  /** The person's mean leave-one-out score (the μ of calibration.ts). */
  readonly reference: number;
  /** Mean floored log-density of a feature vector (higher = more like the person). */
  score(sample: readonly number[]): number;
  /** Score and calibrated evidence for a feature vector. */
  verify(sample: readonly number[], calibration?: KeystrokeCalibration): KeystrokeVerdict;
}

function fit(samples: readonly (readonly number[])[]): FeatureDensity[] {
  const d = samples[0]!.length;
  return Array.from({ length: d }, (_, f) => fitFeatureDensity(samples.map((s) => s[f]!)));
}

function meanLogDensity(densities: readonly FeatureDensity[], sample: readonly number[]): number {
  let sum = 0;
  for (let f = 0; f < densities.length; f++) sum += featureLogDensity(densities[f]!, sample[f]!);
  return sum / densities.length;
}

function checkVector(sample: readonly number[], length: number, what: string): void {
  if (!Array.isArray(sample) || sample.length !== length) throw new FormatError(`${what} must hold ${length} feature values, got ${Array.isArray(sample) ? sample.length : typeof sample}`);
  if (!sample.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new FormatError(`${what} holds a value that is not a finite number`);
}

/**
 * Enrols a person from feature vectors of their typings of one phrase, in
 * the order they were typed.
 *
 * @throws UsageError with fewer than {@link MIN_PHRASE_ENROLMENT} samples
 * @throws FormatError when vectors differ in length or hold non-finite values
 */
export function enrolPhrase(samples: readonly (readonly number[])[]): PhraseProfile {
  if (samples.length < MIN_PHRASE_ENROLMENT) throw new UsageError(`keystroke enrolment needs at least ${MIN_PHRASE_ENROLMENT} typings of the phrase, got ${samples.length}`);
  const d = samples[0]!.length;
  if (d === 0) throw new FormatError('enrolment vectors hold no features');
  samples.forEach((s, i) => checkVector(s, d, `enrolment sample ${i + 1}`));
  const densities = fit(samples);
  const loo = samples.map((s, j) => meanLogDensity(fit(samples.filter((_, k) => k !== j)), s));
  const reference = loo.reduce((a, b) => a + b, 0) / loo.length;
  const score = (sample: readonly number[]) => {
    checkVector(sample, d, 'the sample');
    return meanLogDensity(densities, sample);
  };
  return {
    featureCount: d,
    reference,
    score,
    verify: (sample, calibration) => verdict(score(sample), reference, d, calibration),
  };
}
