import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundToMedianNorm, medianOf } from '../../src/federated/norm-bound.js';
import { centeredClip } from '../../src/federated/centered-clip.js';
import { bucketMeans } from '../../src/federated/bucketing.js';
import { bulyan } from '../../src/federated/bulyan.js';
import { aggregateUpdates, AGGREGATION_RULES } from '../../src/federated/aggregate.js';
import type { ClientUpdate } from '../../src/federated/update.js';
import { seededRandom } from '../../src/eval/metrics.js';
import { UsageError } from '../../src/errors.js';

const v = (...xs: number[]) => Float64Array.from(xs);
const norm = (x: ArrayLike<number>) => Math.hypot(...Array.from(x));
const close = (a: ArrayLike<number>, b: readonly number[], eps = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= eps, `index ${i}: ${a[i]} != ${b[i]}`);
};

test('median norm bounding scales a boosted update to the median norm and leaves shorter ones alone', () => {
  const honest = [v(0, 1), v(2, 0), v(0, -3)]; // norms 1, 2, 3
  const boosted = v(300, 400); // norm 500: a model-replacing update
  const r = boundToMedianNorm([...honest, boosted]);
  assert.equal(r.bound, 2.5); // the median of 1, 2, 3, 500
  assert.deepEqual(r.scaled, [2, 3]); // the norm-3 update and the boosted one
  close(r.vectors[3]!, [1.5, 2]); // same direction, norm 2.5
  close(r.vectors[2]!, [0, -2.5]);
  close(r.vectors[0]!, [0, 1]);
  close(r.vectors[1]!, [2, 0]);
  assert.deepEqual(Array.from(boosted), [300, 400], 'the input is not modified');
  // However large the boost, the bound stays the honest median while attackers are fewer than half.
  const bigger = boundToMedianNorm([...honest, v(3e5, 4e5)]);
  assert.equal(bigger.bound, 2.5);
  close(bigger.vectors[3]!, [1.5, 2]);
  assert.equal(boundToMedianNorm([v(3, 4), v(0, 1), v(0, 2)]).bound, 2);
  assert.equal(medianOf([5, 1, 3]), 3);
  assert.throws(() => boundToMedianNorm([]), UsageError);
  assert.throws(() => medianOf([]), UsageError);
});

test('centered clipping: each iteration moves by the clipped mean of the differences to the current point', () => {
  // tau = 1, one iteration from 0: the far update counts as a unit step, the others in full.
  close(centeredClip([v(0), v(1), v(100)], { radius: 1, iterations: 1 }).aggregate, [2 / 3]);
  // Second iteration from 2/3: differences -2/3 (kept), 1/3 (kept), 99.33 (clipped to 1).
  const two = centeredClip([v(0), v(1), v(100)], { radius: 1, iterations: 2 });
  close(two.aggregate, [2 / 3 + (-2 / 3 + 1 / 3 + 1) / 3]);
  assert.deepEqual(two.radii, [1, 1]);
  // A radius above every distance gives the plain mean.
  close(centeredClip([v(1, 2), v(3, 4), v(5, 0)], { radius: 1e9, iterations: 1 }).aggregate, [3, 2]);
  // From a start point, in two dimensions: from (1, 1) the update (4, 5) is 5 away and counts as (0.6, 0.8) with tau = 1.
  close(centeredClip([v(1, 1), v(4, 5)], { radius: 1, iterations: 1, start: v(1, 1) }).aggregate, [1 + 0.6 / 2, 1 + 0.8 / 2]);
  // Adaptive radius: the median distance to the current point (here from 0: distances 1, 2, 1000 -> tau = 2).
  const adaptive = centeredClip([v(1, 0), v(0, 2), v(0, 1000)], { iterations: 1 });
  assert.deepEqual(adaptive.radii, [2]);
  close(adaptive.aggregate, [1 / 3, (2 + 2) / 3]);
  // However far the outlier goes, the result moves by at most tau / n per iteration.
  const far = centeredClip([v(0), v(0), v(0), v(1e12)], { radius: 0.5, iterations: 3 });
  assert.ok(far.aggregate[0]! <= (3 * 0.5) / 4 + 1e-12, `${far.aggregate[0]}`);
  for (const bad of [{ radius: 0 }, { radius: NaN }, { iterations: 0 }, { iterations: 1.5 }, { start: v(1, 2) }]) {
    assert.throws(() => centeredClip([v(1)], bad), UsageError, JSON.stringify(bad));
  }
  assert.throws(() => centeredClip([]), UsageError);
});

