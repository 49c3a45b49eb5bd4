/**
 * Comparing embeddings: cosine similarity, and cohort centring.
 *
 * Human's FaceRes outputs are never negative, so raw cosine scores of
 * strangers sit high (about 0.7-0.8) and bunch together. Subtracting a mean
 * embedding computed from a cohort of *other* people (never the people being
 * compared) moves strangers towards 0 and separates them from genuine pairs;
 * on ORL and LFW it lowers the error rates (README.md in this folder). The cohort mean is a
 * property of the model, not of the user: compute it once from a public set.
 */
import { UsageError } from '../../errors.js';

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new UsageError(`embedding lengths differ: ${a.length} and ${b.length}`);
  if (a.length === 0) throw new UsageError('empty embedding');
}

/**
 * Cosine similarity in [-1, 1]; 0 when either vector is all zeros.
 * @throws {UsageError} when the lengths differ
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** The vector scaled to unit length (a copy); an all-zero vector stays zero. */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += (v[i] as number) ** 2;
  const out = new Float32Array(v.length);
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * s;
  return out;
}

/**
 * Mean of unit-normalised embeddings: the cohort mean for {@link centreEmbedding}.
 * @throws {UsageError} on an empty list or mixed lengths
 */
export function meanEmbedding(list: readonly ArrayLike<number>[]): Float32Array {
  const first = list[0];
  if (!first) throw new UsageError('cannot average an empty list of embeddings');
  const acc = new Float64Array(first.length);
  for (const e of list) {
    sameLength(first, e);
    const u = l2Normalize(e);
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (u[i] as number);
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = (acc[i] as number) / list.length;
  return out;
}

/**
 * The embedding unit-normalised, minus the cohort mean, normalised again.
 * @throws {UsageError} when the lengths differ
 */
export function centreEmbedding(e: ArrayLike<number>, cohortMean: ArrayLike<number>): Float32Array {
  sameLength(e, cohortMean);
  const u = l2Normalize(e);
  for (let i = 0; i < u.length; i++) u[i] = (u[i] as number) - (cohortMean[i] as number);
  return l2Normalize(u);
}
