/**
 * Small dense-vector helpers shared by the aggregation rules. Updates arrive
 * as Float32Array or Float64Array; results are always Float64Array so that
 * sums over many clients do not lose precision.
 */

/** A flat model update (or model) as clients send it. */
export type Vector = Float32Array | Float64Array;

/** Euclidean (L2) norm. */
export function l2Norm(v: Vector): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Squared Euclidean distance between two vectors of the same length. */
export function squaredDistance(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

/** The weighted sum of `vectors` divided by `divisor`. */
export function weightedSum(vectors: readonly Vector[], weights: readonly number[], divisor: number): Float64Array {
  const out = new Float64Array(vectors[0]?.length ?? 0);
  vectors.forEach((v, k) => {
    const w = weights[k]! / divisor;
    for (let i = 0; i < out.length; i++) out[i]! += w * v[i]!;
  });
  return out;
}