test('bucketing: a seeded random permutation of the updates cut into buckets of s, each replaced by its mean', () => {
  const xs = Array.from({ length: 7 }, (_, i) => v(i, 10 * i));
  const b = bucketMeans(xs, 3, seededRandom(4));
  assert.deepEqual(b.members.map((m) => m.length), [3, 3, 1]); // ceil(7 / 3) buckets, the last one holds the rest
  assert.deepEqual(b.members.flat().slice().sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6], 'every update in exactly one bucket');
  b.members.forEach((m, k) => {
    const mean = m.reduce((s, i) => s + i, 0) / m.length;
    close(b.means[k]!, [mean, 10 * mean], 1e-12);
  });
  assert.deepEqual(bucketMeans(xs, 3, seededRandom(4)).members, b.members, 'the same seed gives the same buckets');
  const others = [5, 6, 7, 8, 9].map((s) => JSON.stringify(bucketMeans(xs, 3, seededRandom(s)).members));
  assert.ok(others.some((m) => m !== JSON.stringify(b.members)), 'other seeds give other buckets');
  assert.deepEqual(bucketMeans(xs, 1, seededRandom(4)).members.map((m) => m.length), [1, 1, 1, 1, 1, 1, 1]);
  assert.throws(() => bucketMeans(xs, 0, seededRandom(1)), UsageError);
  assert.throws(() => bucketMeans(xs, 2.5, seededRandom(1)), UsageError);
  assert.throws(() => bucketMeans([], 2, seededRandom(1)), UsageError);
});

const D = 3;
const upd = (client: string, xs: number[], samples = 10): ClientUpdate => ({ client, delta: Float64Array.from(xs), samples });
const honest = Array.from({ length: 10 }, (_, i) => upd(`h${i}`, [1 + 0.01 * i, 0.5 - 0.02 * i, 0.2 + 0.01 * (i % 3)]));
const poisoned: ClientUpdate[] = [
  upd('nan', [NaN, 0, 0]),
  upd('inf', [0, -Infinity, 0]),
  upd('huge', [1e7, 0, 0]),
  upd('short', [1, 1]),
  upd('f32-overflow', [0, 0, 0]),
  upd('h0', [1e5, 1e5, 1e5]), // a second update from h0
];
(poisoned[4] as { delta: Float32Array | Float64Array }).delta = new Float32Array([3e38, 3e38, 3e38]);

test('refused updates (NaN, infinite, huge, malformed, duplicates) never reach norm bounding, buckets or any rule', () => {
  for (const rule of AGGREGATION_RULES) {
    const krumRule = rule === 'krum' || rule === 'multi-krum' || rule === 'bulyan';
    for (const extra of [{ normBound: 'median' as const }, { bucket: 2 }, { normBound: 'median' as const, bucket: 2 }, ...(krumRule ? [] : [{ krumFilter: true }, { krumFilter: true, bucket: 2 }])]) {
      // Bulyan needs 4f + 3 inputs: five buckets of two allow f = 0 only.
      const opts = { rule, dimensions: D, byzantine: rule === 'bulyan' && 'bucket' in extra ? 0 : 1, ...extra };
      // The same seeded bucket draw for both: the bucket assignment only depends on the accepted updates.
      const clean = aggregateUpdates(honest, { ...opts, bucketRandom: seededRandom(9) });
      const mixed = aggregateUpdates([poisoned[0]!, ...honest, ...poisoned.slice(1)], { ...opts, bucketRandom: seededRandom(9) });
      const what = `${rule} ${JSON.stringify(extra)}`;
      assert.deepEqual(mixed.aggregate, clean.aggregate, what);
      assert.deepEqual(mixed.refused.map((e) => e.reason), ['non-finite', 'non-finite', 'norm-too-large', 'wrong-length', 'norm-too-large', 'duplicate-client'], what);
      assert.deepEqual(mixed.accepted, honest.map((u) => u.client), what);
      assert.equal(mixed.normBound, clean.normBound, what);
      if ('bucket' in extra) assert.deepEqual(mixed.buckets!.flat().sort(), honest.map((u) => u.client).sort(), what);
      assert.ok(Array.from(mixed.aggregate).every(Number.isFinite), what);
    }
  }
});

test('norm bounding before the rule: a boosted update counts no more than a typical one, and is reported as clipped', () => {
  const boosted = upd('x', [-500, 500, 0]);
  const plain = aggregateUpdates([...honest, boosted], { rule: 'fedavg', dimensions: D });
  const bounded = aggregateUpdates([...honest, boosted], { rule: 'fedavg', dimensions: D, normBound: 'median' });
  assert.ok(plain.aggregate[0]! < -40, `plain averaging is taken over: ${plain.aggregate[0]}`);
  assert.ok(bounded.aggregate[0]! > 0.8, `bounded: ${bounded.aggregate[0]}`);
  assert.ok(bounded.clipped.includes('x'));
  const honestNorms = honest.map((u) => norm(u.delta)).sort((a, b) => a - b);
  assert.ok(bounded.normBound! >= honestNorms[0]! && bounded.normBound! <= honestNorms[honestNorms.length - 1]!, 'the bound is an honest norm');
  // Fixed clipping first, then the median bound of what is left.
  const both = aggregateUpdates([...honest, boosted], { rule: 'fedavg', dimensions: D, clip: 0.5, normBound: 'median' });
  assert.ok(both.normBound! <= 0.5 + 1e-12);
});

