/**
 * Passive liveness (src/biometrics/liveness/passive.ts): the model's
 * anti-spoof and liveness scores on every frame must clear their thresholds;
 * a missing score fails closed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { checkPassiveLiveness, DEFAULT_PASSIVE_THRESHOLDS } from '../../../src/biometrics/liveness/passive.js';
import { Person } from '../../enrolment/synthetic.js';

const person = new Person(41);
const frame = (antispoof: number | null, liveness: number | null) => person.capture({ antispoof, liveness });

describe('checkPassiveLiveness', () => {
  test('default thresholds are those documented', () => {
    assert.deepEqual({ ...DEFAULT_PASSIVE_THRESHOLDS }, { antispoof: 0.3, liveness: 0.1 });
  });

  test('passes live frames and reports the lowest scores seen', () => {
    const r = checkPassiveLiveness([frame(0.9, 0.8), frame(0.6, 0.95), frame(0.7, 0.5)]);
    assert.equal(r.passed, true, r.reason);
    assert.equal(r.antispoof, 0.6);
    assert.equal(r.liveness, 0.5);
  });

  test('a score exactly at the threshold passes; just below fails', () => {
    assert.equal(checkPassiveLiveness([frame(0.3, 0.1)]).passed, true);
    const a = checkPassiveLiveness([frame(0.2999, 0.9)]);
    assert.equal(a.passed, false);
    assert.match(a.reason, /anti-spoof/);
    const l = checkPassiveLiveness([frame(0.9, 0.0999)]);
    assert.equal(l.passed, false);
    assert.match(l.reason, /liveness score/);
  });

  test('one spoofed frame among live ones fails the whole presentation', () => {
    assert.equal(checkPassiveLiveness([frame(0.9, 0.9), frame(0.05, 0.9), frame(0.9, 0.9)]).passed, false);
    assert.equal(checkPassiveLiveness([frame(0.9, 0.9), frame(0.9, 0.01)]).passed, false);
  });

  test('missing scores fail closed, unless the caller explicitly allows them', () => {
    for (const frames of [[frame(null, null)], [frame(null, 0.9)], [frame(0.9, null)], [frame(0.9, 0.9), frame(null, null)]]) {
      const r = checkPassiveLiveness(frames);
      assert.equal(r.passed, false);
      assert.match(r.reason, /no liveness scores/);
    }
    assert.equal(checkPassiveLiveness([frame(null, null)], { ...DEFAULT_PASSIVE_THRESHOLDS, allowMissing: true }).passed, true);
  });

  test('no frames fail, even when missing scores are allowed', () => {
    assert.equal(checkPassiveLiveness([]).passed, false);
    assert.equal(checkPassiveLiveness([], { ...DEFAULT_PASSIVE_THRESHOLDS, allowMissing: true }).passed, false);
  });

  test('custom thresholds are honoured', () => {
    assert.equal(checkPassiveLiveness([frame(0.5, 0.5)], { antispoof: 0.6, liveness: 0.1 }).passed, false);
    assert.equal(checkPassiveLiveness([frame(0.5, 0.5)], { antispoof: 0.4, liveness: 0.4 }).passed, true);
  });

  test('NaN scores (a broken model output) do not pass', () => {
    assert.equal(checkPassiveLiveness([frame(Number.NaN, 0.9)]).passed, false);
    assert.equal(checkPassiveLiveness([frame(0.9, Number.NaN)]).passed, false);
  });
});
