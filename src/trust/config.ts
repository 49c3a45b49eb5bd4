/**
 * Trust configuration: half-life, prior, ceiling, lock threshold, the weight
 * of each modality, how quickly late evidence loses weight, quality and
 * sample-length rules, and the fixed LLRs of binary evidence. Defaults are
 * the safe choice; {@link resolveTrustConfig} checks every value.
 */
import { UsageError } from '../errors.js';
import { checkNumber } from './check.js';

/** The kinds of evidence that move trust. */
export const MODALITIES = ['face', 'keystroke', 'passkey', 'unlock'] as const;
export type Modality = (typeof MODALITIES)[number];

export interface TrustConfig {
  /** Trust halves towards 0 every this many seconds without evidence. */
  readonly halfLifeSeconds: number;
  /** Trust of a new session before any evidence, in (0, 1). */
  readonly prior: number;
  /** Trust never exceeds this, in (0, 1): no evidence makes it certain. */
  readonly ceiling: number;
  /** The daemon locks when trust falls below this, in [0, ceiling). */
  readonly lockThreshold: number;
  /** No single signal moves log-odds by more than this. */
  readonly maxSignalLlr: number;
  /** Multiplier of each modality's LLR, in [0, 1]. */
  readonly weights: Readonly<Record<Modality, number>>;
  /** Evidence observed this many seconds before it is applied counts half. */
  readonly freshnessHalfLifeSeconds: Readonly<Record<Modality, number>>;
  /** Evidence older than this when applied is ignored. */
  readonly maxEvidenceAgeSeconds: number;
  /** Face evidence with quality below this (0..1) is ignored. */
  readonly minFaceQuality: number;
  /** Keystroke samples shorter than this are ignored. */
  readonly minKeystrokes: number;
  /** Keystroke samples this long or longer get full weight; shorter ones in proportion. */
  readonly fullWeightKeystrokes: number;
  /** LLR of a verified passkey touch, and of a failed one (user verification or signature refused). */
  readonly passkeyLlr: { readonly verified: number; readonly failed: number };
  /** LLR of a failed liveness check, whatever the match said (a match on a spoof is no evidence for the owner). */
  readonly livenessFailureLlr: number;
  /** LLR of each unlock factor presented successfully. */
  readonly unlockLlr: Readonly<Record<string, number>>;
}

/** Defaults; docs/TRUST.md explains each figure. */
export const DEFAULT_TRUST_CONFIG: TrustConfig = Object.freeze({
  halfLifeSeconds: 600,
  prior: 0.05,
  ceiling: 0.999,
  lockThreshold: 0.05,
  maxSignalLlr: 8,
  weights: Object.freeze({ face: 1, keystroke: 1, passkey: 1, unlock: 1 }),
  freshnessHalfLifeSeconds: Object.freeze({ face: 30, keystroke: 60, passkey: 60, unlock: 60 }),
  maxEvidenceAgeSeconds: 300,
  minFaceQuality: 0.2,
  minKeystrokes: 5,
  fullWeightKeystrokes: 14,
  passkeyLlr: Object.freeze({ verified: 6, failed: -3 }),
  livenessFailureLlr: -4,
  unlockLlr: Object.freeze({ passkey: 7, fido2: 7, pkcs11: 6, recovery: 5, face: 5, keyfile: 5, tpm: 3 }),
});

/** Overrides for {@link resolveTrustConfig}; nested records merge with the defaults. */
export type TrustConfigInput = Partial<Omit<TrustConfig, 'weights' | 'freshnessHalfLifeSeconds' | 'passkeyLlr' | 'unlockLlr'>> & {
  readonly weights?: Partial<Record<Modality, number>>;
  readonly freshnessHalfLifeSeconds?: Partial<Record<Modality, number>>;
  readonly passkeyLlr?: Partial<TrustConfig['passkeyLlr']>;
  readonly unlockLlr?: Readonly<Record<string, number>>;
};

const FACTOR_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * The defaults with `input` applied, every value checked.
 * @throws {UsageError} naming the first bad value
 * @example resolveTrustConfig({ halfLifeSeconds: 300, weights: { keystroke: 0.5 } })
 */
export function resolveTrustConfig(input: TrustConfigInput = {}): TrustConfig {
  const d = DEFAULT_TRUST_CONFIG;
  const known = new Set(Object.keys(d));
  for (const key of Object.keys(input)) if (!known.has(key)) throw new UsageError(`trust: unknown configuration key "${key}"`);
  const ceiling = checkNumber('ceiling', input.ceiling ?? d.ceiling, 0.5, 1 - 1e-9);
  const minKeystrokes = checkNumber('minKeystrokes', input.minKeystrokes ?? d.minKeystrokes, 1, 10_000);
  const unlockLlr = { ...d.unlockLlr, ...input.unlockLlr };
  for (const [name, llr] of Object.entries(unlockLlr)) {
    if (!FACTOR_NAME.test(name)) throw new UsageError(`trust: "${name}" is not a factor name`);
    checkNumber(`unlockLlr.${name}`, llr, 0, 50);
  }
  return Object.freeze({
    halfLifeSeconds: checkNumber('halfLifeSeconds', input.halfLifeSeconds ?? d.halfLifeSeconds, 1, 365 * 86_400),
    prior: checkNumber('prior', input.prior ?? d.prior, 1e-6, ceiling),
    ceiling,
    lockThreshold: checkNumber('lockThreshold', input.lockThreshold ?? d.lockThreshold, 0, ceiling - 1e-9),
    maxSignalLlr: checkNumber('maxSignalLlr', input.maxSignalLlr ?? d.maxSignalLlr, 0.1, 50),
    weights: Object.freeze(perModality('weights', d.weights, input.weights, 0, 1)),
    freshnessHalfLifeSeconds: Object.freeze(perModality('freshnessHalfLifeSeconds', d.freshnessHalfLifeSeconds, input.freshnessHalfLifeSeconds, 1, 86_400)),
    maxEvidenceAgeSeconds: checkNumber('maxEvidenceAgeSeconds', input.maxEvidenceAgeSeconds ?? d.maxEvidenceAgeSeconds, 0, 86_400),
    minFaceQuality: checkNumber('minFaceQuality', input.minFaceQuality ?? d.minFaceQuality, 0, 1),
    minKeystrokes,
    fullWeightKeystrokes: checkNumber('fullWeightKeystrokes', input.fullWeightKeystrokes ?? d.fullWeightKeystrokes, minKeystrokes, 10_000),
    passkeyLlr: Object.freeze({
      verified: checkNumber('passkeyLlr.verified', input.passkeyLlr?.verified ?? d.passkeyLlr.verified, 0, 50),
      failed: checkNumber('passkeyLlr.failed', input.passkeyLlr?.failed ?? d.passkeyLlr.failed, -50, 0),
    }),
    livenessFailureLlr: checkNumber('livenessFailureLlr', input.livenessFailureLlr ?? d.livenessFailureLlr, -50, 0),
    unlockLlr: Object.freeze(unlockLlr),
  });
}

function perModality(name: string, defaults: Readonly<Record<Modality, number>>, input: Partial<Record<Modality, number>> | undefined, min: number, max: number): Record<Modality, number> {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(input ?? {})) {
    if (!(MODALITIES as readonly string[]).includes(key)) throw new UsageError(`trust: ${name}.${key}: unknown modality (one of ${MODALITIES.join(', ')})`);
    out[key as Modality] = checkNumber(`${name}.${key}`, value, min, max);
  }
  return out;
}
