/**
 * The trust score (src/trust): decay, fusion of evidence in log-odds, the
 * weights for quality, sample length and freshness, explanations whose
 * shares add up to the change, and typed errors for every bad input. Time is
 * an injected number: nothing here depends on the wall clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import { UsageError } from '../../src/errors.js';
import {
  TrustEngine,
  gaussianCalibration,
  probabilityCalibration,
  rateCalibration,
  resolveTrustConfig,
  type TrustEvidence,
  type TrustState,
  type TrustUpdate,
} from '../../src/trust/index.js';

const T0 = 1_700_000_000_000;
const S = 1000;

function usage(pattern?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.code, 'E_USAGE');
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

function state(trust: number, at = T0, seen: Record<string, number> = {}): TrustState {
  return { trust, at, seen };
}

function face(score: number, quality = 1, at = T0, liveness: 'passed' | 'failed' = 'passed'): TrustEvidence {
  return { modality: 'face', observedAt: at, score, quality, liveness };
}

function assertSharesSum(u: TrustUpdate): void {
  const e = u.explanation;
  const sum = e.decay.change + e.signals.reduce((a, s) => a + s.contribution, 0);
  assert.ok(Math.abs(sum - e.change) < 1e-12, `shares ${sum} != change ${e.change}`);
  assert.ok(Math.abs(e.after - e.before - e.change) < 1e-15);
  assert.equal(u.state.trust, e.after);
}

describe('decay', () => {
  const engine = new TrustEngine({ config: { halfLifeSeconds: 120 } });

  test('trust halves at the half-life and quarters at two', () => {
    const s = state(0.8);
    assert.ok(Math.abs(engine.trustAt(s, T0 + 120 * S) - 0.4) < 1e-12);
    assert.ok(Math.abs(engine.trustAt(s, T0 + 240 * S) - 0.2) < 1e-12);
    assert.equal(engine.trustAt(s, T0), 0.8);
  });

  test('an update with no evidence is pure decay and says so', () => {
    const u = engine.update(state(0.8), [], T0 + 60 * S);
    assert.ok(Math.abs(u.state.trust - 0.8 / Math.SQRT2) < 1e-12);
    assert.equal(u.explanation.decay.seconds, 60);
    assert.equal(u.explanation.signals.length, 0);
    assert.match(u.explanation.summary, /decay over 60 s \(half-life 120 s\) -0\.234/);
    assertSharesSum(u);
  });

  test('the lock deadline is where decay crosses the threshold', () => {
    const e = new TrustEngine({ config: { halfLifeSeconds: 100, lockThreshold: 0.2 } });
    const s = state(0.8);
    const deadline = e.lockDeadline(s);
    assert.ok(Math.abs(deadline - (T0 + 200 * S)) < 1e-6);
    assert.equal(e.isBelowLockThreshold(s, deadline - 1), false);
    assert.equal(e.isBelowLockThreshold(s, deadline + 1), true);
    assert.equal(e.lockDeadline(state(0.1)), T0);
  });

  test('the same inputs give the same state (no clock inside)', () => {
    const ev = [face(1, 0.9, T0 + 5 * S)];
    assert.deepEqual(engine.update(state(0.5), ev, T0 + 10 * S), engine.update(state(0.5), ev, T0 + 10 * S));
  });
});

describe('evidence', () => {
  const engine = new TrustEngine();

  test('a face match raises trust, a failed match lowers it', () => {
    const up = engine.update(state(0.5), [face(0.95)], T0);
    const down = engine.update(state(0.5), [face(0)], T0);
    assert.ok(up.state.trust > 0.99, String(up.state.trust));
    assert.ok(down.state.trust < 0.5);
    assert.match(up.explanation.summary, /face \+0\.499 \(face match score 0\.95 \(rate\(FMR 0\.0001, FNMR 0\.2\)\)/);
    assertSharesSum(up);
    assertSharesSum(down);
  });

  test('a liveness failure lowers trust even when the face matches', () => {
    const u = engine.update(state(0.9), [face(0.95, 1, T0, 'failed')], T0);
    assert.ok(u.state.trust < 0.2, String(u.state.trust));
    assert.match(u.explanation.signals[0]!.reason, /liveness check failed/);
    assert.equal(u.state.seen.face, undefined, 'a failed check is not a fresh face');
  });

  test('keystrokes: owner-like typing raises, impostor-like typing lowers', () => {
    const up = engine.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.9, keys: 40 }], T0);
    const down = engine.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.05, keys: 40 }], T0);
    assert.ok(Math.abs(up.state.trust - 0.9) < 1e-12); // logit 0 + ln 9
    assert.ok(Math.abs(down.state.trust - 0.05) < 1e-12);
  });

  test('a passkey touch is strong and binary', () => {
    const ok = engine.update(state(0.2), [{ modality: 'passkey', observedAt: T0, verified: true }], T0);
    const bad = engine.update(state(0.2), [{ modality: 'passkey', observedAt: T0, verified: false }], T0);
    assert.ok(ok.state.trust > 0.95);
    assert.ok(bad.state.trust < 0.02);
    assert.equal(ok.state.seen.passkey, T0);
  });

  test('an unlock with two factors gives one signal per factor from the prior', () => {
    const u = engine.start(T0, [{ modality: 'unlock', observedAt: T0, factors: ['face', 'keyfile'] }]);
    assert.equal(u.explanation.before, 0.05);
    assert.deepEqual(u.explanation.signals.map((s) => [s.factor, s.llr]), [['face', 5], ['keyfile', 5]]);
    assert.ok(u.state.trust > 0.98);
    assert.deepEqual(u.state.seen, { face: T0, keyfile: T0 });
    assertSharesSum(u);
  });

  test('trust never exceeds the ceiling, and the explanation says it was capped', () => {
    const u = engine.update(state(0.99), [{ modality: 'passkey', observedAt: T0, verified: true }, face(1)], T0);
    assert.equal(u.state.trust, 0.999);
    assert.equal(u.explanation.capped, true);
    assertSharesSum(u);
  });
});

describe('weights', () => {
  const engine = new TrustEngine();

  test('low-quality face evidence moves trust less, both ways', () => {
    const good = engine.update(state(0.5), [face(1, 1)], T0).state.trust;
    const poor = engine.update(state(0.5), [face(1, 0.3)], T0).state.trust;
    assert.ok(poor > 0.5 && poor < good);
    const goodMiss = engine.update(state(0.5), [face(0, 1)], T0).state.trust;
    const poorMiss = engine.update(state(0.5), [face(0, 0.3)], T0).state.trust;
    assert.ok(poorMiss < 0.5 && poorMiss > goodMiss);
  });

  test('face evidence below the minimum quality is ignored, with the reason', () => {
    const u = engine.update(state(0.5), [face(1, 0.1)], T0);
    assert.equal(u.state.trust, 0.5);
    assert.match(u.explanation.signals[0]!.ignored!, /quality 0\.1 below the minimum 0\.2/);
    assert.equal(u.explanation.signals[0]!.contribution, 0);
  });

  test('short keystroke samples count less; too short ones not at all', () => {
    const k = (keys: number) => engine.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.9, keys }], T0).state.trust;
    assert.ok(k(10) > 0.5 && k(10) < k(40));
    assert.equal(k(40), k(400));
    assert.equal(k(3), 0.5);
  });

  test('stale evidence counts less; too old evidence is ignored', () => {
    const now = T0 + 100 * S;
    const fresh = engine.update(state(0.5, now), [face(1, 1, now)], now);
    const stale = engine.update(state(0.5, now), [face(1, 1, now - 30 * S)], now);
    assert.equal(stale.explanation.signals[0]!.weights.freshness, 0.5);
    assert.ok(stale.state.trust < fresh.state.trust && stale.state.trust > 0.5);
    const old = new TrustEngine({ config: { maxEvidenceAgeSeconds: 60 } }).update(state(0.5, now), [face(1, 1, now - 61 * S)], now);
    assert.equal(old.state.trust, 0.5);
    assert.match(old.explanation.signals[0]!.ignored!, /more than 60 s/);
  });

  test('modality weights scale the LLR', () => {
    const half = new TrustEngine({ config: { weights: { keystroke: 0.5 } } });
    const u = half.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.9, keys: 40 }], T0);
    assert.ok(Math.abs(u.state.trust - 0.75) < 1e-12); // sigmoid(ln 9 / 2) = 3 / 4
  });
});

describe('explanations', () => {
  test('shares sum to the change for any mix of evidence (property)', () => {
    const engine = new TrustEngine({ config: { halfLifeSeconds: 300 } });
    const ev = fc.oneof(
      fc.record({ modality: fc.constant('face' as const), score: fc.double({ min: 0, max: 1, noNaN: true }), quality: fc.double({ min: 0, max: 1, noNaN: true }), liveness: fc.constantFrom('passed' as const, 'failed' as const), ago: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ modality: fc.constant('keystroke' as const), score: fc.double({ min: 0, max: 1, noNaN: true }), keys: fc.integer({ min: 0, max: 100 }), ago: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ modality: fc.constant('passkey' as const), verified: fc.boolean(), ago: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.integer({ min: 0, max: 10_000 }), fc.array(ev, { maxLength: 6 }), (trust, gap, list) => {
        const now = T0 + gap * S;
        const evidence = list.map(({ ago, ...e }) => ({ ...e, observedAt: Math.max(0, now - ago * S) }) as TrustEvidence);
        const u = engine.update(state(trust), evidence, now);
        assertSharesSum(u);
        assert.ok(u.state.trust >= 0 && u.state.trust <= 0.999);
        for (const s of u.explanation.signals) if (s.logOdds > 0) assert.ok(s.contribution >= 0);
      }),
      { numRuns: 300 },
    );
  });

  test('the order of evidence does not change the shares', () => {
    const engine = new TrustEngine();
    const a = face(1, 0.8);
    const b: TrustEvidence = { modality: 'keystroke', observedAt: T0, score: 0.1, keys: 30 };
    const ab = engine.update(state(0.6), [a, b], T0).explanation.signals.map((s) => s.contribution);
    const ba = engine.update(state(0.6), [b, a], T0).explanation.signals.map((s) => s.contribution);
    assert.ok(Math.abs(ab[0]! - ba[1]!) < 1e-15 && Math.abs(ab[1]! - ba[0]!) < 1e-15);
  });

  test('factor ages for the policy round up', () => {
    const engine = new TrustEngine();
    const u = engine.update(state(0.5), [face(1, 1, T0)], T0);
    assert.deepEqual(engine.factorAges(u.state, T0 + 300_200), { face: 301 });
  });
});

describe('calibrations', () => {
  test('gaussian: LLR is 0 where the densities cross, sign on either side, capped in the tails', () => {
    const c = gaussianCalibration({ genuine: { mean: 0.6, sd: 0.1 }, impostor: { mean: 0.2, sd: 0.1 }, range: [-1, 1], maxLlr: 10 });
    assert.ok(Math.abs(c.llr(0.4)) < 1e-12);
    assert.ok(c.llr(0.5) > 0 && c.llr(0.3) < 0);
    assert.equal(c.llr(1), 10);
    assert.equal(c.llr(-1), -10);
  });

  test('rate and probability calibrations', () => {
    assert.ok(Math.abs(rateCalibration({ fmr: 1e-4, fnmr: 0.2 }).llr(1) - Math.log(0.8 / 1e-4)) < 1e-12);
    assert.ok(Math.abs(rateCalibration({ fmr: 1e-4, fnmr: 0.2 }).llr(0) - Math.log(0.2 / (1 - 1e-4))) < 1e-12);
    assert.ok(Math.abs(probabilityCalibration({ trainingPrior: 0.1 }).llr(0.1)) < 1e-12);
    assert.ok(Number.isFinite(probabilityCalibration().llr(1)));
  });

  test('a module can bring its own calibration', () => {
    const keystroke = gaussianCalibration({ genuine: { mean: 0.2, sd: 0.1 }, impostor: { mean: 0.8, sd: 0.2 }, range: [0, 10] });
    const engine = new TrustEngine({ calibrations: { keystroke } });
    const u = engine.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.15, keys: 40 }], T0);
    assert.ok(u.state.trust > 0.9);
    assert.match(u.explanation.signals[0]!.reason, /gaussian/);
  });
});

describe('bad input gives typed errors', () => {
  const engine = new TrustEngine();
  const cases: [string, () => unknown, RegExp][] = [
    ['NaN score', () => engine.update(state(0.5), [face(NaN)], T0), /face\.score must be a finite number, got NaN/],
    ['score out of range', () => engine.update(state(0.5), [face(1.5)], T0), /face\.score must be in \[0, 1\]/],
    ['quality out of range', () => engine.update(state(0.5), [face(1, -0.1)], T0), /face\.quality/],
    ['bad liveness', () => engine.update(state(0.5), [{ ...face(1), liveness: 'maybe' } as unknown as TrustEvidence], T0), /liveness/],
    ['negative now', () => engine.start(-1), /now must not be negative/],
    ['NaN now', () => engine.trustAt(state(0.5), NaN), /now must be a time/],
    ['clock going backwards', () => engine.update(state(0.5), [], T0 - 1), /must not go backwards/],
    ['evidence from the future', () => engine.update(state(0.5), [face(1, 1, T0 + 1)], T0), /observed after now/],
    ['negative observedAt', () => engine.update(state(0.5), [face(1, 1, -5)], T0), /observedAt must not be negative/],
    ['trust out of range', () => engine.trustAt(state(1.2), T0), /state\.trust/],
    ['fractional key count', () => engine.update(state(0.5), [{ modality: 'keystroke', observedAt: T0, score: 0.5, keys: 2.5 }], T0), /integer/],
    ['unknown modality', () => engine.update(state(0.5), [{ modality: 'iris', observedAt: T0 } as unknown as TrustEvidence], T0), /unknown evidence modality/],
    ['unknown unlock factor', () => engine.update(state(0.5), [{ modality: 'unlock', observedAt: T0, factors: ['magic'] }], T0), /unknown unlock factor "magic"/],
    ['duplicate unlock factor', () => engine.update(state(0.5), [{ modality: 'unlock', observedAt: T0, factors: ['face', 'face'] }], T0), /twice/],
    ['non-boolean passkey', () => engine.update(state(0.5), [{ modality: 'passkey', observedAt: T0, verified: 'yes' } as unknown as TrustEvidence], T0), /boolean/],
    ['evidence not a list', () => engine.update(state(0.5), face(1) as unknown as TrustEvidence[], T0), /must be a list/],
    ['bad half-life', () => new TrustEngine({ config: { halfLifeSeconds: 0 } }), /halfLifeSeconds must be in/],
    ['NaN prior', () => resolveTrustConfig({ prior: NaN }), /prior must be a finite number/],
    ['unknown config key', () => resolveTrustConfig({ halflife: 3 } as never), /unknown configuration key "halflife"/],
    ['unknown weight', () => resolveTrustConfig({ weights: { iris: 1 } as never }), /unknown modality/],
    ['lock threshold above the ceiling', () => resolveTrustConfig({ lockThreshold: 0.9995 }), /lockThreshold/],
    ['bad gaussian sd', () => gaussianCalibration({ genuine: { mean: 0, sd: 0 }, impostor: { mean: 1, sd: 1 }, range: [0, 1] }), /genuine\.sd/],
    ['uninformative rates', () => rateCalibration({ fmr: 0.6, fnmr: 0.5 }), /below 1/],
  ];
  for (const [name, run, pattern] of cases) test(name, () => assert.throws(run, usage(pattern)));

  test('defaults are valid and frozen', () => {
    const c = resolveTrustConfig();
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.weights));
  });
});
