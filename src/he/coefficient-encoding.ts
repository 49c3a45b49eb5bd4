/**
 * The encoding of a 1:1 match, which needs no rotations: the inner product
 * is read from one coefficient of the product polynomial rather than summed
 * across slots.
 *
 * CKKS multiplies ciphertexts slot by slot, which is multiplication of the
 * underlying polynomials modulo X^N + 1. An embedding v of d dimensions is
 * encoded as the polynomial V(X) = 1/2 sum_{k=1..d} v_k (X^k + X^-k). Its
 * values at the primitive 2N-th roots of unity are real, so SEAL's CKKS
 * encoder (real slots) can carry it: slot j holds sum_k v_k cos(pi k e_j / N),
 * where e_j = 3^j mod 2N is the root SEAL assigns to slot j. In the product of
 * two such polynomials the constant coefficient is 1/2 <v, w> (the terms with
 * equal k; no other pair of exponents in 1..d sums to 0 or N while 2d < N).
 *
 * The key holder recovers the constant coefficient from the decrypted slots:
 * the mean of a polynomial's values over all N primitive roots is its
 * constant coefficient, and the real slots carry half of them, the other half
 * being their conjugates. So the score is twice the mean of the slots.
 *
 * The slot values are one length-2N discrete Fourier transform of the
 * embedding (the real part, at the odd frequencies e_j), computed here with a
 * radix-2 FFT.
 */
import { MAX_DIMENSIONS } from './embedding.js';

interface FftTables {
  readonly n: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly reversed: Uint32Array;
  /** e_j = 3^j mod n for each slot j. */
  readonly slotRoots: Uint32Array;
}

const tables = new Map<number, FftTables>();

function fftTables(polyModulusDegree: number): FftTables {
  let t = tables.get(polyModulusDegree);
  if (t) return t;
  const n = 2 * polyModulusDegree;
  const bits = Math.log2(n);
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = Math.sin((2 * Math.PI * i) / n);
  }
  const reversed = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reversed[i] = r;
  }
  const slotRoots = new Uint32Array(polyModulusDegree / 2);
  let root = 1;
  for (let j = 0; j < slotRoots.length; j++) {
    slotRoots[j] = root;
    root = (root * 3) % n;
  }
  t = { n, cos, sin, reversed, slotRoots };
  tables.set(polyModulusDegree, t);
  return t;
}

/** Real part of the DFT of a real sequence (in place on copies), radix 2. */
function realDft(x: Float64Array, t: FftTables): Float64Array {
  const { n, cos, sin, reversed } = t;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[reversed[i]!] = x[i]!;
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step]!;
        const wi = -sin[k * step]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
  return re;
}

/**
 * The slot values that encode unit vector `v` for a 1:1 match.
 * @throws RangeError when v has too many dimensions for the polynomial degree.
 */
export function matchSlots(v: Float64Array, polyModulusDegree: number): Float64Array {
  if (v.length < 1 || 2 * v.length >= polyModulusDegree || v.length > MAX_DIMENSIONS) {
    throw new RangeError(`a 1:1 match encodes 1 to ${Math.min(MAX_DIMENSIONS, polyModulusDegree / 2 - 1)} dimensions`);
  }
  const t = fftTables(polyModulusDegree);
  const x = new Float64Array(t.n);
  x.set(v, 1);
  const spectrum = realDft(x, t);
  const slots = new Float64Array(t.slotRoots.length);
  for (let j = 0; j < slots.length; j++) slots[j] = spectrum[t.slotRoots[j]!]!;
  return slots;
}

/** The inner product carried by the decrypted slots of a 1:1 match result: twice their mean. */
export function matchScoreFromSlots(slots: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < slots.length; j++) sum += slots[j]!;
  return (2 * sum) / slots.length;
}
