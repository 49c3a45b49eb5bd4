/**
 * The embeddings encrypted matching accepts: finite vectors of 1 to
 * `MAX_DIMENSIONS` numbers, scaled to unit length so that the inner product
 * is the cosine similarity and every value stays far inside the headroom the
 * parameter set leaves above the scale.
 */

/** The coefficient encoding of a 1:1 match needs 2 x dimensions < N = 8192. */
export const MAX_DIMENSIONS = 4095;

/** A copy of `embedding` with unit Euclidean length. @throws RangeError for an empty, non-finite, zero or oversized vector. */
export function unitVector(embedding: ArrayLike<number>, dims?: number): Float64Array {
  const n = embedding.length;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DIMENSIONS) throw new RangeError(`an embedding has 1 to ${MAX_DIMENSIONS} dimensions, not ${n}`);
  if (dims !== undefined && n !== dims) throw new RangeError(`embedding has ${n} dimensions, expected ${dims}`);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(embedding[i]);
    if (!Number.isFinite(v)) throw new RangeError('embedding holds a value that is not a finite number');
    out[i] = v;
    sum += v * v;
  }
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new RangeError('embedding has no length to normalise');
  for (let i = 0; i < n; i++) out[i]! /= norm;
  return out;
}

/** The plaintext inner product, the reference every encrypted score is checked against. */
export function innerProduct(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError('vectors differ in length');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
