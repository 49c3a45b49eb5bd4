/**
 * Krum and Multi-Krum (Blanchard et al., "Machine Learning with Adversaries:
 * Byzantine Tolerant Gradient Descent", NeurIPS 2017, §4). Each update is
 * scored by the sum of squared distances to its n - f - 2 nearest other
 * updates; Krum returns the update with the lowest score, Multi-Krum the
 * mean of the m lowest-scoring updates. Both need n > 2f + 2.
 */
import { UsageError } from '../errors.js';
import { squaredDistance, weightedSum, type Vector } from './_vector.js';

/** The result of a Krum rule: the aggregate and which updates it used. */
export interface KrumResult {
  readonly aggregate: Float64Array;
  /** Indices into the input, lowest score first. */
  readonly selected: readonly number[];
  /** Krum score of every input. */
  readonly scores: readonly number[];
}

/** The Krum score of every update, assuming at most `f` Byzantine ones. */
export function krumScores(vectors: readonly Vector[], f: number): number[] {
  const n = vectors.length;
  if (!Number.isInteger(f) || f < 0) throw new UsageError(`the assumed number of Byzantine clients must be a non-negative integer, not ${f}`);
  if (n < 2 * f + 3) throw new UsageError(`Krum with f = ${f} needs at least ${2 * f + 3} updates, got ${n}`);
  const d = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) d[i]![j] = d[j]![i] = squaredDistance(vectors[i]!, vectors[j]!);
  }
  const neighbours = n - f - 2;
  return d.map((row, i) => {
    const others = Array.from(row).filter((_, j) => j !== i).sort((a, b) => a - b);
    return others.slice(0, neighbours).reduce((s, x) => s + x, 0);
  });
}

/** Indices ordered by score, ties broken by index so the choice is deterministic. */
function ranked(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
}

/**
 * Krum: the single update closest to its neighbours.
 *
 * @throws {UsageError} fewer than 2f + 3 updates
 */
export function krum(vectors: readonly Vector[], f: number): KrumResult {
  const scores = krumScores(vectors, f);
  const best = ranked(scores)[0]!;
  return { aggregate: Float64Array.from(vectors[best]!), selected: [best], scores };
}

/**
 * Multi-Krum: the mean of the `m` best-scoring updates (default n - f).
 *
 * @throws {UsageError} fewer than 2f + 3 updates, or m outside 1..n
 */
export function multiKrum(vectors: readonly Vector[], f: number, m = vectors.length - f): KrumResult {
  const scores = krumScores(vectors, f);
  if (!Number.isInteger(m) || m < 1 || m > vectors.length) throw new UsageError(`Multi-Krum cannot select ${m} of ${vectors.length} updates`);
  const selected = ranked(scores).slice(0, m);
  return { aggregate: weightedSum(selected.map((i) => vectors[i]!), selected.map(() => 1), m), selected, scores };
}