test('bucketing with Multi-Krum drops the buckets a boosted update falls in; with noise it is refused', () => {
  const boosted = [upd('x', [-500, 500, 0]), upd('y', [-480, 510, 3])];
  // Six buckets of two; at most two hold an attacker; the four best-scoring buckets are all honest.
  const r = aggregateUpdates([...honest, ...boosted], { rule: 'multi-krum', dimensions: D, byzantine: 1, select: 4, bucket: 2, bucketRandom: seededRandom(3) });
  assert.equal(r.buckets!.length, 6);
  assert.ok(!r.used.includes('x') && !r.used.includes('y'), `used ${r.used}`);
  assert.equal(r.used.length, 8, 'four buckets without an attacker: eight honest clients');
  assert.ok(r.aggregate[0]! > 0.9 && r.aggregate[0]! < 1.1);
  assert.throws(() => aggregateUpdates(honest, { rule: 'fedavg', dimensions: D, clip: 1, bucket: 2, noise: { multiplier: 1, expectedClients: 10 } }), UsageError);
  assert.throws(() => aggregateUpdates(honest, { rule: 'median', dimensions: D, bucket: 0 }), UsageError);
  assert.throws(() => aggregateUpdates(honest, { rule: 'median', dimensions: D, normBound: 'mean' as 'median' }), UsageError);
  // Krum needs 2f + 3 bucket means, not updates.
  assert.throws(() => aggregateUpdates(honest, { rule: 'krum', dimensions: D, byzantine: 1, bucket: 3 }), (e: unknown) => e instanceof UsageError && /at least 5 updates/.test(e.message));
});

test('Bulyan: Krum picks n - 2f updates one by one, then each coordinate averages the n - 4f picked values nearest its median', () => {
  // n = 7, f = 1: theta = 5 picked, beta = 3 averaged per coordinate.
  const xs = [v(0, 10), v(1, 11), v(2, 12), v(3, 13), v(4, 14), v(100, -100), v(-90, 95)];
  const r = bulyan(xs, 1);
  assert.equal(r.selected.length, 5);
  assert.deepEqual(r.selected.slice().sort((a, b) => a - b), [0, 1, 2, 3, 4], 'both outliers left out');
  close(r.aggregate, [(1 + 2 + 3) / 3, (11 + 12 + 13) / 3]);
  // The trimmed step: one extreme value among the picked ones is not averaged in.
  const skew = [v(0), v(0.1), v(0.2), v(0.3), v(0.4), v(0.5), v(0.6), v(0.7), v(0.8), v(0.9), v(1.0)]; // n = 11, f = 2: theta 7, beta 3
  const s = bulyan(skew, 2);
  assert.equal(s.selected.length, 7);
  assert.equal(s.aggregate.length, 1);
  const picked = s.selected.map((i) => skew[i]![0]!).sort((a, b) => a - b);
  const med = picked[3]!;
  close(s.aggregate, [(picked[2]! + med + picked[4]!) / 3], 1e-12);
  assert.throws(() => bulyan(xs.slice(0, 6), 1), (e: unknown) => e instanceof UsageError && /at least 7 updates/.test(e.message));
  assert.throws(() => bulyan(xs, -1), UsageError);
  // f = 0 averages everything.
  close(bulyan([v(1), v(2), v(6)], 0).aggregate, [3]);
});

test('the Krum filter drops far-away updates before a coordinate-wise rule, and is refused where it makes no sense', () => {
  const boosted = [upd('x', [-500, 500, 0]), upd('y', [-480, 510, 3])];
  const r = aggregateUpdates([...boosted, ...honest], { rule: 'median', dimensions: D, byzantine: 2, krumFilter: true });
  assert.deepEqual(r.used.slice().sort(), honest.map((u) => u.client).sort(), 'exactly the honest updates are kept');
  assert.deepEqual(r.aggregate, aggregateUpdates(honest, { rule: 'median', dimensions: D }).aggregate, 'then the median of the honest ones');
  // Without the filter the two boosted updates shift the median by two ranks in every coordinate.
  const unfiltered = aggregateUpdates([...boosted, ...honest], { rule: 'median', dimensions: D });
  assert.notDeepEqual(unfiltered.aggregate, r.aggregate);
  assert.throws(() => aggregateUpdates(honest, { rule: 'multi-krum', dimensions: D, krumFilter: true }), UsageError);
  assert.throws(() => aggregateUpdates(honest, { rule: 'fedavg', dimensions: D, clip: 1, krumFilter: true, noise: { multiplier: 1, expectedClients: 10 } }), UsageError);
  assert.throws(() => aggregateUpdates(honest.slice(0, 6), { rule: 'median', dimensions: D, byzantine: 2, krumFilter: true }), (e: unknown) => e instanceof UsageError && /at least 7 updates/.test(e.message));
});
