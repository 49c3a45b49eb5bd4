/**
 * Privacy budget of DP-FedAvg with a Rényi differential privacy (RDP)
 * accountant, as in TensorFlow Privacy's `rdp_accountant` and Opacus's
 * `RDPAccountant`:
 *
 * - One round is the sampled Gaussian mechanism: each client takes part with
 *   probability q (q = 1: every client, every round), updates are clipped to
 *   L2 norm C and the sum gets N(0, (zC)^2) noise, z the noise multiplier.
 *   Neighbouring datasets differ in one client (user-level privacy).
 * - Its RDP at integer order alpha (Mironov, Talwar and Zhang, "Rényi
 *   Differential Privacy of the Sampled Gaussian Mechanism", 2019, §3.3):
 *   eps(alpha) = log(A_alpha) / (alpha - 1) with
 *   A_alpha = sum_{k=0..alpha} C(alpha, k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 z^2)).
 *   For q = 1 this is alpha / (2 z^2) (Mironov, "Rényi Differential Privacy",
 *   CSF 2017, Proposition 7).
 * - Rounds compose by adding RDP (Mironov 2017, Proposition 1).
 * - Conversion to (epsilon, delta) (Balle et al., "Hypothesis Testing
 *   Interpretations and Renyi Differential Privacy", AISTATS 2020,
 *   Theorem 21; Opacus `privacy_analysis.get_privacy_spent`):
 *   epsilon = min over alpha of rdp + log((alpha-1)/alpha) - (log delta + log alpha) / (alpha - 1).
 *
 * Only integer orders are used (2..256); fractional orders, which the
 * libraries add, can only lower epsilon slightly, so this bound is safe.
 */
import { UsageError } from '../errors.js';

/** The orders the accountant tries by default. */
export const DEFAULT_ORDERS: readonly number[] = Array.from({ length: 255 }, (_, i) => i + 2);

function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

function logBinomial(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * RDP of one round of the sampled Gaussian mechanism at integer order `alpha`.
 *
 * @param sampleRate q in (0, 1]
 * @param noiseMultiplier z > 0 (noise standard deviation over sensitivity)
 * @throws {UsageError} parameters out of range
 * @example rdpSampledGaussian(1, 2, 8) // 8 / (2 * 4) = 1
 */
export function rdpSampledGaussian(sampleRate: number, noiseMultiplier: number, alpha: number): number {
  if (!(sampleRate > 0 && sampleRate <= 1)) throw new UsageError(`sampling rate ${sampleRate} is not in (0, 1]`);
  if (!(noiseMultiplier > 0 && Number.isFinite(noiseMultiplier))) throw new UsageError(`noise multiplier ${noiseMultiplier} is not a positive number`);
  if (!Number.isInteger(alpha) || alpha < 2) throw new UsageError(`RDP order ${alpha} is not an integer of at least 2`);
  const s2 = noiseMultiplier * noiseMultiplier;
  if (sampleRate === 1) return alpha / (2 * s2);
  const logQ = Math.log(sampleRate);
  const log1mQ = Math.log1p(-sampleRate);
  const terms: number[] = [];
  for (let k = 0; k <= alpha; k++) terms.push(logBinomial(alpha, k) + k * logQ + (alpha - k) * log1mQ + (k * k - k) / (2 * s2));
  return logSumExp(terms) / (alpha - 1);
}

/** An (epsilon, delta) guarantee and the RDP order that gave it. */
export interface PrivacyBudget {
  readonly epsilon: number;
  readonly delta: number;
  readonly order: number;
}

/**
 * (epsilon, delta) after `rounds` rounds of the sampled Gaussian mechanism.
 *
 * @throws {UsageError} parameters out of range
 * @example privacyBudget({ noiseMultiplier: 1, sampleRate: 1, rounds: 1, delta: 1e-5 }).epsilon // 4.75 (order 5)
 */
export function privacyBudget(o: { noiseMultiplier: number; sampleRate: number; rounds: number; delta: number; orders?: readonly number[] }): PrivacyBudget {
  if (!Number.isInteger(o.rounds) || o.rounds < 0) throw new UsageError(`round count ${o.rounds} is not a non-negative integer`);
  if (!(o.delta > 0 && o.delta < 1)) throw new UsageError(`delta ${o.delta} is not in (0, 1)`);
  let best: PrivacyBudget = { epsilon: Infinity, delta: o.delta, order: NaN };
  for (const alpha of o.orders ?? DEFAULT_ORDERS) {
    const rdp = o.rounds * rdpSampledGaussian(o.sampleRate, o.noiseMultiplier, alpha);
    const epsilon = Math.max(0, rdp + Math.log((alpha - 1) / alpha) - (Math.log(o.delta) + Math.log(alpha)) / (alpha - 1));
    if (epsilon < best.epsilon) best = { epsilon, delta: o.delta, order: alpha };
  }
  return best;
}
