/**
 * BCH codes (src/biometrics/template/bch.ts): the error-correcting code under
 * the face commitment. What the face factor depends on: every parameter set
 * it uses has the textbook dimension, corrects every pattern of up to t bit
 * errors exactly, and never hands back the original message for a word with
 * more than t errors (so a stranger cannot decode to the owner's secret).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BchCode } from '../../../src/biometrics/template/bch.js';
import { bchCode } from '../../../src/biometrics/template/fuzzy-commitment.js';
import { FACE_TEMPLATE_PARAMS } from '../../../src/enrolment/face.js';
import { Rng, flipBits, hamming } from './random.js';

/**
 * (m, t) -> k for primitive narrow-sense binary BCH codes, from the standard
 * table (Lin & Costello, Appendix C). A designed t between two table rows
 * gives the code of the next row (t = 35 at n = 255 is the (255, 47) code,
 * whose true capability is 42; the decoder corrects the designed 35).
 */
const TABLE: readonly [m: number, t: number, k: number][] = [
  [5, 1, 26], [5, 2, 21], [5, 3, 16], [5, 4, 11], [5, 5, 11], [5, 7, 6],
  [8, 1, 247], [8, 2, 239], [8, 18, 131], [8, 21, 115], [8, 29, 71], [8, 30, 63], [8, 31, 55], [8, 35, 47], [8, 42, 47],
  [9, 2, 493], [9, 10, 421], [9, 20, 340], [9, 30, 259], [9, 31, 250], [9, 51, 157],
  [10, 10, 923],
];

/** The codes the face factor and its tests rely on: the default, its neighbour, a longer and a short one. */
const USED: readonly [number, number][] = [
  [FACE_TEMPLATE_PARAMS.m, FACE_TEMPLATE_PARAMS.t],
  [8, 29],
  [9, 30],
  [9, 51],
  [5, 3],
  [5, 7],
];

function isCodeword(code: BchCode, word: Uint8Array): boolean {
  const d = code.decode(word);
  return d !== undefined && d.corrected === 0;
}

describe('BCH code parameters', () => {
  test('(n, k) match the textbook table for every listed (m, t)', () => {
    for (const [m, t, k] of TABLE) {
      const code = new BchCode(m, t);
      assert.equal(code.n, 2 ** m - 1, `n for m=${m}`);
      assert.equal(code.k, k, `k for (m=${m}, t=${t})`);
      assert.equal(code.t, t);
    }
  });

  test('the default face code is BCH(255, 47) correcting 35 errors per block', () => {
    const code = bchCode(FACE_TEMPLATE_PARAMS.m, FACE_TEMPLATE_PARAMS.t);
    assert.deepEqual([code.n, code.k, code.t], [255, 47, 35]);
    assert.equal(bchCode(8, 35), code, 'codes are shared, not rebuilt');
  });

  test('unsupported field sizes, non-positive or fractional t, and codes with no message bits throw RangeError', () => {
    for (const [m, t] of [[3, 1], [13, 1], [8, 0], [8, -1], [8, 1.5], [8, Number.NaN], [5, 16], [5, 31]] as const) {
      assert.throws(() => new BchCode(m, t), RangeError, `(m=${m}, t=${t})`);
    }
  });
});

describe('BCH encoding', () => {
  test('is systematic: parity in bits [0, n-k), the message verbatim in [n-k, n)', () => {
    const rng = new Rng(1);
    for (const [m, t] of USED) {
      const code = bchCode(m, t);
      for (let trial = 0; trial < 5; trial++) {
        const message = rng.bits(code.k);
        const word = code.encode(message);
        assert.equal(word.length, code.n);
        assert.deepEqual(word.subarray(code.n - code.k), message);
        assert.ok(word.every((b) => b === 0 || b === 1));
        assert.ok(isCodeword(code, word), `encode(m) is a codeword for (m=${m}, t=${t})`);
      }
    }
  });

  test('is linear: encode(a) xor encode(b) = encode(a xor b); zero encodes to zero', () => {
    const rng = new Rng(2);
    const code = bchCode(8, 35);
    assert.ok(code.encode(new Uint8Array(code.k)).every((b) => b === 0));
    for (let trial = 0; trial < 10; trial++) {
      const a = rng.bits(code.k);
      const b = rng.bits(code.k);
      const sum = code.encode(a).map((v, i) => v ^ code.encode(b)[i]!);
      assert.deepEqual(sum, code.encode(a.map((v, i) => v ^ b[i]!)));
    }
  });

  test('distinct messages give codewords at least 2t + 1 apart (sampled)', () => {
    const rng = new Rng(3);
    for (const [m, t] of USED) {
      const code = bchCode(m, t);
      for (let trial = 0; trial < 20; trial++) {
        const a = rng.bits(code.k);
        const b = flipBits(a, 1 + rng.int(3), rng);
        assert.ok(hamming(code.encode(a), code.encode(b)) >= 2 * t + 1, `(m=${m}, t=${t})`);
      }
    }
  });

  test('wrong message lengths throw RangeError', () => {
    const code = bchCode(8, 35);
    for (const n of [0, code.k - 1, code.k + 1, code.n]) assert.throws(() => code.encode(new Uint8Array(n)), RangeError);
  });
});

