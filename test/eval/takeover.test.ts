/**
 * The takeover replay on synthetic evidence: the lock lands at the first
 * impostor evidence that takes trust below the threshold (checked against a
 * replay written out here with the trust engine), genuine evidence never
 * locks, poor genuine evidence does, and the distribution's figures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distribution, evaluateSchedule, simulateGenuineDay, simulateTakeover, TAKEOVER_WARMUP_SECONDS, type EvidencePool } from '../../src/eval/takeover.js';
import { TrustEngine } from '../../src/trust/index.js';

const owner: EvidencePool = { keystroke: [0.95], face: [{ match: true, live: true }] };
const impostor: EvidencePool = { keystroke: [1e-6], face: [{ match: false, live: true }] };
const schedule = { keystrokeEverySeconds: 10, faceEverySeconds: 30 };
const options = { schedule, keys: 14 };

/** The first impostor event after `takeover` at which trust falls below the lock threshold, replayed by hand. */
function expectedLock(takeover: number): number {
  const engine = new TrustEngine();
  let state = engine.start(0, [{ modality: 'unlock', observedAt: 0, factors: ['face', 'keyfile'] }]).state;
  for (let t = 1; t < takeover + 3600; t++) {
    const who = t > takeover ? impostor : owner;
    const evidence = [];
    if (t % 10 === 0) evidence.push({ modality: 'keystroke' as const, observedAt: t * 1000, score: who.keystroke[0]!, keys: 14 });
    if (t % 30 === 0) evidence.push({ modality: 'face' as const, observedAt: t * 1000, score: who.face[0]!.match ? 1 : 0, quality: 1, liveness: 'passed' as const });
    for (const e of evidence) {
      state = engine.update(state, [e], t * 1000).state;
      if (state.trust < engine.config.lockThreshold) return t;
    }
  }
  throw new Error('no lock');
}

describe('simulateTakeover', () => {
  test('locks at the first impostor evidence that takes trust below the threshold', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulateTakeover(owner, impostor, options, seed);
      assert.ok(r.takeoverAt >= TAKEOVER_WARMUP_SECONDS && r.takeoverAt < TAKEOVER_WARMUP_SECONDS + 30);
      assert.equal(r.warmupFalseLocks, 0);
      assert.ok(r.secondsToLock !== null);
      assert.ok(Math.abs(r.secondsToLock - (expectedLock(r.takeoverAt) - r.takeoverAt)) < 1e-9, `seed ${seed}`);
    }
  });

  test('is deterministic for a seed; an impostor who scores like the owner is never locked out', () => {
    assert.deepEqual(simulateTakeover(owner, impostor, options, 9), simulateTakeover(owner, impostor, options, 9));
    assert.equal(simulateTakeover(owner, owner, options, 4).secondsToLock, null);
  });

  test('denser evidence locks sooner', () => {
    const slow = simulateTakeover(owner, impostor, options, 5).secondsToLock!;
    const fast = simulateTakeover(owner, impostor, { ...options, schedule: { keystrokeEverySeconds: 1, faceEverySeconds: 2 } }, 5).secondsToLock!;
    assert.ok(fast < slow, `${fast} < ${slow}`);
  });
});

describe('simulateGenuineDay', () => {
  test('good genuine evidence never locks; typing that always looks like someone else does, many times a day', () => {
    assert.equal(simulateGenuineDay(owner, options, 1), 0);
    assert.ok(simulateGenuineDay(impostor, options, 1) > 100);
  });
});

describe('distribution and evaluateSchedule', () => {
  test('median, p95 and max, with never-locked trials counted as infinite', () => {
    assert.deepEqual(distribution([1, 2, 3, 4]), { trials: 4, median: 2, p95: 4, max: 4, notLocked: 0 });
    assert.deepEqual(distribution([1, 2, 3, null]), { trials: 4, median: 2, p95: null, max: null, notLocked: 1 });
    assert.deepEqual(distribution([]), { trials: 0, median: null, p95: null, max: null, notLocked: 0 });
  });

  test('every owner against every impostor, days per owner', () => {
    const owners = [
      { id: 'a', genuine: owner, impostors: [{ id: 'b', pool: impostor }] },
      { id: 'b', genuine: owner, impostors: [{ id: 'a', pool: impostor }] },
    ];
    const r = evaluateSchedule(owners, options, 2);
    assert.equal(r.timeToLockSeconds.trials, 2);
    assert.equal(r.genuineDays, 4);
    assert.equal(r.falseLocksPerDay, 0);
    assert.ok(r.timeToLockSeconds.max! <= 60);
  });
});
