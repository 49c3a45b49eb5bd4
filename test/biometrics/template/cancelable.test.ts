/**
 * Cancelable templates (src/biometrics/template/cancelable.ts): a seeded,
 * angle-preserving rotation then sign bits. What users depend on: the same
 * seed always gives the same bits (so a face re-verifies), a new seed gives
 * unrelated bits (so re-enrolling revokes, and two enrolments of one person
 * cannot be linked), and the bit flip rate between two faces follows their
 * angle, which is what the code was sized for.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { projectEmbedding, selectReliableBits, templateBits } from '../../../src/biometrics/template/cancelable.js';
import { Rng, hamming } from './random.js';

const D = 1024;
const seedA = new Uint8Array(32).fill(1);
const seedB = new Uint8Array(32).fill(2);

function signs(v: Float64Array): Uint8Array {
  return Uint8Array.from(v, (x) => (x > 0 ? 1 : 0));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]! * b[i]!;
  return s;
}

function unit(v: Float32Array): Float64Array {
  const n = Math.sqrt(dot(v, v));
  return Float64Array.from(v, (x) => x / n);
}

/** A vector at exactly `angle` radians from `a` (both unit length). */
function atAngle(a: Float64Array, angle: number, rng: Rng): Float32Array {
  const r = rng.vector(a.length);
  const proj = dot(r, a);
  const orth = Float64Array.from(r, (x, i) => x - proj * a[i]!);
  const n = Math.sqrt(dot(orth, orth));
  return Float32Array.from(a, (x, i) => Math.cos(angle) * x + (Math.sin(angle) * orth[i]!) / n);
}

