import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  enrolPhrase,
  enrolFreeText,
  phraseFeatures,
  scaledManhattan,
  fitFeatureDensity,
  featureLogDensity,
  probabilityFromLlr,
  DENSITY_FLOOR,
  MIN_PHRASE_ENROLMENT,
} from '../../../src/biometrics/keystroke/index.js';
import { equalErrorRate } from '../../../src/eval/metrics.js';
import { FormatError, UsageError } from '../../../src/errors.js';
import { MEU_KEYS, makeTypist, randomText } from './synthetic.js';

const vectors = (seed: number, n: number, touch = false) => {
  const t = makeTypist(seed, { touch });
  return Array.from({ length: n }, () => phraseFeatures(t.type(MEU_KEYS)).values);
};

for (const touch of [false, true]) {
  test(`the phrase detector tells synthetic typists apart (${touch ? 'with touch' : 'timing only'}), better than scaled Manhattan`, () => {
    const typists = Array.from({ length: 8 }, (_, k) => vectors(k + 1, 40, touch));
    const eers: number[] = [];
    const baseEers: number[] = [];
    let genuineLlr = 0;
    let impostorLlr = 0;
    typists.forEach((samples, k) => {
      const profile = enrolPhrase(samples.slice(0, 25));
      const base = scaledManhattan(samples.slice(0, 25));
      const genuine = samples.slice(25);
      const impostor = typists.filter((_, j) => j !== k).flatMap((s) => s.slice(0, 5));
      eers.push(equalErrorRate({ genuine: genuine.map(profile.score), impostor: impostor.map(profile.score) }).eer);
      baseEers.push(equalErrorRate({ genuine: genuine.map(base), impostor: impostor.map(base) }).eer);
      genuineLlr += genuine.filter((g) => profile.verify(g).llr > 0).length / genuine.length;
      impostorLlr += impostor.filter((i) => profile.verify(i).llr < 0).length / impostor.length;
    });
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    assert.ok(mean(eers) < 0.02, `mean EER ${mean(eers)}`);
    assert.ok(mean(eers) <= mean(baseEers), `density ${mean(eers)} vs scaled Manhattan ${mean(baseEers)}`);
    // The calibrated LLR points the right way for most samples of each side.
    assert.ok(genuineLlr / typists.length > 0.8, `genuine with LLR > 0: ${genuineLlr / typists.length}`);
    assert.ok(impostorLlr / typists.length > 0.9, `impostors with LLR < 0: ${impostorLlr / typists.length}`);
  });
}

test('a verdict carries the score, the reference, the feature count and an LLR that grows with the fit', () => {
  const samples = vectors(3, 30);
  const profile = enrolPhrase(samples.slice(0, 25));
  const v = profile.verify(samples[27]!);
  assert.equal(v.features, 40);
  assert.equal(v.score, profile.score(samples[27]!));
  assert.ok(Number.isFinite(v.reference) && v.reference < 0);
  const far = samples[27]!.map((x) => x * 3);
  const w = profile.verify(far);
  assert.ok(w.score < v.score && w.llr < v.llr && w.llr < 0);
  assert.ok(probabilityFromLlr(w.llr) < 0.01 && probabilityFromLlr(0) === 0.5);
});

test('a feature density is floored: one wild value costs at most the floor', () => {
  const d = fitFeatureDensity([100, 110, 95, 105, 102]);
  assert.equal(d.log, true);
  assert.ok(featureLogDensity(d, 103) > featureLogDensity(d, 130));
  assert.equal(featureLogDensity(d, 1e9), DENSITY_FLOOR);
  assert.equal(featureLogDensity(d, -5), DENSITY_FLOOR); // impossible for a log feature
  assert.equal(featureLogDensity(d, NaN), DENSITY_FLOOR);
  const overlap = fitFeatureDensity([-20, 10, 5, -3]); // up-down latencies can be negative: stays linear
  assert.equal(overlap.log, false);
  const constant = fitFeatureDensity([0.3, 0.3, 0.3]); // a quantised touch size that never changes
  assert.ok(constant.bandwidth > 0 && featureLogDensity(constant, 0.3) > featureLogDensity(constant, 0.31));
});

test('phrase enrolment refuses too few samples and mismatched or non-finite vectors', () => {
  const samples = vectors(5, 10);
  assert.throws(() => enrolPhrase(samples.slice(0, MIN_PHRASE_ENROLMENT - 1)), UsageError);
  assert.throws(() => enrolPhrase([...samples.slice(0, 5), samples[5]!.slice(1)]), FormatError);
  assert.throws(() => enrolPhrase([...samples.slice(0, 5), samples[5]!.map((v, i) => (i === 3 ? NaN : v))]), FormatError);
  const profile = enrolPhrase(samples);
  assert.throws(() => profile.verify(samples[0]!.slice(2)), FormatError);
  assert.throws(() => profile.score([...samples[0]!.slice(1), Infinity]), FormatError);
});

test('the free-typing detector scores the enrolled typist above others, and longer samples weigh more', () => {
  const typists = Array.from({ length: 6 }, (_, k) => makeTypist(100 + k, { noise: 0.2 }));
  const text = (seed: number, n: number) => randomText(seed, n);
  let separated = 0;
  typists.forEach((t, k) => {
    const profile = enrolFreeText([1, 2, 3, 4].map((s) => t.type(text(s, 150))));
    assert.ok(profile.modelled.length > 10);
    const genuine = profile.verify(t.type(text(50, 150)));
    const impostors = typists.filter((_, j) => j !== k).map((o) => profile.verify(o.type(text(50, 150))));
    assert.ok(genuine.features > 100);
    if (impostors.every((i) => i.llr < genuine.llr)) separated++;
    assert.ok(genuine.llr > 0, `genuine LLR ${genuine.llr}`);
    assert.ok(impostors.filter((i) => i.llr < 0).length >= impostors.length - 1);
  });
  assert.ok(separated >= 5, `typists separated: ${separated}/6`);
  // Fewer keystrokes: fewer features, smaller LLR for an impostor's short sample.
  const profile = enrolFreeText([1, 2, 3].map((s) => typists[0]!.type(text(s, 150))));
  const long = profile.verify(typists[1]!.type(text(60, 200)));
  const short = profile.verify(typists[1]!.type(text(60, 20)));
  assert.ok(short.features < long.features && Math.abs(short.llr) < Math.abs(long.llr));
});

test('free typing: no shared digraph means no evidence; enrolment needs enough text', () => {
  const t = makeTypist(9);
  const profile = enrolFreeText([1, 2, 3].map((s) => t.type(randomText(s, 100, 'abc'))));
  const v = profile.verify(t.type(['x', 'y', 'z']));
  assert.deepEqual({ features: v.features, llr: v.llr }, { features: 0, llr: 0 });
  assert.throws(() => enrolFreeText([t.type(['a', 'b'])]), UsageError);
  assert.throws(() => enrolFreeText([1, 2, 3].map(() => t.type(['q', 'w']))), /too few keys/);
});
