import { test } from 'node:test';
import assert from 'node:assert/strict';
import { privacyBudget, rdpSampledGaussian } from '../../src/federated/rdp-accountant.js';
import { UsageError } from '../../src/errors.js';

test('RDP of the Gaussian mechanism without sampling is alpha / (2 z^2)', () => {
  assert.equal(rdpSampledGaussian(1, 2, 8), 1);
  assert.equal(rdpSampledGaussian(1, 0.5, 3), 6);
});

test('RDP of the sampled Gaussian mechanism at order 2 is log(1 + q^2 (e^(1/z^2) - 1))', () => {
  // A_2 = (1-q)^2 + 2q(1-q) + q^2 e^(1/z^2) (Mironov, Talwar and Zhang 2019, §3.3), by hand.
  for (const [q, z] of [[0.1, 1], [0.01, 1.1], [0.5, 4]] as const) {
    const expected = Math.log(1 + q * q * (Math.exp(1 / (z * z)) - 1));
    assert.ok(Math.abs(rdpSampledGaussian(q, z, 2) - expected) < 1e-12, `q ${q} z ${z}`);
  }
  // Order 3 by hand: A_3 = (1-q)^3 + 3q(1-q)^2 + 3q^2(1-q) e^(1/z^2) + q^3 e^(3/z^2).
  const q = 0.2;
  const z = 1.5;
  const a3 = (1 - q) ** 3 + 3 * q * (1 - q) ** 2 + 3 * q * q * (1 - q) * Math.exp(1 / z ** 2) + q ** 3 * Math.exp(3 / z ** 2);
  assert.ok(Math.abs(rdpSampledGaussian(q, z, 3) - Math.log(a3) / 2) < 1e-12);
  // Sampling amplifies privacy: never worse than no sampling.
  assert.ok(rdpSampledGaussian(0.3, 1, 10) < rdpSampledGaussian(1, 1, 10));
});

test('epsilon for one Gaussian release with z = 1, delta = 1e-5 matches the Opacus conversion by hand', () => {
  // epsilon(alpha) = alpha/2 + log((alpha-1)/alpha) - (log(1e-5) + log(alpha)) / (alpha - 1); the minimum over integers is at alpha = 5.
  const byHand = 5 / 2 + Math.log(4 / 5) - (Math.log(1e-5) + Math.log(5)) / 4;
  const b = privacyBudget({ noiseMultiplier: 1, sampleRate: 1, rounds: 1, delta: 1e-5 });
  assert.equal(b.order, 5);
  assert.ok(Math.abs(b.epsilon - byHand) < 1e-12, `${b.epsilon} vs ${byHand}`);
  assert.ok(Math.abs(b.epsilon - 4.7527) < 1e-4);
});

test('the budget grows with rounds, shrinks with noise and sampling, and refuses nonsense', () => {
  const e = (o: Partial<Parameters<typeof privacyBudget>[0]>) => privacyBudget({ noiseMultiplier: 1, sampleRate: 1, rounds: 10, delta: 1e-5, ...o }).epsilon;
  assert.ok(e({ rounds: 100 }) > e({ rounds: 10 }));
  assert.ok(e({ noiseMultiplier: 4 }) < e({}));
  assert.ok(e({ sampleRate: 0.1 }) < e({}));
  // 100 rounds, z = 5, all clients: composition by hand, minimum at alpha = 3.
  const byHand = (100 * 3) / 50 + Math.log(2 / 3) - (Math.log(1e-5) + Math.log(3)) / 2;
  assert.ok(Math.abs(e({ rounds: 100, noiseMultiplier: 5 }) - byHand) < 1e-12);
  assert.throws(() => privacyBudget({ noiseMultiplier: 1, sampleRate: 1, rounds: 1, delta: 0 }), UsageError);
  assert.throws(() => privacyBudget({ noiseMultiplier: 0, sampleRate: 1, rounds: 1, delta: 1e-5 }), UsageError);
  assert.throws(() => privacyBudget({ noiseMultiplier: 1, sampleRate: 1.5, rounds: 1, delta: 1e-5 }), UsageError);
  assert.throws(() => rdpSampledGaussian(0.5, 1, 1.5), UsageError);
});
