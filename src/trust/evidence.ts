/**
 * Evidence and the signals it yields. Each piece of evidence becomes one
 * signal (an unlock one per factor): a calibrated log-likelihood ratio,
 * multiplied by weights for the modality, the capture quality or sample
 * length, and freshness (evidence applied some time after it was observed
 * counts less, halving every `freshnessHalfLifeSeconds`). Everything the
 * caller sends is checked first: a bad value is a typed error, never NaN.
 */
import { UsageError } from '../errors.js';
import { checkNumber, checkTime } from './check.js';
import type { ScoreCalibration } from './calibration.js';
import type { Modality, TrustConfig } from './config.js';

/** A face re-check: the match score of the live frame(s), their quality and the liveness verdict. */
export interface FaceEvidence {
  readonly modality: 'face';
  /** When the frame was captured, in milliseconds on the same clock as `now`. */
  readonly observedAt: number;
  /** Match score, in the face calibration's range (default: verifyFace's score, 0 = no match). */
  readonly score: number;
  /** Capture quality in [0, 1] (1 = ideal: sharp, frontal, well lit, large). */
  readonly quality: number;
  readonly liveness: 'passed' | 'failed';
}

/** A keystroke-rhythm sample scored by the keystroke detector. */
export interface KeystrokeEvidence {
  readonly modality: 'keystroke';
  readonly observedAt: number;
  /** Detector score, in the keystroke calibration's range (default: probability of the owner). */
  readonly score: number;
  /** Number of keystrokes in the sample. */
  readonly keys: number;
}

/** A passkey assertion: verified (user verification and signature good) or failed. */
export interface PasskeyEvidence {
  readonly modality: 'passkey';
  readonly observedAt: number;
  readonly verified: boolean;
}

/** A successful unlock with the factors that opened the key slot. */
export interface UnlockEvidence {
  readonly modality: 'unlock';
  readonly observedAt: number;
  /** Factor names, as in the unlock policy (`face`, `passkey`, `keyfile`, ...). */
  readonly factors: readonly string[];
}

export type TrustEvidence = FaceEvidence | KeystrokeEvidence | PasskeyEvidence | UnlockEvidence;

/** The calibrations for the scored modalities. */
export interface TrustCalibrations {
  readonly face: ScoreCalibration;
  readonly keystroke: ScoreCalibration;
}

/** The multipliers applied to one signal's LLR; `total` is their product. */
export interface SignalWeights {
  readonly modality: number;
  /** Face: capture quality; keystroke: sample length over the full-weight length; otherwise 1. */
  readonly quality: number;
  /** 2^(-age / freshness half-life). */
  readonly freshness: number;
  readonly total: number;
}

/** One signal derived from evidence. */
export interface TrustSignal {
  readonly modality: Modality;
  /** The factor it speaks for: `face`, `keystroke`, `passkey` or an unlock factor. */
  readonly factor: string;
  readonly observedAt: number;
  /** Seconds between observation and application. */
  readonly ageSeconds: number;
  /** Calibrated LLR, capped at +-maxSignalLlr. */
  readonly llr: number;
  readonly weights: SignalWeights;
  /** llr x weights.total: what it adds to the log-odds (0 when ignored). */
  readonly logOdds: number;
  /** Why, in words: the inputs and the calibration. */
  readonly reason: string;
  /** Set when the signal was ignored, saying why. */
  readonly ignored?: string;
}

const MODALITY_NAMES: readonly string[] = ['face', 'keystroke', 'passkey', 'unlock'];

/**
 * The signals of `evidence` applied at `now` (milliseconds).
 * @throws {UsageError} on malformed evidence or evidence observed after `now`
 */
