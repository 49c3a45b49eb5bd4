/**
 * Coordinate-wise trimmed mean (Yin et al., ICML 2018, Definition 2): for
 * each coordinate, drop the floor(beta * n) largest and as many smallest
 * values, and average the rest. Tolerates up to floor(beta * n) Byzantine
 * updates per coordinate.
 */
import { UsageError } from '../errors.js';
import type { Vector } from './_vector.js';

/**
 * The coordinate-wise beta-trimmed mean of `vectors`.
 *
 * @param trimFraction beta, in [0, 0.5): the share trimmed at each end
 * @throws {UsageError} no vectors, or a fraction that trims everything
 * @example trimmedMean([[1], [2], [3], [100]], 0.25) // [2.5]
 */
export function trimmedMean(vectors: readonly Vector[], trimFraction: number): Float64Array {
  const n = vectors.length;
  if (n === 0) throw new UsageError('the trimmed mean needs at least one update');
  if (!(trimFraction >= 0 && trimFraction < 0.5)) throw new UsageError(`trim fraction ${trimFraction} is not in [0, 0.5)`);
  const cut = Math.floor(trimFraction * n);
  const kept = n - 2 * cut;
  const out = new Float64Array(vectors[0]!.length);
  const column = new Float64Array(n);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < n; k++) column[k] = vectors[k]![i]!;
    column.sort();
    let s = 0;
    for (let k = cut; k < n - cut; k++) s += column[k]!;
    out[i] = s / kept;
  }
  return out;
}
