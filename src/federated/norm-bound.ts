/**
 * Adaptive norm bounding (Sun et al., "Can You Really Backdoor Federated
 * Learning?", 2019, §4; the adaptive bound of FLAME, Nguyen et al., USENIX
 * Security 2022, §4.3): every update is scaled down to the median of the
 * round's update norms, shorter ones are left as they are. A boosted
 * (model-replacing) update then weighs no more than a typical honest one,
 * whatever its boost, and the bound needs no tuning: fewer than half of the
 * clients cannot raise the median above the largest honest norm.
 */
import { UsageError } from '../errors.js';
import { l2Norm, type Vector } from './_vector.js';

/** The norm bounds on offer: the median of the round's update norms. */
export const NORM_BOUNDS = ['median'] as const;
export type NormBound = (typeof NORM_BOUNDS)[number];

/** What norm bounding did to one round. */
export interface NormBoundResult {
  /** The updates, each scaled to norm at most `bound` (copies; the inputs are left alone). */
  readonly vectors: Float64Array[];
  /** The bound used: the median of the input norms (the mean of the two middle ones for an even count). */
  readonly bound: number;
  /** Indices of the updates that were scaled down. */
  readonly scaled: readonly number[];
}

/** The median of `values` (the mean of the two middle ones for an even count). */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) throw new UsageError('the median needs at least one value');
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Scales every update down to the median of their norms.
 *
 * @throws {UsageError} no updates
 * @example boundToMedianNorm([[3, 4], [0, 1], [0, 2]]).vectors // [[1.2, 1.6], [0, 1], [0, 2]]
 */
export function boundToMedianNorm(vectors: readonly Vector[]): NormBoundResult {
  if (vectors.length === 0) throw new UsageError('norm bounding needs at least one update');
  const norms = vectors.map(l2Norm);
  const bound = medianOf(norms);
  const scaled: number[] = [];
  const out = vectors.map((v, k) => {
    const scale = norms[k]! > bound ? bound / norms[k]! : 1;
    if (scale < 1) scaled.push(k);
    return Float64Array.from(v, (x) => x * scale);
  });
  return { vectors: out, bound, scaled };
}
