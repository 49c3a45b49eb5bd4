import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipToNorm } from '../../src/federated/clip.js';
import { addGaussianNoise, cryptoUniform, standardNormal } from '../../src/federated/gaussian-noise.js';
import { seededRandom } from '../../src/eval/metrics.js';
import { UsageError } from '../../src/errors.js';

const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, a) => s + a * a, 0));

test('clipping scales long updates down to norm C and keeps their direction; short ones pass unchanged', () => {
  const c = clipToNorm(Float64Array.of(3, 4), 1);
  assert.equal(c.norm, 5);
  assert.equal(c.clipped, true);
  assert.ok(Math.abs(c.vector[0]! - 0.6) < 1e-15 && Math.abs(c.vector[1]! - 0.8) < 1e-15);
  const s = clipToNorm(new Float32Array([0.3, 0.4]), 1);
  assert.equal(s.clipped, false);
  assert.deepEqual(Array.from(s.vector), [Math.fround(0.3), Math.fround(0.4)]);
  const big = Float64Array.from({ length: 1000 }, (_, i) => (i % 7) - 3);
  assert.ok(Math.abs(norm(clipToNorm(big, 2.5).vector) - 2.5) < 1e-12);
  for (const bad of [0, -1, NaN, Infinity]) assert.throws(() => clipToNorm(big, bad), UsageError);
});

test('seeded Gaussian noise has the asked standard deviation and repeats for a seed', () => {
  const n = 200_000;
  const sigma = 2.5;
  const a = addGaussianNoise(new Float64Array(n), sigma, seededRandom(42));
  const mean = a.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  // Standard errors: mean sigma/sqrt(n) = 0.0056, sd sigma/sqrt(2n) = 0.004; allow 5 of them.
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - sigma) < 0.02, `sd ${sd}`);
  const within1 = a.filter((x) => Math.abs(x) < sigma).length / n;
  assert.ok(Math.abs(within1 - 0.6827) < 0.005, `share within one sigma ${within1}`);
  assert.deepEqual(addGaussianNoise(new Float64Array(5), sigma, seededRandom(42)), a.slice(0, 5));
  assert.notDeepEqual(addGaussianNoise(new Float64Array(5), sigma, seededRandom(43)), a.slice(0, 5));
  assert.throws(() => addGaussianNoise(new Float64Array(1), -1), UsageError);
});

test('the default noise source is the CSPRNG: uniform in [0, 1), never repeating', () => {
  const xs = Array.from({ length: 1000 }, () => cryptoUniform());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.equal(new Set(xs).size, 1000);
  const normal = standardNormal();
  assert.ok(Number.isFinite(normal()));
});
