/**
 * Binary primitive narrow-sense BCH codes of length n = 2^m - 1 that correct
 * up to t bit errors (Bose, Ray-Chaudhuri, Hocquenghem). Used by the fuzzy
 * commitment to absorb the bits in which two captures of the same face differ.
 *
 * This is an error-correcting code, not a cryptographic primitive: its job is
 * to map close bit strings to the same codeword. Decoding follows the textbook
 * route (Lin & Costello, "Error Control Coding", ch. 6): syndromes,
 * Berlekamp-Massey for the error-locator polynomial, Chien search for its
 * roots. A received word with more than t errors is either reported as
 * undecodable or decoded to a wrong codeword; the commitment's hash check
 * tells the two apart from success.
 *
 * Bits are Uint8Array of 0/1, index i = coefficient of x^i. Codewords are
 * systematic: bits [0, n-k) are parity, bits [n-k, n) the message.
 */

/** Primitive polynomials for GF(2^m), as bit masks including x^m. */
const PRIMITIVE: Record<number, number> = { 4: 0x13, 5: 0x25, 6: 0x43, 7: 0x89, 8: 0x11d, 9: 0x211, 10: 0x409, 11: 0x805, 12: 0x1053 };

class GaloisField {
  readonly size: number;
  readonly exp: Int32Array;
  readonly log: Int32Array;

  constructor(readonly m: number) {
    const poly = PRIMITIVE[m];
    if (poly === undefined) throw new RangeError(`no primitive polynomial for m=${m}`);
    this.size = (1 << m) - 1;
    this.exp = new Int32Array(2 * this.size);
    this.log = new Int32Array(this.size + 1).fill(-1);
    let x = 1;
    for (let i = 0; i < this.size; i++) {
      this.exp[i] = x;
      this.log[x] = i;
      x <<= 1;
      if (x & (1 << m)) x ^= poly;
    }
    for (let i = this.size; i < 2 * this.size; i++) this.exp[i] = this.exp[i - this.size]!;
  }

  mul(a: number, b: number): number {
    if (a === 0 || b === 0) return 0;
    return this.exp[this.log[a]! + this.log[b]!]!;
  }

  /** α^e for any integer e. */
  pow(e: number): number {
    const r = ((e % this.size) + this.size) % this.size;
    return this.exp[r]!;
  }

  inv(a: number): number {
    return this.exp[this.size - this.log[a]!]!;
  }
}

/** Multiplies two GF(2) polynomials given as 0/1 coefficient arrays. */
function mulGf2(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) {
    if (!a[i]) continue;
    for (let j = 0; j < b.length; j++) out[i + j]! ^= b[j]!;
  }
  return out;
}

/** The outcome of decoding. */
export interface BchDecoded {
  readonly message: Uint8Array;
  /** Number of bit errors corrected. */
  readonly corrected: number;
}

export class BchCode {
  readonly n: number;
  readonly k: number;
  readonly t: number;
  private readonly field: GaloisField;
  /** Generator polynomial over GF(2), coefficients low to high; degree n - k. */
  private readonly generator: Uint8Array;

  /**
   * @param m field degree: the code length is 2^m - 1 (4..12)
   * @param t designed number of correctable errors
   * @throws RangeError when no message bits would remain
   */
  constructor(m: number, t: number) {
    if (!Number.isInteger(t) || t < 1) throw new RangeError('t must be a positive integer');
    this.field = new GaloisField(m);
    this.n = this.field.size;
    this.t = t;
    // g(x) = lcm of the minimal polynomials of α^1 .. α^2t. In a binary code the
    // minimal polynomial of α^2i equals that of α^i, so odd exponents suffice,
    // and each cyclotomic coset contributes once.
    const seen = new Set<number>();
    let g: number[] = [1];
    for (let i = 1; i <= 2 * t; i++) {
      if (seen.has(i % this.n)) continue;
      const coset: number[] = [];
      let j = i % this.n;
      while (!coset.includes(j)) {
        coset.push(j);
        seen.add(j);
        j = (j * 2) % this.n;
      }
      // minimal polynomial = Π (x - α^j) over the coset; its coefficients lie in GF(2).
      let p: number[] = [1];
      for (const e of coset) {
        const root = this.field.pow(e);
        const next = new Array<number>(p.length + 1).fill(0);
        for (let d = 0; d < p.length; d++) {
          next[d + 1]! ^= p[d]!;
          next[d]! ^= this.field.mul(p[d]!, root);
        }
        p = next;
      }
      if (p.some((c) => c > 1)) throw new Error('internal: minimal polynomial not binary');
      g = mulGf2(g, p);
    }
    this.generator = Uint8Array.from(g);
    this.k = this.n - (g.length - 1);
    if (this.k < 1) throw new RangeError(`BCH(m=${m}, t=${t}) leaves no message bits`);
  }

