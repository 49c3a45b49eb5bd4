/**
 * Active liveness (src/biometrics/liveness/challenge.ts) over synthetic
 * frame sequences: the user blinks or turns the head as asked, on one face
 * throughout. Attacks built here: a still image repeated as video, a face
 * swapped mid-sequence, a turn the wrong way, a mirrored recording, a
 * recording that never faced the camera.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  CHALLENGES,
  DEFAULT_CHALLENGE_THRESHOLDS,
  drawChallenge,
  verifyChallenge,
  type Challenge,
} from '../../../src/biometrics/liveness/challenge.js';
import type { FaceAnalysis } from '../../../src/biometrics/face/embedder.js';
import { Person } from '../../enrolment/synthetic.js';

const person = new Person(31, 0.05);
const other = new Person(32, 0.05);

/** One frame per eye ratio, of the same live person (fresh noise each frame). */
function eyeFrames(ratios: readonly number[], who = person): FaceAnalysis[] {
  return ratios.map((r) => who.capture({ eyes: { left: r, right: r } }));
}

/** One frame per yaw (degrees, positive towards the image's right). */
function yawFrames(yaws: readonly number[], who = person): FaceAnalysis[] {
  return yaws.map((yaw) => who.capture({ pose: { yaw, pitch: 0, roll: 0 } }));
}

const OPEN = 0.3;
const CLOSED = 0.1;

describe('challenges', () => {
  test('three challenges, drawn unpredictably: all of them appear over many draws', () => {
    assert.deepEqual([...CHALLENGES].sort(), ['blink', 'turn-left', 'turn-right']);
    const seen = new Set<Challenge>();
    for (let i = 0; i < 200 && seen.size < 3; i++) seen.add(drawChallenge());
    assert.equal(seen.size, 3);
  });

  test('thresholds are ordered sensibly', () => {
    const t = DEFAULT_CHALLENGE_THRESHOLDS;
    assert.ok(t.eyeClosed < t.eyeOpen);
    assert.ok(t.frontalYawDeg < t.turnYawDeg);
    assert.ok(t.sameFace < t.frozen && t.frozen < 1);
  });
});

describe('blink', () => {
  test('open, closed, open passes', () => {
    const r = verifyChallenge(eyeFrames([OPEN, OPEN, CLOSED, OPEN]), 'blink');
    assert.equal(r.passed, true, r.reason);
    assert.equal(r.challenge, 'blink');
  });

  test('a slow blink over several frames passes', () => {
    assert.equal(verifyChallenge(eyeFrames([0.32, 0.28, 0.2, 0.12, 0.1, 0.15, 0.25, 0.31]), 'blink').passed, true);
  });

  test('eyes that never close, close without reopening, or start closed fail', () => {
    for (const ratios of [
      [OPEN, OPEN, OPEN, OPEN],
      [OPEN, OPEN, CLOSED, CLOSED],
      [CLOSED, OPEN, OPEN],
      [OPEN, 0.18, OPEN], // half-closed is not a blink
    ]) {
      const r = verifyChallenge(eyeFrames(ratios), 'blink');
      assert.equal(r.passed, false, `ratios ${ratios}`);
      assert.match(r.reason, /blink|open again/);
    }
  });

  test('a still image repeated (identical embeddings) fails, even if the eye ratios were doctored', () => {
    const still = person.capture();
    const frames = [OPEN, CLOSED, OPEN].map((r) => ({ ...still, eyes: { left: r, right: r } }));
    const r = verifyChallenge(frames, 'blink');
    assert.equal(r.passed, false);
    assert.match(r.reason, /still image/);
  });

  test('an embedder without eye landmarks fails closed', () => {
    const frames = [0, 1, 2].map(() => person.capture({ eyes: null }));
    const r = verifyChallenge(frames, 'blink');
    assert.equal(r.passed, false);
    assert.match(r.reason, /eye openness/);
  });

  test('a face swapped mid-sequence fails', () => {
    const frames = [...eyeFrames([OPEN, OPEN]), ...eyeFrames([CLOSED, OPEN], other)];
    const r = verifyChallenge(frames, 'blink');
    assert.equal(r.passed, false);
    assert.match(r.reason, /face changed/);
  });

  test('fewer than two frames fail', () => {
    assert.equal(verifyChallenge([], 'blink').passed, false);
    assert.equal(verifyChallenge(eyeFrames([OPEN]), 'blink').passed, false);
  });
});

describe('turn left / turn right', () => {
  // The person's own left is the image's right: positive yaw (unmirrored camera).
  const left = [0, 5, 15, 25, 30];
  const right = left.map((y) => -y);

  test('turn-left passes on a frontal start then positive yaw; turn-right on negative yaw', () => {
    assert.equal(verifyChallenge(yawFrames(left), 'turn-left').passed, true);
    assert.equal(verifyChallenge(yawFrames(right), 'turn-right').passed, true);
  });

  test('a turn the other way fails, saying so', () => {
    const r = verifyChallenge(yawFrames(right), 'turn-left');
    assert.equal(r.passed, false);
    assert.match(r.reason, /other way/);
    const r2 = verifyChallenge(yawFrames(left), 'turn-right');
    assert.equal(r2.passed, false);
    assert.match(r2.reason, /other way/);
  });

  test('a mirrored recording (yaw negated) fails the direction that was asked', () => {
    const recording = yawFrames(left);
    assert.equal(verifyChallenge(recording, 'turn-left').passed, true);
    const mirrored = recording.map((f) => ({ ...f, pose: { ...f.pose, yaw: -f.pose.yaw } }));
    assert.equal(verifyChallenge(mirrored, 'turn-left').passed, false);
  });

  test('a turn too small, or one that never started facing the camera, fails', () => {
    const small = verifyChallenge(yawFrames([0, 5, 10, 15]), 'turn-left');
    assert.equal(small.passed, false);
    assert.match(small.reason, /no turn/);
    const neverFrontal = verifyChallenge(yawFrames([25, 28, 30]), 'turn-left');
    assert.equal(neverFrontal.passed, false);
    assert.match(neverFrontal.reason, /never looked at the camera/);
  });

  test('the turn must come after the frontal frame, not before it', () => {
    assert.equal(verifyChallenge(yawFrames([30, 25, 0, 2]), 'turn-left').passed, false);
    assert.equal(verifyChallenge(yawFrames([30, 0, 25]), 'turn-left').passed, true);
  });

  test('a still image, or a swapped face, fails a turn challenge too', () => {
    const still = person.capture();
    const frozen = left.map((yaw) => ({ ...still, pose: { yaw, pitch: 0, roll: 0 } }));
    assert.match(verifyChallenge(frozen, 'turn-left').reason, /still image/);
    const swapped = [...yawFrames([0, 5]), ...yawFrames([25, 30], other)];
    assert.match(verifyChallenge(swapped, 'turn-left').reason, /face changed/);
  });

  test('a blink sequence does not pass a turn challenge, nor a turn a blink challenge', () => {
    assert.equal(verifyChallenge(eyeFrames([OPEN, CLOSED, OPEN]), 'turn-left').passed, false);
    assert.equal(verifyChallenge(yawFrames(left), 'blink').passed, false);
  });
});

describe('custom thresholds', () => {
  test('are honoured', () => {
    const strict = { ...DEFAULT_CHALLENGE_THRESHOLDS, turnYawDeg: 35 };
    assert.equal(verifyChallenge(yawFrames([0, 15, 30]), 'turn-left', strict).passed, false);
    assert.equal(verifyChallenge(yawFrames([0, 15, 40]), 'turn-left', strict).passed, true);
  });
});
