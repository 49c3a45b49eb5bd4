/**
 * The free-typing keystroke detector: a kernel density (feature-density.ts)
 * per key hold time and per digraph latency, from everything the person
 * typed at enrolment. A new stretch of typing scores the mean floored
 * log-density of those of its timings whose key or digraph was seen often
 * enough at enrolment; the count of such timings is the sample's weight as
 * evidence (calibration.ts), so a few keystrokes say little and a paragraph
 * says much.
 *
 * @example
 * const profile = enrolFreeText([eventsOfEmail1, eventsOfEmail2, eventsOfEmail3]);
 * const { llr, features } = profile.verify(eventsTypedJustNow);
 */
import { UsageError } from '../../errors.js';
import type { KeystrokeCalibration } from './calibration.js';
import { featureLogDensity, fitFeatureDensity, type FeatureDensity } from './feature-density.js';
import { freeTextTimings, type FreeTextOptions, type TimingObservation } from './free-text-features.js';
import type { KeyEvent } from './key-events.js';
import { verdict, type KeystrokeVerdict } from './verdict.js';

/** Fewest enrolment samples (stretches of typing) accepted. */
export const MIN_FREE_TEXT_ENROLMENT = 3;

export interface FreeTextEnrolOptions extends FreeTextOptions {
  /** Fewest enrolment observations of a key or digraph for it to be modelled (default 5). */
  readonly minObservations?: number;
}

/** A person's enrolled free typing. */
export interface FreeTextProfile {
  /** Keys and digraphs modelled. */
  readonly modelled: readonly string[];
  /** The person's mean leave-one-sample-out score (the μ of calibration.ts). */
  readonly reference: number;
  /** Score and calibrated evidence for a stretch of typing. */
  verify(events: readonly KeyEvent[], calibration?: KeystrokeCalibration): KeystrokeVerdict;
}

function fitAll(samples: readonly (readonly TimingObservation[])[], minObservations: number): Map<string, FeatureDensity> {
  const values = new Map<string, number[]>();
  for (const s of samples) for (const o of s) (values.get(o.feature) ?? values.set(o.feature, []).get(o.feature)!).push(o.ms);
  const out = new Map<string, FeatureDensity>();
  for (const [feature, v] of values) if (v.length >= minObservations) out.set(feature, fitFeatureDensity(v));
  return out;
}

function scoreObservations(densities: ReadonlyMap<string, FeatureDensity>, sample: readonly TimingObservation[]): { score: number; features: number } {
  let sum = 0;
  let n = 0;
  for (const o of sample) {
    const d = densities.get(o.feature);
    if (!d) continue;
    sum += featureLogDensity(d, o.ms);
    n++;
  }
  return { score: n ? sum / n : NaN, features: n };
}

/**
 * Enrols a person from several stretches of their free typing.
 *
 * @throws UsageError with fewer than {@link MIN_FREE_TEXT_ENROLMENT} samples, or when they share too few keys and digraphs to model
 * @throws FormatError when a sample's events are malformed
 */
export function enrolFreeText(samples: readonly (readonly KeyEvent[])[], options: FreeTextEnrolOptions = {}): FreeTextProfile {
  if (samples.length < MIN_FREE_TEXT_ENROLMENT) throw new UsageError(`free-typing enrolment needs at least ${MIN_FREE_TEXT_ENROLMENT} samples, got ${samples.length}`);
  const minObservations = Math.max(2, options.minObservations ?? 5);
  const timings = samples.map((s) => freeTextTimings(s, options));
  const densities = fitAll(timings, minObservations);
  const loo = timings.map((t, j) => scoreObservations(fitAll(timings.filter((_, k) => k !== j), minObservations), t)).filter((r) => r.features > 0);
  if (densities.size === 0 || loo.length === 0) throw new UsageError('the enrolment samples share too few keys and digraphs to model their timing: type more text');
  const reference = loo.reduce((a, r) => a + r.score, 0) / loo.length;
  return {
    modelled: [...densities.keys()],
    reference,
    verify(events, calibration) {
      const r = scoreObservations(densities, freeTextTimings(events, options));
      return verdict(r.score, reference, r.features, calibration);
    },
  };
}
