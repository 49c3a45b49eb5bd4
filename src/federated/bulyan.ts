/**
 * Bulyan (El Mhamdi, Guerraoui, Rouault, "The Hidden Vulnerability of
 * Distributed Learning in Byzantium", ICML 2018, §4): Krum picks theta =
 * n - 2f updates one at a time (each time the Krum winner among those not yet
 * picked), then every coordinate is the mean of the beta = theta - 2f picked
 * values closest to that coordinate's median. The selection removes updates
 * far from the rest, such as boosted ones, which the coordinate-wise rules
 * cannot see; the trimmed step bounds what a picked attacker can do in any
 * one coordinate. Needs n >= 4f + 3.
 */
import { UsageError } from '../errors.js';
import { squaredDistance, type Vector } from './_vector.js';

export interface BulyanResult {
  readonly aggregate: Float64Array;
  /** Indices of the theta picked updates, in the order Krum picked them. */
  readonly selected: readonly number[];
}

/**
 * Bulyan over `vectors`, assuming at most `f` Byzantine ones. While picking,
 * Krum scores each remaining update by its squared distances to its
 * r - f - 2 nearest remaining neighbours (at least one), r the number remaining.
 *
 * @throws {UsageError} f not a non-negative integer, or fewer than 4f + 3 updates
 * @example bulyan(updates, 2).selected // the n - 4 picked indices
 */
export function bulyan(vectors: readonly Vector[], f: number): BulyanResult {
  const n = vectors.length;
  if (!Number.isInteger(f) || f < 0) throw new UsageError(`the assumed number of Byzantine clients must be a non-negative integer, not ${f}`);
  if (n < 4 * f + 3) throw new UsageError(`Bulyan with f = ${f} needs at least ${4 * f + 3} updates, got ${n}`);
  const d = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) d[i]![j] = d[j]![i] = squaredDistance(vectors[i]!, vectors[j]!);
  }
  const theta = n - 2 * f;
  const remaining = new Set(vectors.map((_, i) => i));
  const selected: number[] = [];
  while (selected.length < theta) {
    const left = [...remaining];
    const k = Math.max(1, left.length - f - 2);
    let best = -1;
    let bestScore = Infinity;
    for (const i of left) {
      const near = left.filter((j) => j !== i).map((j) => d[i]![j]!).sort((a, b) => a - b);
      const score = near.slice(0, k).reduce((s, x) => s + x, 0);
      if (score < bestScore) [best, bestScore] = [i, score]; // ties: the lower index, as `left` is in index order
    }
    selected.push(best);
    remaining.delete(best);
  }
  const beta = theta - 2 * f;
  const out = new Float64Array(vectors[0]!.length);
  const column = new Float64Array(theta);
  const mid = theta >> 1;
  for (let i = 0; i < out.length; i++) {
    selected.forEach((s, k) => (column[k] = vectors[s]![i]!));
    column.sort();
    const median = theta % 2 ? column[mid]! : (column[mid - 1]! + column[mid]!) / 2;
    // The beta values closest to the median form a window of the sorted column; slide it to the tightest fit.
    let lo = 0;
    while (lo + beta < theta && Math.abs(column[lo + beta]! - median) < Math.abs(column[lo]! - median)) lo++;
    let s = 0;
    for (let k = lo; k < lo + beta; k++) s += column[k]!;
    out[i] = s / beta;
  }
  return { aggregate: out, selected };
}
