/**
 * The comparison embedder (face-api: SSD + 68 landmarks + ResNet-34 128-d)
 * loads offline through the tfjs shim and behaves like the default one on
 * the same pictures: the same face scores above other people.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { FaceNotFoundError } from '../../../src/biometrics/face/errors.js';
import { FaceApiEmbedder } from '../../../src/biometrics/face/face-api.js';
import { mirrorImage } from '../../../src/biometrics/face/image.js';
import { cosineSimilarity } from '../../../src/biometrics/face/similarity.js';
import { FACES, faceCrop, noiseImage } from './fixtures.js';

let embedder: FaceApiEmbedder;
before(async () => {
  embedder = await FaceApiEmbedder.create();
});
after(async () => {
  await embedder?.dispose();
});

describe('FaceApiEmbedder', () => {
  test('embeds a face in 128 dimensions, deterministically, with no liveness model', async () => {
    const img = await faceCrop(FACES.a);
    const r = await embedder.analyze(img);
    assert.equal(r.embedding.length, 128);
    assert.equal(r.landmarks.all.length, 68);
    assert.equal(r.antispoof, null);
    assert.equal(r.liveness, null);
    assert.deepEqual((await embedder.analyze(img)).embedding, r.embedding);
  });

  test('the mirrored face scores higher than another person', async () => {
    const img = await faceCrop(FACES.a);
    const [a, m, b] = [await embedder.analyze(img), await embedder.analyze(mirrorImage(img)), await embedder.analyze(await faceCrop(FACES.b))];
    assert.ok(cosineSimilarity(a.embedding, m.embedding) > cosineSimilarity(a.embedding, b.embedding));
  });

  test('noise is E_FACE_NOT_FOUND', async () => {
    await assert.rejects(embedder.analyze(noiseImage(320, 240)), FaceNotFoundError);
  });
});
