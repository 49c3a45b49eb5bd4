/**
 * Bucketing (Karimireddy, He, Jaggi, "Byzantine-Robust Learning on
 * Heterogeneous Datasets via Bucketing", ICLR 2022, Algorithm 1): shuffle the
 * updates at random, average them in buckets of s, and hand the ceil(n / s)
 * bucket means to a robust rule. Averaging brings the honest bucket means
 * closer together than the honest updates are (their spread shrinks by about
 * sqrt(s)), which is what the robust rules need under skewed data; the price
 * is that each attacker now spoils a whole bucket, so the attackers' share
 * grows from f / n to at most f / ceil(n / s), and a boosted update still
 * dominates the mean of its bucket. Norm bounding before bucketing removes
 * the second problem (docs/FEDERATED.md has the measurements).
 */
import { UsageError } from '../errors.js';
import type { UniformSource } from './gaussian-noise.js';
import { shuffled } from './partition.js';
import { weightedSum, type Vector } from './_vector.js';

export interface Buckets {
  /** The mean of each bucket. */
  readonly means: Float64Array[];
  /** Input indices in each bucket; together a permutation of 0..n-1. */
  readonly members: readonly (readonly number[])[];
}

/**
 * Random buckets of `size` updates, averaged (the last bucket holds the rest when s does not divide n).
 *
 * @throws {UsageError} no vectors, or a bucket size that is not a positive integer
 * @example bucketMeans([a, b, c, d], 2, random).means // two means of two updates each
 */
export function bucketMeans(vectors: readonly Vector[], size: number, random: UniformSource): Buckets {
  if (vectors.length === 0) throw new UsageError('bucketing needs at least one update');
  if (!Number.isInteger(size) || size < 1) throw new UsageError(`the bucket size must be a positive integer, not ${size}`);
  const order = shuffled(vectors.map((_, i) => i), random);
  const members: number[][] = [];
  for (let k = 0; k < order.length; k += size) members.push(order.slice(k, k + size));
  const means = members.map((m) => weightedSum(m.map((i) => vectors[i]!), m.map(() => 1), m.length));
  return { means, members };
}
