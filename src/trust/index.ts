export { TrustEngine } from './trust-engine.js';
export type { TrustState, TrustUpdate, TrustExplanation, SignalContribution, TrustEngineOptions } from './trust-engine.js';
export type { TrustEvidence, FaceEvidence, KeystrokeEvidence, PasskeyEvidence, UnlockEvidence, TrustSignal, SignalWeights, TrustCalibrations } from './evidence.js';
export { DEFAULT_TRUST_CONFIG, MODALITIES, resolveTrustConfig } from './config.js';
export type { TrustConfig, TrustConfigInput, Modality } from './config.js';
export { gaussianCalibration, rateCalibration, probabilityCalibration, DEFAULT_FACE_CALIBRATION, DEFAULT_KEYSTROKE_CALIBRATION } from './calibration.js';
export type { ScoreCalibration, NormalFit } from './calibration.js';
export { decayedTrust, secondsUntilBelow } from './decay.js';
export { readTrustConfigFile } from './config-file.js';
