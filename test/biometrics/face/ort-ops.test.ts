/**
 * The onnxruntime face engine reimplements the tfjs image operations and
 * BlazeFace's decoding that Human runs; these tests hold the ports to the
 * tfjs kernels themselves (the WASM backend Human uses), on random data,
 * so a drift in sampling rules shows here before it moves a landmark.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { loadTfjsWasm, type Tf } from '../../../src/biometrics/face/tfjs-runtime.js';
import { blazefaceAnchors, decodeBlazeface, nonMaxSuppression } from '../../../src/biometrics/face/ort/blazeface.js';
import { cropAndResize, resizeBilinear } from '../../../src/biometrics/face/ort/pixels.js';
import { noiseImage } from './fixtures.js';

let tf: Tf;
before(async () => {
  tf = await loadTfjsWasm();
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe('pixel operations match the tfjs kernels', () => {
  const img = noiseImage(97, 61, 11);

  test('resizeBilinear (down and up, with scale and offset)', () => {
    for (const [w, h] of [
      [256, 256],
      [40, 30],
      [128, 77],
    ] as const) {
      const ours = new Float32Array(w * h * 3);
      resizeBilinear(img, w, h, ours, 1 / 127.5, -1);
      const ref = tf.tidy(() => tf.sub(tf.div(tf.image.resizeBilinear(tf.tensor3d(img.data, [img.height, img.width, 3], 'float32'), [h, w]), 127.5), 1).dataSync());
      assert.ok(maxDiff(ours, ref) < 1e-4, `${w}x${h}: ${maxDiff(ours, ref)}`);
    }
  });

  test('cropAndResize, boxes inside and beyond the image, mirrored or not', () => {
    const boxes = [
      [0.1, 0.2, 0.8, 0.7],
      [-0.2, -0.1, 0.6, 1.3],
      [0.5, 0.5, 0.52, 0.53],
    ] as const;
    for (const box of boxes) {
      for (const flip of [false, true]) {
        const ours = new Float32Array(33 * 33 * 3);
        cropAndResize(img, box, 33, ours, { scale: 1 / 255, flip });
        const ref = tf.tidy(() => {
          const crop = tf.div(tf.image.cropAndResize(tf.tensor4d(img.data, [1, img.height, img.width, 3], 'float32'), [[...box]], [0], [33, 33]), 255) as ReturnType<typeof tf.image.cropAndResize>;
          return (flip ? tf.image.flipLeftRight(crop) : crop).dataSync();
        });
        assert.ok(maxDiff(ours, ref) < 1e-5, `${box} flip ${flip}: ${maxDiff(ours, ref)}`);
      }
    }
  });

  test('a crop of the image rotated about a centre equals rotateWithOffset then cropAndResize', () => {
    for (const radians of [0.35, -0.9, 2.5]) {
      const center = [0.4, 0.55] as const;
      const box = [0.15, 0.1, 0.85, 0.8] as const;
      const ours = new Float32Array(48 * 48 * 3);
      cropAndResize(img, box, 48, ours, { rotation: { radians, centerX: img.width * center[0], centerY: img.height * center[1] } });
      const ref = tf.tidy(() => {
        const rotated = tf.image.rotateWithOffset(tf.tensor4d(img.data, [1, img.height, img.width, 3], 'float32'), radians, 0, [...center]);
        return tf.image.cropAndResize(rotated, [[...box]], [0], [48, 48]).dataSync();
      });
      // Values 0..255: tfjs interpolates in float32, this port in float64.
      assert.ok(maxDiff(ours, ref) < 0.01, `${radians} rad: ${maxDiff(ours, ref)}`);
    }
  });
});

describe('BlazeFace decoding', () => {
  test('896 anchors: 16x16 cells x 2 at stride 16, then 8x8 x 6 at stride 32', () => {
    const a = blazefaceAnchors();
    assert.equal(a.length, 896 * 2);
    assert.deepEqual([a[0], a[1], a[2], a[3], a[4], a[5]], [8, 8, 8, 8, 24, 8]);
    assert.deepEqual([a[2 * 512], a[2 * 512 + 1]], [16, 16]);
    assert.deepEqual([a[2 * 895], a[2 * 895 + 1]], [240, 240]);
  });

  test('non-maximum suppression keeps what tfjs keeps', async () => {
    const r = rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 60;
      const boxes = new Float32Array(4 * n);
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const x = r() * 200;
        const y = r() * 200;
        const s = 10 + r() * 60;
        boxes.set([x, y, x + s * (0.8 + 0.4 * r()), y + s], 4 * i);
        scores[i] = r();
      }
      const ours = nonMaxSuppression(boxes, scores, 4, 0.1, 0.3);
      // tfjs takes [y1, x1, y2, x2]; IoU does not depend on the axis order.
      const t = tf.tensor2d(boxes, [n, 4]);
      const ref = await tf.image.nonMaxSuppressionAsync(t as Parameters<typeof tf.image.nonMaxSuppressionAsync>[0], scores, 4, 0.1, 0.3);
      assert.deepEqual(ours, Array.from(await ref.data()));
      tf.dispose([t, ref]);
    }
  });

  test('decoding: the box follows the anchor, is enlarged 1.4x and made square; low scores are dropped', () => {
    const anchors = blazefaceAnchors();
    const scores = new Float32Array(896).fill(-10);
    const regressors = new Float32Array(896 * 16);
    // Anchor 600 (stride 32 grid): a 40x30 box offset by (+4, -2), keypoints at the anchor.
    scores[600] = 3;
    regressors.set([4, -2, 40, 30], 600 * 16);
    const settings = { maxDetected: 4, minConfidence: 0.3, iouThreshold: 0.1, scale: 1.4 };
    const [face, ...rest] = decodeBlazeface(scores, regressors, anchors, 512, 256, settings);
    assert.equal(rest.length, 0);
    assert.ok(face);
    const cx = ((anchors[1200] as number) + 4) * 2;
    const cy = (anchors[1201] as number) - 2;
    // In image pixels the box is 80x30 (x scaled by 2); enlarged 112x42; square side 112.
    assert.deepEqual(face.size, [112, 42]);
    assert.deepEqual(face.startPoint, [Math.round(cx - 56), Math.round(cy - 56)]);
    assert.deepEqual(face.endPoint, [Math.round(cx + 56), Math.round(cy + 56)]);
    assert.ok(Math.abs(face.confidence - 1 / (1 + Math.exp(-3))) < 1e-6);
    assert.deepEqual(face.landmarks[0], [(anchors[1200] as number) * 2, anchors[1201]]);
    scores[600] = -1; // sigmoid 0.27 < 0.3
    assert.deepEqual(decodeBlazeface(scores, regressors, anchors, 512, 256, settings), []);
  });
});
