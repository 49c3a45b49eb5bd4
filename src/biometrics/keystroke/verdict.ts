/**
 * What a keystroke detector says about one sample: the raw score, the
 * person's own typical score it is compared with, how many features spoke,
 * and the calibrated log-likelihood ratio the trust fusion weighs.
 */
import { keystrokeLlr, type KeystrokeCalibration } from './calibration.js';

export interface KeystrokeVerdict {
  /** Mean per-feature log-density (nats; higher = more like the person). */
  readonly score: number;
  /** The person's mean leave-one-out score over their enrolment samples. */
  readonly reference: number;
  /** Number of features (or free-text observations) scored. */
  readonly features: number;
  /** Calibrated natural-log likelihood ratio, genuine against impostor; 0 when no feature could be scored. */
  readonly llr: number;
}

/** Assembles a verdict; with no features there is no evidence either way. */
export function verdict(score: number, reference: number, features: number, calibration?: KeystrokeCalibration): KeystrokeVerdict {
  if (features === 0) return { score: reference, reference, features, llr: 0 };
  return { score, reference, features, llr: keystrokeLlr(score, reference, features, calibration) };
}
