/**
 * Quality gates (src/biometrics/face/quality.ts) and embedding comparison
 * (similarity.ts): each gate fails with its own reason and the measured
 * value; the measures behave as their names promise on pictures whose answer
 * is known.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { UsageError } from '../../../src/errors.js';
import { FaceQualityError } from '../../../src/biometrics/face/errors.js';
import type { FaceLandmarks } from '../../../src/biometrics/face/embedder.js';
import type { DecodedImage } from '../../../src/biometrics/face/image.js';
import { checkFaceQuality, innerFaceBox, measurePixelQuality, qualityProblems, type FaceQuality } from '../../../src/biometrics/face/quality.js';
import { centreEmbedding, cosineSimilarity, l2Normalize, meanEmbedding } from '../../../src/biometrics/face/similarity.js';

const good: FaceQuality = {
  faceSizePx: 200,
  interEyePx: 70,
  brightness: 120,
  contrast: 40,
  sharpness: 200,
  yawDeg: 2,
  pitchDeg: -3,
  rollDeg: 1,
  detectionScore: 0.95,
};

const five: FaceLandmarks['five'] = [
  [40, 40],
  [80, 40],
  [60, 60],
  [45, 80],
  [75, 80],
];

function image(w: number, h: number, f: (x: number, y: number) => number): DecodedImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(Math.max(0, Math.min(255, Math.round(f(x, y)))), (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, data };
}

describe('quality gates', () => {
  test('a good capture passes every gate', () => {
    assert.deepEqual(qualityProblems(good), []);
    checkFaceQuality(good);
  });

  const cases: [string, Partial<FaceQuality>, FaceQualityError['reason']][] = [
    ['too small', { interEyePx: 10, faceSizePx: 30 }, 'too-small'],
    ['too dark', { brightness: 15 }, 'too-dark'],
    ['overexposed', { brightness: 250 }, 'too-bright'],
    ['flat', { contrast: 3 }, 'low-contrast'],
    ['blurred', { sharpness: 1 }, 'blurred'],
    ['turned sideways', { yawDeg: -50 }, 'turned-away'],
    ['looking down', { pitchDeg: 45 }, 'turned-away'],
    ['head rolled', { rollDeg: 70 }, 'turned-away'],
    ['unsure detection', { detectionScore: 0.2 }, 'low-confidence'],
  ];
  for (const [name, change, reason] of cases) {
    test(`${name} fails with E_FACE_QUALITY ${reason}`, () => {
      assert.throws(
        () => checkFaceQuality({ ...good, ...change }),
        (e: unknown) => e instanceof FaceQualityError && e.code === 'E_FACE_QUALITY' && e.reason === reason && Number.isFinite(e.measured) && Number.isFinite(e.limit),
      );
    });
  }

  test('gates can be relaxed one at a time', () => {
    assert.deepEqual(qualityProblems({ ...good, brightness: 15 }, { minBrightness: 10 }), []);
  });

  test('problems come all at once, most fixable first', () => {
    const reasons = qualityProblems({ ...good, brightness: 10, sharpness: 0, yawDeg: 60 }).map((e) => e.reason);
    assert.deepEqual(reasons, ['too-dark', 'blurred', 'turned-away']);
  });
});

describe('pixel measures', () => {
  test('innerFaceBox is centred between eyes and mouth', () => {
    const b = innerFaceBox(five);
    assert.equal(b.x + b.width / 2, 60);
    assert.equal(b.y + b.height / 2, 60);
    assert.equal(b.width, 1.6 * 40);
  });

  test('a flat grey face has its brightness, no contrast and no sharpness', () => {
    const q = measurePixelQuality(image(120, 120, () => 90), five);
    assert.ok(Math.abs(q.brightness - 90) < 1e-3);
    assert.ok(q.contrast < 1e-3);
    assert.ok(q.sharpness < 1e-3);
  });

  test('fine detail is sharper than the same detail blurred, whatever the face size', () => {
    const checker = (s: number) => (x: number, y: number) => ((Math.floor(x / s) + Math.floor(y / s)) % 2 ? 200 : 50);
    const smooth = (s: number) => (x: number, y: number) => 125 + 75 * Math.sin((x / s) * 0.3) * Math.sin((y / s) * 0.3);
    const scaled = (k: number): FaceLandmarks['five'] => five.map(([x, y]) => [x * k, y * k] as const) as unknown as FaceLandmarks['five'];
    for (const k of [1, 3]) {
      const sharp = measurePixelQuality(image(120 * k, 120 * k, checker(2 * k)), scaled(k)).sharpness;
      const blurred = measurePixelQuality(image(120 * k, 120 * k, smooth(k)), scaled(k)).sharpness;
      assert.ok(sharp > 10 * blurred, `k=${k}: ${sharp} vs ${blurred}`);
    }
  });
});

describe('similarity', () => {
  test('cosine of a vector with itself is 1, with its opposite -1, with zero 0', () => {
    const a = [1, 2, 3];
    assert.ok(Math.abs(cosineSimilarity(a, a) - 1) < 1e-12);
    assert.ok(Math.abs(cosineSimilarity(a, [-1, -2, -3]) + 1) < 1e-12);
    assert.equal(cosineSimilarity(a, [0, 0, 0]), 0);
    assert.throws(() => cosineSimilarity(a, [1, 2]), UsageError);
  });

  test('centring on a cohort mean separates vectors that share a common offset', () => {
    const offset = [5, 5, 5, 5];
    const a = [6, 5, 5, 5];
    const b = [5, 6, 5, 5];
    assert.ok(cosineSimilarity(a, b) > 0.9);
    const m = meanEmbedding([offset, [5.1, 5, 5, 5], [5, 5, 5.1, 5]]);
    assert.ok(cosineSimilarity(centreEmbedding(a, m), centreEmbedding(b, m)) < 0.2);
    const n = l2Normalize([3, 4]);
    assert.ok(Math.abs((n[0] as number) - 0.6) < 1e-6);
    assert.throws(() => meanEmbedding([]), UsageError);
  });
});
