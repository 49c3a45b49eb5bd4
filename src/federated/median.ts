/**
 * Coordinate-wise median (Yin et al., "Byzantine-Robust Distributed
 * Learning: Towards Optimal Statistical Rates", ICML 2018, Definition 1):
 * each coordinate of the result is the median of that coordinate over the
 * updates (the mean of the two middle values for an even count). Fewer than
 * half of the updates cannot pull any coordinate outside the range of the
 * honest ones.
 */
import { UsageError } from '../errors.js';
import type { Vector } from './_vector.js';

/**
 * The coordinate-wise median of `vectors`.
 *
 * @throws {UsageError} no vectors
 * @example coordinateMedian([[1, 5], [2, -100], [3, 6]]) // [2, 5]
 */
export function coordinateMedian(vectors: readonly Vector[]): Float64Array {
  const n = vectors.length;
  if (n === 0) throw new UsageError('the median needs at least one update');
  const out = new Float64Array(vectors[0]!.length);
  const column = new Float64Array(n);
  const mid = n >> 1;
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < n; k++) column[k] = vectors[k]![i]!;
    column.sort();
    out[i] = n % 2 ? column[mid]! : (column[mid - 1]! + column[mid]!) / 2;
  }
  return out;
}
