import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitKeystrokeCalibration, keystrokeLlr, cllr, probabilityFromLlr, DEFAULT_KEYSTROKE_CALIBRATION } from '../../../src/biometrics/keystroke/index.js';
import { seededRandom } from '../../../src/eval/metrics.js';

test('logistic calibration recovers the map that generated the labels', () => {
  const rnd = seededRandom(11);
  const truth = { alpha: 0.08, beta: 0.25 };
  const features = 40;
  const trials = Array.from({ length: 20000 }, () => {
    const centred = -3 + 3.5 * rnd();
    return { centred, features, genuine: rnd() < probabilityFromLlr(keystrokeLlr(centred, 0, features, truth)) };
  });
  const fitted = fitKeystrokeCalibration(trials);
  // The fit weighs both classes equally, which removes their prior log-odds from the LLR.
  const g = trials.filter((t) => t.genuine).length;
  const priorLogOdds = Math.log(g / (trials.length - g));
  assert.ok(Math.abs(fitted.alpha - (truth.alpha - priorLogOdds / features)) < 0.01, `alpha ${fitted.alpha}`);
  assert.ok(Math.abs(fitted.beta - truth.beta) < 0.02, `beta ${fitted.beta}`);
});

test('Cllr: 1 bit for LLR 0, near 0 for confident right answers, above 1 for confident wrong ones', () => {
  assert.equal(cllr([0, 0], [0]), 1);
  assert.ok(cllr([20, 30], [-25]) < 1e-6);
  assert.ok(cllr([-5], [5]) > 5);
  assert.throws(() => fitKeystrokeCalibration([{ centred: 0, features: 3, genuine: true }]), RangeError);
});

test('LLR and probability follow the documented map', () => {
  const { alpha, beta } = DEFAULT_KEYSTROKE_CALIBRATION;
  assert.equal(keystrokeLlr(-1.5, -1.0, 40), 40 * (alpha + beta * -0.5));
  assert.ok(Math.abs(probabilityFromLlr(Math.log(3)) - 0.75) < 1e-12);
  assert.ok(Math.abs(probabilityFromLlr(0, 1 / 9) - 0.1) < 1e-12);
  assert.equal(probabilityFromLlr(-800), 0);
  assert.equal(probabilityFromLlr(800), 1);
});
