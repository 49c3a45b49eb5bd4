import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fedAvg } from '../../src/federated/fedavg.js';
import { coordinateMedian } from '../../src/federated/median.js';
import { trimmedMean } from '../../src/federated/trimmed-mean.js';
import { krum, krumScores, multiKrum } from '../../src/federated/krum.js';
import { UsageError } from '../../src/errors.js';

const v = (...xs: number[]) => Float64Array.from(xs);
const close = (a: ArrayLike<number>, b: readonly number[], eps = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= eps, `index ${i}: ${a[i]} != ${b[i]}`);
};

test('fedavg weights each update by its sample count', () => {
  close(fedAvg([v(1, 0), v(0, 1)], [1, 3]), [0.25, 0.75]);
  close(fedAvg([new Float32Array([2, 4])], [7]), [2, 4]);
  // One outlier moves plain averaging anywhere: that is what the robust rules are for.
  close(fedAvg([v(1), v(1), v(1e6)], [1, 1, 1]), [(2 + 1e6) / 3], 1e-6);
  assert.throws(() => fedAvg([], []), UsageError);
  assert.throws(() => fedAvg([v(1)], [0]), UsageError);
  assert.throws(() => fedAvg([v(1)], [1, 2]), UsageError);
});

test('coordinate-wise median picks the middle value of every coordinate and ignores a Byzantine minority', () => {
  close(coordinateMedian([v(1, 5), v(2, -100), v(3, 6)]), [2, 5]);
  close(coordinateMedian([v(1, 10), v(2, 20), v(3, 30), v(4, 40)]), [2.5, 25]);
  const honest = [v(1, 1), v(1.1, 0.9), v(0.9, 1.2), v(1.05, 1), v(0.95, 0.95)];
  const byzantine = [v(1e9, -1e9), v(-1e9, 1e9)];
  const m = coordinateMedian([...honest, ...byzantine]);
  for (let i = 0; i < 2; i++) assert.ok(m[i]! >= 0.9 && m[i]! <= 1.2, `coordinate ${i} = ${m[i]} stays within the honest range`);
  assert.throws(() => coordinateMedian([]), UsageError);
});

test('trimmed mean drops the extremes of every coordinate before averaging', () => {
  close(trimmedMean([v(1), v(2), v(3), v(100)], 0.25), [2.5]);
  close(trimmedMean([v(1, -50), v(2, 0), v(3, 1), v(4, 2), v(1000, 3)], 0.2), [3, 1]);
  close(trimmedMean([v(1), v(2), v(6)], 0), [3]); // beta 0 is the plain mean
  // beta * n < 1 trims nothing: the outlier stays (a too-small beta is no defence).
  close(trimmedMean([v(1), v(2), v(3), v(1e6)], 0.2), [(6 + 1e6) / 4]);
  assert.throws(() => trimmedMean([v(1)], 0.5), UsageError);
  assert.throws(() => trimmedMean([v(1)], -0.1), UsageError);
});

test('Krum scores by squared distances to the n - f - 2 nearest neighbours and selects the most central update', () => {
  // n = 5, f = 1: each score sums the 2 nearest squared distances.
  const xs = [v(0), v(1), v(2), v(3), v(100)];
  assert.deepEqual(krumScores(xs, 1), [1 + 4, 1 + 1, 1 + 1, 1 + 4, 97 ** 2 + 98 ** 2]);
  const r = krum(xs, 1);
  assert.deepEqual(r.selected, [1]); // ties (1 and 2) go to the lower index
  close(r.aggregate, [1]);
});

test('Krum and Multi-Krum leave Byzantine outliers out', () => {
  const honest = Array.from({ length: 8 }, (_, i) => v(1 + 0.01 * i, 2 - 0.01 * i, 0.5));
  const attackers = [v(50, -50, 50), v(49, -50, 51)]; // close to each other, far from the rest
  const all = [...attackers, ...honest];
  const k = krum(all, 2);
  assert.ok(k.selected[0]! >= 2, 'Krum selects an honest update');
  const mk = multiKrum(all, 2);
  assert.equal(mk.selected.length, 8);
  assert.ok(mk.selected.every((i) => i >= 2), 'Multi-Krum selects only honest updates');
  const mean = [0, 1, 2].map((j) => honest.reduce((s, h) => s + h[j]!, 0) / 8);
  close(mk.aggregate, mean, 1e-12);
  close(multiKrum(all, 2, 1).aggregate, Array.from(k.aggregate)); // m = 1 is Krum
});

test('Krum refuses too few updates for the assumed number of attackers', () => {
  const xs = [v(0), v(1), v(2), v(3)];
  assert.throws(() => krum(xs, 1), (e: unknown) => e instanceof UsageError && /at least 5 updates/.test(e.message));
  assert.throws(() => multiKrum([v(0), v(1), v(2), v(3), v(4)], 1, 6), UsageError);
  assert.throws(() => krum(xs, -1), UsageError);
});
