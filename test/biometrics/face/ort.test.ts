/**
 * OrtFaceEmbedder (every face model on onnxruntime, Human's processing
 * ported) against HumanEmbedder (Human on tfjs WASM), on photos the
 * face-api npm package ships. What a user depends on: switching engine
 * changes nothing they can see (the same box, landmarks, pose, eye
 * openness, passive scores and, above all, the same embedding, so existing
 * enrolments keep matching); pictures without exactly one face fail with
 * the same typed errors; the active liveness challenge still tells a
 * performed challenge from a still photo or the wrong action.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';

import { ModelError, UsageError } from '../../../src/errors.js';
import type { FaceAnalysis } from '../../../src/biometrics/face/embedder.js';
import { FaceNotFoundError, ImageError, MultipleFacesError } from '../../../src/biometrics/face/errors.js';
import { HumanEmbedder } from '../../../src/biometrics/face/human.js';
import { mirrorImage, type DecodedImage } from '../../../src/biometrics/face/image.js';
import { OrtFaceEmbedder } from '../../../src/biometrics/face/ort/embedder.js';
import { faceEngineFromEnv } from '../../../src/biometrics/face/shared-embedder.js';
import { cosineSimilarity } from '../../../src/biometrics/face/similarity.js';
import { verifyChallenge, type Challenge } from '../../../src/biometrics/liveness/challenge.js';
import { buildFilms, type Films } from '../../daemon/fake-camera.js';
import { FACES, faceCrop, noiseImage, samplePhoto } from './fixtures.js';

let human: HumanEmbedder;
let ort: OrtFaceEmbedder;
let faceA: DecodedImage;

/** The image rotated in-plane by `deg` degrees (grey corners), so the engine must rotate its face crop upright. */
async function rotated(img: DecodedImage, deg: number): Promise<DecodedImage> {
  const { data, info } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .rotate(deg, { background: { r: 90, g: 90, b: 90 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function assertSameDescription(h: FaceAnalysis, o: FaceAnalysis, what: string): void {
  assert.equal(o.embedder, h.embedder, what);
  assert.deepEqual(o.box, h.box, `${what}: box`);
  assert.equal(o.landmarks.all.length, h.landmarks.all.length, `${what}: landmark count`);
  // Landmarks are whole pixels in both engines; float32 (tfjs) versus float64 (here) may move one by a pixel.
  o.landmarks.all.forEach((p, i) => {
    const q = h.landmarks.all[i]!;
    assert.ok(Math.hypot(p[0] - q[0], p[1] - q[1]) <= 1.5, `${what}: landmark ${i} at ${p} vs ${q}`);
  });
  const cos = cosineSimilarity(o.embedding, h.embedding);
  assert.ok(cos > 0.9999, `${what}: embedding cosine ${cos}`);
  assert.equal(o.detectionScore, h.detectionScore, `${what}: detection score`);
  assert.ok(Math.abs(o.antispoof! - h.antispoof!) <= 0.011, `${what}: anti-spoof ${o.antispoof} vs ${h.antispoof}`);
  assert.ok(Math.abs(o.liveness! - h.liveness!) <= 0.011, `${what}: liveness ${o.liveness} vs ${h.liveness}`);
  for (const k of ['yaw', 'pitch', 'roll'] as const) assert.ok(Math.abs(o.pose[k] - h.pose[k]) < 0.5, `${what}: ${k} ${o.pose[k]} vs ${h.pose[k]}`);
  assert.ok(o.eyes && h.eyes && Math.abs(o.eyes.left - h.eyes.left) < 0.01 && Math.abs(o.eyes.right - h.eyes.right) < 0.01, `${what}: eyes`);
  assert.equal(o.faceCount, h.faceCount, `${what}: face count`);
  assert.ok(Math.abs(o.quality.sharpness - h.quality.sharpness) < 0.05 * h.quality.sharpness + 0.5, `${what}: sharpness`);
}

before(async () => {
  [human, ort] = await Promise.all([HumanEmbedder.create(), OrtFaceEmbedder.create()]);
  faceA = await faceCrop(FACES.a);
});
after(async () => {
  await ort?.dispose();
  await human?.dispose();
});

describe('OrtFaceEmbedder: the same analysis as HumanEmbedder', () => {
  test('loads offline and records the same embedder name and size', () => {
    assert.equal(ort.name, 'faceres-aligned');
    assert.equal(ort.name, human.name);
    assert.equal(ort.dimensions, 1024);
    assert.ok(ort.loadMs > 0 && ort.warmupMs > 0);
  });

  test('three people, mirrored, rotated 25 degrees, and a tight grey ORL-style crop: same box, landmarks, scores and embedding', async () => {
    const cases: [string, DecodedImage][] = [
      ['a', faceA],
      ['b', await faceCrop(FACES.b)],
      ['c', await faceCrop(FACES.c)],
      ['a mirrored', mirrorImage(faceA)],
      ['a rotated 25', await rotated(faceA, 25)],
      ['a rotated -30', await rotated(faceA, -30)],
      ['a grey 92x112', await faceCrop(FACES.a, { margin: 1.0, width: 92, height: 112, grey: true })],
    ];
    for (const [what, img] of cases) assertSameDescription(await human.analyze(img), await ort.analyze(img), what);
  });

  test('the largest face of a group photo, under multipleFaces: largest', async () => {
    const group = await samplePhoto(6, 960);
    const h = await human.analyze(group, { multipleFaces: 'largest' });
    const o = await ort.analyze(group, { multipleFaces: 'largest' });
    assert.ok(o.faceCount >= 2);
    assertSameDescription(h, o, 'group photo 6');
  });

  test('nothing carries over between frames: the same image embeds bit for bit the same after another face', async () => {
    const first = await ort.analyze(faceA);
    await ort.analyze(await faceCrop(FACES.b));
    const again = await ort.analyze(faceA);
    assert.deepEqual(again.embedding, first.embedding);
    assert.deepEqual(again.landmarks, first.landmarks);
  });

  test('concurrent calls each get their own face', async () => {
    const faceB = await faceCrop(FACES.b);
    const [a1, b1, a2] = await Promise.all([ort.analyze(faceA), ort.analyze(faceB), ort.analyze(faceA)]);
    assert.deepEqual(a2.embedding, a1.embedding);
    assert.ok(cosineSimilarity(a1.embedding, b1.embedding) < 0.7);
  });
});

describe('OrtFaceEmbedder: pictures without one usable face', () => {
  test('a blank image and a noise image are E_FACE_NOT_FOUND', async () => {
    const blank: DecodedImage = { width: 320, height: 240, data: new Uint8Array(320 * 240 * 3).fill(128) };
    await assert.rejects(ort.analyze(blank), (e: unknown) => e instanceof FaceNotFoundError && e.code === 'E_FACE_NOT_FOUND');
    await assert.rejects(ort.analyze(noiseImage(320, 240)), FaceNotFoundError);
  });

  test('a group photo is E_FACE_MULTIPLE with the count HumanEmbedder gives', async () => {
    const group = await samplePhoto(1, 960);
    await assert.rejects(human.analyze(group), (e: unknown) => e instanceof MultipleFacesError && e.count === 3);
    await assert.rejects(ort.analyze(group), (e: unknown) => e instanceof MultipleFacesError && e.code === 'E_FACE_MULTIPLE' && e.count === 3);
  });

  test('inconsistent pixel buffers are E_IMAGE; a disposed engine refuses with a ModelError', async () => {
    await assert.rejects(ort.analyze({ width: 10, height: 10, data: new Uint8Array(100) }), (e: unknown) => e instanceof ImageError && e.reason === 'corrupt');
    await assert.rejects(ort.analyze({ width: 0, height: 10, data: new Uint8Array(0) }), ImageError);
    const spare = await OrtFaceEmbedder.create({ warmup: false, liveness: false });
    await spare.dispose();
    await assert.rejects(spare.analyze(faceA), ModelError);
  });
});

describe('OrtFaceEmbedder: options', () => {
  test('without iris, 468 landmarks and eye openness from the mesh lids; without liveness, no passive scores', async () => {
    const lean = await OrtFaceEmbedder.create({ iris: false, liveness: false, warmup: false });
    try {
      const x = await lean.analyze(faceA);
      assert.equal(x.landmarks.all.length, 468);
      assert.ok(x.eyes && x.eyes.left > 0.15 && x.eyes.right > 0.15, JSON.stringify(x.eyes));
      assert.equal(x.antispoof, null);
      assert.equal(x.liveness, null);
      assert.equal(x.embedding.length, 1024);
    } finally {
      await lean.dispose();
    }
  });

  test('BIOSEAL_FACE_ENGINE: ort by default, human on request, anything else a usage error', () => {
    assert.equal(faceEngineFromEnv({}), 'ort');
    assert.equal(faceEngineFromEnv({ BIOSEAL_FACE_ENGINE: 'human' }), 'human');
    assert.throws(() => faceEngineFromEnv({ BIOSEAL_FACE_ENGINE: 'tfjs-node' }), UsageError);
  });
});

describe('active liveness on the onnxruntime engine (films built from a demo photo)', () => {
  let films: Films;
  before(async () => {
    films = await buildFilms((img) => ort.analyze(img));
  });
  const analyse = (frames: readonly DecodedImage[]): Promise<FaceAnalysis[]> => Promise.all(frames.map((f) => ort.analyze(f)));

  test('each challenge performed passes', async () => {
    for (const c of ['blink', 'turn-left', 'turn-right'] as const satisfies readonly Challenge[]) {
      const r = verifyChallenge(await analyse(films.challenge[c]), c);
      assert.equal(r.passed, true, `${c}: ${r.reason}`);
    }
  });

  test('a still photo, or the wrong action, fails', async () => {
    const still = await analyse([films.still[0]!, films.still[0]!, films.still[0]!, films.still[0]!]);
    assert.match(verifyChallenge(still, 'blink').reason, /still image/);
    assert.equal(verifyChallenge(await analyse(films.challenge['turn-left']), 'turn-right').passed, false);
    assert.equal(verifyChallenge(await analyse(films.challenge.blink), 'turn-left').passed, false);
    assert.equal(verifyChallenge(await analyse(films.challenge['turn-right']), 'blink').passed, false);
  });
});
