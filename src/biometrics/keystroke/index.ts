/**
 * Keystroke dynamics: who is typing, from how they type. Feature extraction
 * for a fixed phrase and for free typing, one-class detectors that learn a
 * person from their own samples, and the calibration that turns a detector's
 * score into a log-likelihood ratio for the trust fusion.
 */
export { checkKeyEvents, MAX_EVENTS } from './key-events.js';
export type { KeyEvent } from './key-events.js';
export { phraseFeatures } from './phrase-features.js';
export type { PhraseFeatures } from './phrase-features.js';
export { freeTextTimings, holdFeature, digraphFeature, DEFAULT_MAX_LATENCY_MS } from './free-text-features.js';
export type { TimingObservation, FreeTextOptions } from './free-text-features.js';
export { fitFeatureDensity, featureLogDensity, DENSITY_FLOOR } from './feature-density.js';
export type { FeatureDensity } from './feature-density.js';
export { enrolPhrase, MIN_PHRASE_ENROLMENT } from './phrase-detector.js';
export type { PhraseProfile } from './phrase-detector.js';
export { enrolFreeText, MIN_FREE_TEXT_ENROLMENT } from './free-text-detector.js';
export type { FreeTextProfile, FreeTextEnrolOptions } from './free-text-detector.js';
export { scaledManhattan } from './scaled-manhattan.js';
export { keystrokeLlr, probabilityFromLlr, fitKeystrokeCalibration, cllr, DEFAULT_KEYSTROKE_CALIBRATION } from './calibration.js';
export type { KeystrokeCalibration, CalibrationTrial } from './calibration.js';
export type { KeystrokeVerdict } from './verdict.js';
