/**
 * The scaled Manhattan detector (Araújo et al. 2004; Killourhy & Maxion, DSN
 * 2009), kept as the baseline the phrase detector is measured against: the
 * distance of a feature vector from the mean of the enrolled vectors, each
 * feature divided by its mean absolute deviation. The score is the negated
 * distance, so that higher means more alike.
 */
import { UsageError } from '../../errors.js';

/** Fits the detector; returns the scoring function. */
export function scaledManhattan(samples: readonly (readonly number[])[]): (sample: readonly number[]) => number {
  if (samples.length < 2) throw new UsageError('scaled Manhattan needs at least two enrolment samples');
  const d = samples[0]!.length;
  const mean = Array.from({ length: d }, (_, f) => samples.reduce((s, x) => s + x[f]!, 0) / samples.length);
  const mad = mean.map((m, f) => samples.reduce((s, x) => s + Math.abs(x[f]! - m), 0) / samples.length || 1e-9);
  return (sample) => -sample.reduce((s, v, f) => s + Math.abs(v - mean[f]!) / mad[f]!, 0);
}
