/**
 * Cancelable binary templates (Ratha, Connell and Bolle, "Enhancing security
 * and privacy in biometrics-based authentication systems", IBM Systems
 * Journal 2001): a face embedding is centred on a cohort mean, rotated by a
 * random orthogonal transform drawn from a per-enrolment seed, and reduced to
 * sign bits. A new seed gives unrelated bits, so re-enrolling revokes the old
 * template, and templates of one person under two seeds cannot be linked.
 *
 * The rotation is a structured orthogonal random matrix, H·D3·H·D2·H·D1
 * (Yu et al., "Orthogonal Random Features", NeurIPS 2016): D are random ±1
 * diagonals, H the normalised Walsh-Hadamard transform. It is orthogonal,
 * close to a uniformly random rotation in practice, and costs O(d log d).
 * Angles are preserved, so a sign bit differs between two embeddings with
 * probability (their angle)/π, the SimHash property the code sizing rests on.
 */
import { createCipheriv, hkdfSync } from 'node:crypto';

export interface ProjectionParams {
  /** 32 random bytes, stored with the enrolment. */
  readonly seed: Uint8Array;
  /** Number of projected coordinates: a multiple of the padded embedding dimension. */
  readonly outputs: number;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** In-place normalised fast Walsh-Hadamard transform (length a power of two). */
function fwht(v: Float64Array): void {
  for (let h = 1; h < v.length; h <<= 1) {
    for (let i = 0; i < v.length; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const a = v[j]!;
        const b = v[j + h]!;
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
  const scale = 1 / Math.sqrt(v.length);
  for (let i = 0; i < v.length; i++) v[i]! *= scale;
}

/** ±1 signs from an AES-256-CTR keystream keyed by HKDF(seed): deterministic per seed. */
function signStream(seed: Uint8Array, count: number): Int8Array {
  const key = new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), 'bioseal/v1 face projection', 32));
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const bytes = cipher.update(Buffer.alloc(Math.ceil(count / 8)));
  key.fill(0);
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1 ? 1 : -1;
  return out;
}

const signCache = new Map<string, Int8Array>();

function signsFor(seed: Uint8Array, count: number): Int8Array {
  const key = `${Buffer.from(seed).toString('hex')}/${count}`;
  let s = signCache.get(key);
  if (!s) {
    s = signStream(seed, count);
    if (signCache.size > 64) signCache.clear();
    signCache.set(key, s);
  }
  return s;
}

/**
 * Centres an embedding on a cohort mean (of unit vectors), then applies `outputs / d` independent
 * structured rotations (d = embedding length rounded up to a power of two).
 */
export function projectEmbedding(embedding: Float32Array, mean: Float32Array | undefined, p: ProjectionParams): Float64Array {
  const d = nextPow2(embedding.length);
  if (p.outputs % d !== 0) throw new RangeError(`outputs (${p.outputs}) must be a multiple of ${d}`);
  // Centred exactly as centreEmbedding does: unit length first, then minus
  // the cohort mean (a mean of unit vectors), then unit length again.
  let inNorm = 0;
  for (let i = 0; i < embedding.length; i++) inNorm += embedding[i]! * embedding[i]!;
  inNorm = Math.sqrt(inNorm) || 1;
  const centred = new Float64Array(d);
  let norm = 0;
  for (let i = 0; i < embedding.length; i++) {
    const v = embedding[i]! / inNorm - (mean?.[i] ?? 0);
    centred[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < d; i++) centred[i]! /= norm;
  const rotations = p.outputs / d;
  const signs = signsFor(p.seed, rotations * 3 * d);
  const out = new Float64Array(p.outputs);
  const v = new Float64Array(d);
  for (let r = 0; r < rotations; r++) {
    v.set(centred);
    for (let round = 0; round < 3; round++) {
      const base = (r * 3 + round) * d;
      for (let i = 0; i < d; i++) v[i]! *= signs[base + i]!;
      fwht(v);
    }
    out.set(v, r * d);
  }
  centred.fill(0);
  v.fill(0);
  return out;
}

/** The selection of reliable bits made at enrolment. */
export interface BitSelection {
  /** Projected coordinates used, in template order. */
  readonly indices: Uint32Array;
  /** The enrolled template bits (majority sign per selected coordinate). */
  readonly reference: Uint8Array;
  /** How many of the selected bits all enrolment samples agreed on. */
  readonly unanimous: number;
}

/**
 * Picks the `count` most reliable coordinates from several enrolment
 * projections: those where every sample has the same sign, ranked by the
 * magnitude of the mean over its spread, then (if too few agree) the rest by
 * the same score. Ranks are dealt round-robin over `blocks` code blocks so
 * each block gets bits of every reliability.
 */
export function selectReliableBits(projections: readonly Float64Array[], count: number, blocks: number): BitSelection {
  if (projections.length === 0) throw new RangeError('no enrolment samples');
  const P = projections[0]!.length;
  if (count > P) throw new RangeError(`cannot select ${count} of ${P} bits`);
  if (count % blocks !== 0) throw new RangeError('count must be a multiple of blocks');
  const scored: { index: number; agree: boolean; score: number; mean: number }[] = [];
  for (let j = 0; j < P; j++) {
    let sum = 0;
    let pos = 0;
    for (const p of projections) {
      sum += p[j]!;
      if (p[j]! > 0) pos++;
    }
    const mean = sum / projections.length;
    let varSum = 0;
    for (const p of projections) varSum += (p[j]! - mean) ** 2;
    const spread = Math.sqrt(varSum / projections.length) + 1e-3;
    scored.push({ index: j, agree: pos === 0 || pos === projections.length, score: Math.abs(mean) / spread, mean });
  }
  scored.sort((a, b) => Number(b.agree) - Number(a.agree) || b.score - a.score);
  const chosen = scored.slice(0, count);
  const perBlock = count / blocks;
  const indices = new Uint32Array(count);
  const reference = new Uint8Array(count);
  chosen.forEach((c, rank) => {
    const position = (rank % blocks) * perBlock + Math.floor(rank / blocks);
    indices[position] = c.index;
    reference[position] = c.mean > 0 ? 1 : 0;
  });
  return { indices, reference, unanimous: chosen.filter((c) => c.agree).length };
}

/** The template bits of a fresh projection at the enrolled coordinates. */
export function templateBits(projection: Float64Array, indices: Uint32Array): Uint8Array {
  const out = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = projection[indices[i]!]! > 0 ? 1 : 0;
  return out;
}