export function evidenceSignals(evidence: TrustEvidence, now: number, config: TrustConfig, calibrations: TrustCalibrations): TrustSignal[] {
  if (typeof evidence !== 'object' || evidence === null) throw new UsageError('trust: evidence must be an object');
  const modality = (evidence as { modality?: unknown }).modality;
  if (typeof modality !== 'string' || !MODALITY_NAMES.includes(modality)) throw new UsageError(`trust: unknown evidence modality ${JSON.stringify(modality)}`);
  const observedAt = checkTime(`${modality}.observedAt`, evidence.observedAt);
  if (observedAt > now) throw new UsageError(`trust: ${modality} evidence observed after now (${observedAt} > ${now})`);
  const ageSeconds = (now - observedAt) / 1000;
  const make = (factor: string, llr: number, quality: number, reason: string, ignored?: string): TrustSignal => {
    const m = evidence.modality;
    const capped = Math.max(-config.maxSignalLlr, Math.min(config.maxSignalLlr, llr));
    const stale = ageSeconds > config.maxEvidenceAgeSeconds ? `observed ${round(ageSeconds)} s ago, more than ${config.maxEvidenceAgeSeconds} s` : undefined;
    const why = ignored ?? stale;
    const freshness = 2 ** (-ageSeconds / config.freshnessHalfLifeSeconds[m]);
    const total = why ? 0 : config.weights[m] * quality * freshness;
    const weights = { modality: config.weights[m], quality, freshness, total };
    const text = `${reason}; LLR ${fmt(capped)} x weight ${fmt(total)} (modality ${fmt(weights.modality)}, quality ${fmt(quality)}, freshness ${fmt(freshness)} after ${round(ageSeconds)} s)`;
    return { modality: m, factor, observedAt, ageSeconds, llr: capped, weights, logOdds: capped * total, reason: text, ...(why && { ignored: why }) };
  };
  switch (evidence.modality) {
    case 'face': {
      const c = calibrations.face;
      const score = checkNumber('face.score', evidence.score, c.range[0], c.range[1]);
      const quality = checkNumber('face.quality', evidence.quality, 0, 1);
      if (evidence.liveness !== 'passed' && evidence.liveness !== 'failed') throw new UsageError('trust: face.liveness must be "passed" or "failed"');
      const low = quality < config.minFaceQuality ? `face quality ${fmt(quality)} below the minimum ${config.minFaceQuality}` : undefined;
      if (evidence.liveness === 'failed') return [make('face', config.livenessFailureLlr, quality, `face liveness check failed (match score ${fmt(score)} not counted)`, low)];
      return [make('face', checkLlr(c, score), quality, `face match score ${fmt(score)} (${c.name})`, low)];
    }
    case 'keystroke': {
      const c = calibrations.keystroke;
      const score = checkNumber('keystroke.score', evidence.score, c.range[0], c.range[1]);
      const keys = checkNumber('keystroke.keys', evidence.keys, 0, 1_000_000);
      if (!Number.isInteger(keys)) throw new UsageError('trust: keystroke.keys must be an integer');
      const quality = Math.min(1, keys / config.fullWeightKeystrokes);
      const short = keys < config.minKeystrokes ? `${keys} keystrokes, fewer than the minimum ${config.minKeystrokes}` : undefined;
      return [make('keystroke', checkLlr(c, score), quality, `keystroke score ${fmt(score)} over ${keys} keys (${c.name})`, short)];
    }
    case 'passkey': {
      if (typeof evidence.verified !== 'boolean') throw new UsageError('trust: passkey.verified must be a boolean');
      const llr = evidence.verified ? config.passkeyLlr.verified : config.passkeyLlr.failed;
      return [make('passkey', llr, 1, evidence.verified ? 'passkey touch verified' : 'passkey assertion failed')];
    }
    case 'unlock': {
      const factors = evidence.factors;
      if (!Array.isArray(factors) || factors.length === 0) throw new UsageError('trust: unlock.factors must be a non-empty list of factor names');
      if (new Set(factors).size !== factors.length) throw new UsageError('trust: unlock.factors lists a factor twice');
      return factors.map((f: unknown) => {
        const llr = typeof f === 'string' && Object.hasOwn(config.unlockLlr, f) ? config.unlockLlr[f] : undefined;
        if (llr === undefined) throw new UsageError(`trust: unknown unlock factor ${JSON.stringify(f)} (configured: ${Object.keys(config.unlockLlr).join(', ')})`);
        return make(f as string, llr, 1, `unlocked with ${f as string}`);
      });
    }
  }
}

function checkLlr(c: ScoreCalibration, score: number): number {
  const llr = c.llr(score);
  if (!Number.isFinite(llr)) throw new UsageError(`trust: calibration ${c.name} gave a non-finite LLR for score ${score}`);
  return llr;
}

/** A number for explanations: 3 significant decimals, no trailing noise. */
export function fmt(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
