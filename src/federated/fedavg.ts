/**
 * Federated averaging (McMahan et al., "Communication-Efficient Learning of
 * Deep Networks from Decentralized Data", AISTATS 2017, Algorithm 1): the
 * mean of the client updates weighted by each client's sample count. Not
 * robust: one client can move the result anywhere.
 */
import { UsageError } from '../errors.js';
import { weightedSum, type Vector } from './_vector.js';

/**
 * The sample-weighted mean of `vectors`.
 *
 * @throws {UsageError} no vectors, or weights that are not positive
 * @example fedAvg([a, b], [10, 30]) // (10a + 30b) / 40
 */
export function fedAvg(vectors: readonly Vector[], weights: readonly number[]): Float64Array {
  if (vectors.length === 0) throw new UsageError('averaging needs at least one update');
  if (weights.length !== vectors.length || weights.some((w) => !(w > 0))) throw new UsageError('averaging needs one positive weight per update');
  return weightedSum(vectors, weights, weights.reduce((s, w) => s + w, 0));
}
