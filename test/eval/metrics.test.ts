import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { equalErrorRate, fnmrAtFmr, bootstrapBySubject, seededRandom } from '../../src/eval/metrics.js';

/** FMR and FNMR at threshold t (accept when score >= t), straight from the definitions. */
function ratesAt(g: number[], i: number[], t: number) {
  return { fmr: i.filter((x) => x >= t).length / i.length, fnmr: g.filter((x) => x < t).length / g.length };
}

test('FNMR at a target FMR is the lowest FNMR among thresholds that keep FMR under the target', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }),
      fc.constantFrom(0, 0.01, 0.05, 0.1, 0.3),
      (g, i, target) => {
        const r = fnmrAtFmr({ genuine: g, impostor: i }, target);
        const candidates = [...new Set([...g, ...i].flatMap((x) => [x, x + 0.5]))].concat([Infinity, -Infinity]);
        const best = Math.min(...candidates.map((t) => ratesAt(g, i, t)).filter((p) => p.fmr <= target).map((p) => p.fnmr));
        assert.ok(r.fmr <= target + 1e-12, `fmr ${r.fmr} above ${target}`);
        assert.equal(r.fnmr, best);
      },
    ),
  );
});

test('EER lies between the error rates where FMR and FNMR cross', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
      (g, i) => {
        const { eer } = equalErrorRate({ genuine: g, impostor: i });
        assert.ok(eer >= 0 && eer <= 1);
        // At every threshold max(FMR, FNMR) >= EER >= ... : EER never exceeds the best max error.
        const ts = [...g, ...i, Infinity];
        const bestMax = Math.min(...ts.map((t) => ratesAt(g, i, t)).map((p) => Math.max(p.fmr, p.fnmr)));
        assert.ok(eer <= bestMax + 1e-9, `eer ${eer} above the best max error ${bestMax}`);
      },
    ),
  );
});

test('known cases: separated scores give EER 0, identical distributions about 0.5', () => {
  assert.equal(equalErrorRate({ genuine: [0.9, 0.8, 0.95], impostor: [0.1, 0.2, 0.3] }).eer, 0);
  const same = Array.from({ length: 1000 }, (_, k) => k / 1000);
  assert.ok(Math.abs(equalErrorRate({ genuine: same, impostor: same }).eer - 0.5) < 0.01);
});

test('FNMR at FMR 0 accepts only genuine scores above every impostor', () => {
  const r = fnmrAtFmr({ genuine: [0.5, 0.6, 0.7, 0.8], impostor: [0.1, 0.2, 0.65] }, 0);
  assert.equal(r.fnmr, 0.5); // 0.5 and 0.6 are not above the impostor 0.65
  assert.equal(r.resolvable, false);
});

test('bootstrap intervals are reproducible and bracket the point estimate', () => {
  const rnd = seededRandom(3);
  const subjects = new Map(Array.from({ length: 30 }, (_, k) => [`p${k}`, { genuine: Array.from({ length: 5 }, () => 0.6 + 0.3 * rnd()), impostor: Array.from({ length: 50 }, () => 0.5 * rnd()) }]));
  const stat = (s: { genuine: readonly number[]; impostor: readonly number[] }) => equalErrorRate(s).eer;
  const a = bootstrapBySubject(subjects, stat, { replicates: 50, seed: 9 });
  const b = bootstrapBySubject(subjects, stat, { replicates: 50, seed: 9 });
  assert.deepEqual(a, b);
  assert.ok(a.low <= a.high);
});