describe('projectEmbedding', () => {
  const rng = new Rng(21);
  const e = rng.vector(D);

  test('is deterministic per seed, and does not modify the embedding', () => {
    const copy = e.slice();
    const p1 = projectEmbedding(e, undefined, { seed: seedA, outputs: 2048 });
    const p2 = projectEmbedding(e, undefined, { seed: Uint8Array.from(seedA), outputs: 2048 });
    assert.deepEqual(p1, p2);
    assert.equal(p1.length, 2048);
    assert.deepEqual(e, copy);
  });

  test('different seeds give about 50% sign disagreement for the same embedding (unlinkable)', () => {
    const rates: number[] = [];
    for (let s = 0; s < 8; s++) {
      const other = new Uint8Array(32).fill(100 + s);
      const a = signs(projectEmbedding(e, undefined, { seed: seedA, outputs: 2048 }));
      const b = signs(projectEmbedding(e, undefined, { seed: other, outputs: 2048 }));
      rates.push(hamming(a, b) / a.length);
    }
    for (const r of rates) assert.ok(r > 0.44 && r < 0.56, `disagreement ${r}`);
    const mean = rates.reduce((x, y) => x + y, 0) / rates.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean disagreement ${mean}`);
  });

  test('a one-bit change of the seed changes the bits as much as a new seed', () => {
    const flipped = seedA.slice();
    flipped[31]! ^= 0x80;
    const a = signs(projectEmbedding(e, undefined, { seed: seedA, outputs: 1024 }));
    const b = signs(projectEmbedding(e, undefined, { seed: flipped, outputs: 1024 }));
    const r = hamming(a, b) / a.length;
    assert.ok(r > 0.43 && r < 0.57, `disagreement ${r}`);
  });

  test('each rotation is orthogonal: unit length kept and inner products preserved per block', () => {
    const f = rng.vector(D);
    const pe = projectEmbedding(e, undefined, { seed: seedB, outputs: 4096 });
    const pf = projectEmbedding(f, undefined, { seed: seedB, outputs: 4096 });
    const cos = dot(unit(e), unit(f));
    for (let r = 0; r < 4; r++) {
      const [from, to] = [r * D, (r + 1) * D];
      assert.ok(Math.abs(dot(pe, pe, from, to) - 1) < 1e-9, `block ${r} norm`);
      assert.ok(Math.abs(dot(pe, pf, from, to) - cos) < 1e-9, `block ${r} inner product`);
    }
    // The blocks are different rotations, not copies.
    assert.ok(hamming(signs(pe.subarray(0, D)), signs(pe.subarray(D, 2 * D))) > D / 4);
  });

  test('sign disagreement rate is close to angle / pi (SimHash property)', () => {
    for (const degrees of [10, 30, 60, 90, 135]) {
      const angle = (degrees * Math.PI) / 180;
      let total = 0;
      let bits = 0;
      for (let trial = 0; trial < 6; trial++) {
        const a = rng.vector(D);
        const b = atAngle(unit(a), angle, rng);
        const seed = rng.bytes(32);
        const pa = signs(projectEmbedding(a, undefined, { seed, outputs: 2048 }));
        const pb = signs(projectEmbedding(b, undefined, { seed, outputs: 2048 }));
        total += hamming(pa, pb);
        bits += pa.length;
      }
      const rate = total / bits;
      const expected = angle / Math.PI;
      assert.ok(Math.abs(rate - expected) < 0.03, `${degrees} degrees: disagreement ${rate.toFixed(3)}, expected ${expected.toFixed(3)}`);
    }
  });

  test('ignores the embedding scale (without a cohort mean; with one, see cohort.test.ts)', () => {
    const p = { seed: seedA, outputs: 1024 };
    const scaled = Float32Array.from(e, (x) => 3 * x);
    const a = projectEmbedding(e, undefined, p);
    const b = projectEmbedding(scaled, undefined, p);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6);
  });

  test('pads embeddings to a power of two (128-d face-api, 1000-d) and is finite for a zero vector', () => {
    const small = projectEmbedding(rng.vector(128), undefined, { seed: seedA, outputs: 512 });
    assert.equal(small.length, 512);
    const odd = projectEmbedding(rng.vector(1000), undefined, { seed: seedA, outputs: 2048 });
    assert.equal(odd.length, 2048);
    assert.ok(projectEmbedding(new Float32Array(D), undefined, { seed: seedA, outputs: 1024 }).every(Number.isFinite));
  });

  test('outputs that are not a multiple of the padded dimension throw RangeError', () => {
    for (const outputs of [1000, 1536, 0 + 1, 2047]) {
      assert.throws(() => projectEmbedding(e, undefined, { seed: seedA, outputs }), RangeError, `outputs ${outputs}`);
    }
    assert.throws(() => projectEmbedding(rng.vector(1000), undefined, { seed: seedA, outputs: 1000 }), RangeError);
  });
});

describe('selectReliableBits', () => {
  /** Projections from per-coordinate sample values: column j of rows. */
  function fromRows(rows: number[][]): Float64Array[] {
    return rows.map((r) => Float64Array.from(r));
  }

  test('picks coordinates all samples agree on first, ranked by |mean| / spread', () => {
    // 8 coordinates, 3 samples. Unanimous: 0 (strong), 3 (weaker), 5 (strongest), 6 (negative).
    // Split: 1, 2, 4, 7 (2 has a large mean but disagrees).
    const projections = fromRows([
      [1.0, 0.5, 5, 0.3, -0.1, 2.0, -0.9, 0.01],
      [1.1, -0.5, 5, 0.1, 0.1, 2.0, -1.0, -0.01],
      [0.9, 0.4, -0.1, 0.5, -0.1, 2.0, -1.1, 0.02],
    ]);
    const s = selectReliableBits(projections, 4, 1);
    assert.deepEqual([...s.indices], [5, 0, 6, 3]);
    assert.deepEqual([...s.reference], [1, 1, 0, 1]);
    assert.equal(s.unanimous, 4);

    const more = selectReliableBits(projections, 6, 1);
    assert.deepEqual([...more.indices].slice(0, 4), [5, 0, 6, 3], 'unanimous bits come first');
    assert.equal(more.indices[4], 2, 'then the best of the rest, by score');
    assert.equal(more.unanimous, 4);
  });

  test('deals ranks round-robin over blocks, so each block gets bits of every reliability', () => {
    // 12 unanimous coordinates whose reliability falls with the index.
    const rows = [0, 1, 2].map((s) => Array.from({ length: 12 }, (_, j) => 12 - j + s * 0.01));
    const sel = selectReliableBits(fromRows(rows), 12, 3);
    // rank r goes to block r % 3, position floor(r / 3) in it.
    assert.deepEqual([...sel.indices], [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
    assert.equal(sel.unanimous, 12);
    assert.equal(new Set(sel.indices).size, 12, 'no coordinate is used twice');
  });

  test('reference bits are the sign of the mean of the samples', () => {
    const rng = new Rng(22);
    const projections = [0, 1, 2, 3, 4].map(() => Float64Array.from(rng.vector(256)));
    const sel = selectReliableBits(projections, 128, 2);
    for (let i = 0; i < 128; i++) {
      const j = sel.indices[i]!;
      const mean = projections.reduce((s, p) => s + p[j]!, 0);
      assert.equal(sel.reference[i], mean > 0 ? 1 : 0);
    }
  });

  test('with one sample every coordinate is unanimous and the largest magnitudes win', () => {
    const p = Float64Array.from([0.1, -3, 2, 0.5]);
    const sel = selectReliableBits([p], 2, 1);
    assert.deepEqual([...sel.indices], [1, 2]);
    assert.deepEqual([...sel.reference], [0, 1]);
  });

  test('refuses no samples, more bits than coordinates, and counts not divisible by blocks', () => {
    const p = [new Float64Array(16)];
    assert.throws(() => selectReliableBits([], 4, 1), RangeError);
    assert.throws(() => selectReliableBits(p, 17, 1), RangeError);
    assert.throws(() => selectReliableBits(p, 10, 3), RangeError);
  });
});

describe('templateBits', () => {
  test('reads the sign of the projection at the selected indices, in order', () => {
    const projection = Float64Array.from([-1, 2, 0, 3, -4]);
    assert.deepEqual([...templateBits(projection, Uint32Array.from([3, 0, 1, 2, 4]))], [1, 0, 1, 0, 0]);
  });
});
