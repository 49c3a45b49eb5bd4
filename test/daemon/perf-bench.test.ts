/**
 * The plumbing of `bioseal bench daemon` that does not depend on timing: the
 * overhead statistic and its interval, the counting of responses around a
 * lock, and when a lock run meets the goal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countResponses, lockRunMet, overheadEstimate } from '../../src/bench/daemon.js';

describe('overheadEstimate', () => {
  test('a path 1% slower in every round: 1% slower, a tight interval, throughput loss 1 - 1/1.01', () => {
    const base = Array.from({ length: 50 }, (_, i) => 2 + (i % 7) * 0.1);
    const o = overheadEstimate(base, base.map((b) => b * 1.01));
    assert.equal(o.slowerPercent, 1);
    assert.deepEqual(o.ci, { low: 1, high: 1 });
    assert.equal(o.throughputLossPercent, Math.round(100 * (1 - 1 / 1.01) * 1000) / 1000);
    assert.equal(o.totalSlowerPercent, 1);
  });

  test('a rare slow call leaves the median alone and shows in the total', () => {
    const base = Array.from({ length: 100 }, () => 1);
    const path = base.map((b, i) => (i === 0 ? b + 10 : b));
    const o = overheadEstimate(base, path);
    assert.equal(o.slowerPercent, 0);
    assert.equal(o.totalSlowerPercent, 10);
  });

  test('paired by round: a drift shared by both paths cancels; the interval holds the estimate', () => {
    const base = Array.from({ length: 101 }, (_, i) => 1 + i / 10);
    const path = base.map((b, i) => b * (i % 2 ? 1.02 : 0.98));
    const o = overheadEstimate(base, path);
    assert.ok(Math.abs(o.slowerPercent - 2) < 1e-9 || Math.abs(o.slowerPercent + 2) < 1e-9);
    assert.ok(o.ci.low <= o.slowerPercent && o.slowerPercent <= o.ci.high);
    assert.equal(overheadEstimate(base, base).slowerPercent, 0, 'identical paths: no overhead');
  });

  test('is deterministic for a seed, and refuses unpaired or non-positive times', () => {
    const base = [1, 2, 3, 4, 5];
    const path = [1.1, 1.9, 3.3, 4.1, 5.2];
    assert.deepEqual(overheadEstimate(base, path, { seed: 3 }), overheadEstimate(base, path, { seed: 3 }));
    assert.throws(() => overheadEstimate([], []), RangeError);
    assert.throws(() => overheadEstimate([1, 2], [1]), RangeError);
    assert.throws(() => overheadEstimate([1, 0], [1, 1]), RangeError);
    assert.throws(() => overheadEstimate([1, NaN], [1, 1]), RangeError);
  });
});

describe('responses around a lock', () => {
  // A response log as the daemon writes it: 2xx until the lock took effect, 423 after.
  const lockAt = 1_000;
  const log = {
    at: [100, 500, 990, 999, 1000, 1001, 1200, 1500, 1800],
    status: [200, 200, 200, 200, 200, 423, 423, 423, 423],
  };

  test('counts by status after a moment, strictly after it', () => {
    assert.deepEqual(countResponses(log), { responses: 9, ok: 5, locked: 4, other: 0 });
    assert.deepEqual(countResponses(log, lockAt), { responses: 4, ok: 0, locked: 4, other: 0 }, 'a response written at the lock moment counts as before it');
    assert.deepEqual(countResponses({ at: [1, 2, 3], status: [500, 401, 204] }), { responses: 3, ok: 1, locked: 0, other: 2 });
  });

  const run = (entries: { at: number[]; status: number[] }) => ({
    written: countResponses(entries),
    writtenAfterLock: countResponses(entries, lockAt),
    errors: 0,
    timeouts: 0,
  });

  test('a lock that stops every later response meets the goal', () => {
    assert.equal(lockRunMet(run(log)), true);
  });

  test('a 2xx written after the lock answer, or any other status after it, misses the goal', () => {
    assert.equal(lockRunMet(run({ at: [...log.at, 1900], status: [...log.status, 200] })), false);
    assert.equal(lockRunMet(run({ at: [...log.at, 1900], status: [...log.status, 500] })), false);
  });

  test('a lock that landed after the load (nothing answered 423 after it), or load errors, miss the goal', () => {
    assert.equal(lockRunMet(run({ at: [100, 200], status: [200, 200] })), false);
    assert.equal(lockRunMet(run({ at: [1100], status: [423] })), false, 'nothing was served before the lock');
    assert.equal(lockRunMet({ ...run(log), errors: 1 }), false);
    assert.equal(lockRunMet({ ...run(log), timeouts: 2 }), false);
  });
});