describe('BCH decoding', () => {
  test('corrects every number of random errors from 0 to t exactly, and reports how many', () => {
    const rng = new Rng(4);
    for (const [m, t] of USED) {
      const code = bchCode(m, t);
      for (let errors = 0; errors <= t; errors++) {
        const trials = errors === t || errors === t - 1 ? 8 : 2;
        for (let trial = 0; trial < trials; trial++) {
          const message = rng.bits(code.k);
          const received = flipBits(code.encode(message), errors, rng);
          const decoded = code.decode(received);
          assert.ok(decoded, `(m=${m}, t=${t}) with ${errors} errors should decode`);
          assert.deepEqual(decoded.message, message, `(m=${m}, t=${t}) with ${errors} errors`);
          assert.equal(decoded.corrected, errors);
        }
      }
    }
  });

  test('corrects t errors wherever they fall: all in parity, all in the message, a burst, both ends', () => {
    const rng = new Rng(5);
    for (const [m, t] of USED) {
      const code = bchCode(m, t);
      const parity = code.n - code.k;
      const patterns: number[][] = [
        Array.from({ length: Math.min(t, parity) }, (_, i) => i),
        Array.from({ length: Math.min(t, code.k) }, (_, i) => code.n - 1 - i),
        Array.from({ length: t }, (_, i) => (17 + i) % code.n),
        [0, code.n - 1],
      ];
      for (const positions of patterns) {
        const message = rng.bits(code.k);
        const received = code.encode(message);
        for (const p of positions) received[p]! ^= 1;
        const decoded = code.decode(received);
        assert.ok(decoded, `(m=${m}, t=${t}) pattern ${positions.slice(0, 3).join(',')}...`);
        assert.deepEqual(decoded.message, message);
        assert.equal(decoded.corrected, positions.length);
      }
    }
  });

  test('beyond t errors it never returns the original message (undecodable or a different codeword)', () => {
    const rng = new Rng(6);
    for (const [m, t] of USED) {
      const code = bchCode(m, t);
      let undecodable = 0;
      let total = 0;
      for (const errors of [t + 1, t + 2, t + 3, t + 5, Math.min(code.n, 2 * t + 1), Math.floor(code.n / 2)]) {
        for (let trial = 0; trial < 6; trial++) {
          const message = rng.bits(code.k);
          const decoded = code.decode(flipBits(code.encode(message), errors, rng));
          total++;
          if (!decoded) {
            undecodable++;
            continue;
          }
          assert.notDeepEqual(decoded.message, message, `(m=${m}, t=${t}) with ${errors} errors returned the original`);
          assert.ok(decoded.corrected <= t, 'never claims to correct more than t');
        }
      }
      // A decoder that "succeeds" on heavy corruption would be a bug even if the message differs.
      if (m >= 8) assert.ok(undecodable / total > 0.9, `(m=${m}, t=${t}): only ${undecodable}/${total} reported undecodable`);
    }
  });

  test('a random word (a stranger) is almost never within t of a codeword for the face code', () => {
    const rng = new Rng(7);
    const code = bchCode(8, 35);
    let decoded = 0;
    for (let trial = 0; trial < 200; trial++) if (code.decode(rng.bits(code.n))) decoded++;
    assert.ok(decoded <= 2, `${decoded}/200 random words decoded`);
  });

  test('does not modify its input', () => {
    const rng = new Rng(8);
    const code = bchCode(8, 29);
    const received = flipBits(code.encode(rng.bits(code.k)), 10, rng);
    const copy = received.slice();
    code.decode(received);
    assert.deepEqual(received, copy);
  });

  test('wrong word lengths throw RangeError', () => {
    const code = bchCode(8, 35);
    for (const n of [0, code.n - 1, code.n + 1, 2 * code.n]) assert.throws(() => code.decode(new Uint8Array(n)), RangeError);
  });
});