  /** Systematic encoding of k message bits into an n-bit codeword. */
  encode(message: Uint8Array): Uint8Array {
    if (message.length !== this.k) throw new RangeError(`message must be ${this.k} bits`);
    const parityLength = this.n - this.k;
    const word = new Uint8Array(this.n);
    word.set(message, parityLength);
    // remainder of message(x)·x^(n-k) divided by g(x)
    const rem = word.slice();
    for (let i = this.n - 1; i >= parityLength; i--) {
      if (!rem[i]) continue;
      for (let j = 0; j <= parityLength; j++) rem[i - parityLength + j]! ^= this.generator[j]!;
    }
    word.set(rem.subarray(0, parityLength), 0);
    return word;
  }

  private syndromes(word: Uint8Array): number[] {
    const s: number[] = [];
    for (let j = 1; j <= 2 * this.t; j++) {
      let acc = 0;
      for (let i = 0; i < this.n; i++) if (word[i]) acc ^= this.field.pow(i * j);
      s.push(acc);
    }
    return s;
  }

  /**
   * Decodes an n-bit word with up to t errors.
   * @returns the message and the number of corrected bits, or undefined when
   *   the word is not within distance t of a codeword as far as the decoder can tell.
   */
  decode(received: Uint8Array): BchDecoded | undefined {
    if (received.length !== this.n) throw new RangeError(`word must be ${this.n} bits`);
    const f = this.field;
    const S = this.syndromes(received);
    const word = received.slice();
    if (S.every((s) => s === 0)) return { message: word.slice(this.n - this.k), corrected: 0 };
    // Berlekamp-Massey: the shortest LFSR Λ that generates the syndromes.
    let lambda = [1];
    let prev = [1];
    let L = 0;
    let shift = 1;
    let b = 1;
    for (let r = 0; r < 2 * this.t; r++) {
      let delta = S[r]!;
      for (let i = 1; i <= L; i++) delta ^= f.mul(lambda[i] ?? 0, S[r - i]!);
      if (delta === 0) {
        shift++;
        continue;
      }
      const coef = f.mul(delta, f.inv(b));
      const next = lambda.slice();
      for (let i = 0; i < prev.length; i++) {
        while (next.length <= i + shift) next.push(0);
        next[i + shift]! ^= f.mul(coef, prev[i]!);
      }
      if (2 * L <= r) {
        prev = lambda;
        L = r + 1 - L;
        b = delta;
        shift = 1;
      } else {
        shift++;
      }
      lambda = next;
    }
    while (lambda.length > 1 && lambda[lambda.length - 1] === 0) lambda.pop();
    const degree = lambda.length - 1;
    if (degree !== L || L > this.t) return undefined;
    // Chien search: position i is in error when Λ(α^-i) = 0.
    let found = 0;
    for (let i = 0; i < this.n; i++) {
      let v = 0;
      for (let d = 0; d <= degree; d++) v ^= f.mul(lambda[d]!, f.pow(-i * d));
      if (v === 0) {
        word[i]! ^= 1;
        found++;
      }
    }
    if (found !== degree) return undefined;
    if (this.syndromes(word).some((s) => s !== 0)) return undefined;
    return { message: word.slice(this.n - this.k), corrected: found };
  }
}
