/**
 * Protected templates (src/biometrics/template/protected-template.ts): the
 * whole pipeline from embeddings to a stored template and back to the secret.
 * Synthetic embeddings: a person is a base vector plus noise (see
 * test/enrolment/synthetic.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decodesTemplate, enrolTemplate, freshBits, matchTemplate } from '../../../src/biometrics/template/protected-template.js';
import { templateLength } from '../../../src/biometrics/template/fuzzy-commitment.js';
import { CHEAP_PARAMS, DIMENSIONS, Person, SYNTHETIC_EMBEDDER } from '../../enrolment/synthetic.js';
import { hamming } from './random.js';

const owner = new Person(101);
const stranger = new Person(202);
const enrolEmbeddings = Array.from({ length: 5 }, () => owner.embedding());

describe('enrolTemplate / matchTemplate', () => {
  test('genuine captures reproduce the enrolment secret; strangers do not', async () => {
    const { template, secret, unanimousBits } = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS });
    assert.equal(secret.length, 32);
    assert.equal(template.embedder, SYNTHETIC_EMBEDDER);
    assert.equal(template.dimensions, DIMENSIONS);
    assert.equal(template.indices.length, templateLength(CHEAP_PARAMS));
    assert.equal(template.projection.seed.length, 32);
    assert.equal(template.projection.outputs, CHEAP_PARAMS.projectedOutputs);
    assert.ok(unanimousBits > 400, `unanimous bits ${unanimousBits}`);
    for (let i = 0; i < 10; i++) {
      const m = await matchTemplate(template, owner.embedding());
      assert.ok(m, `genuine capture ${i} should match`);
      assert.deepEqual(m.secret, secret);
      assert.ok(m.score > 0.85 && m.score <= 1, `score ${m.score}`);
    }
    for (let i = 0; i < 20; i++) {
      assert.equal(decodesTemplate(template, stranger.embedding()), undefined, `stranger ${i}`);
      assert.equal(decodesTemplate(template, new Person(300 + i).embedding()), undefined);
    }
    assert.equal(await matchTemplate(template, stranger.embedding()), undefined);
  });

  test('the stored template holds no embedding and no template bits in the clear', async () => {
    const { template } = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS });
    const bits = freshBits(template, owner.base);
    // The commitment is codeword xor bits: about half its bits differ from the template bits.
    const d = hamming(template.commitment.commitment, bits) / bits.length;
    assert.ok(d > 0.35 && d < 0.65, `commitment vs template bits: ${d}`);
    const keys = Object.keys(template).sort();
    assert.deepEqual(keys, ['commitment', 'dimensions', 'embedder', 'indices', 'projection']);
  });

  test('each enrolment draws a fresh seed; the same person under two seeds is unlinkable', async () => {
    const a = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS });
    const b = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS });
    assert.notDeepEqual(a.template.projection.seed, b.template.projection.seed);
    assert.notDeepEqual(a.secret, b.secret);
    // The same face's bits under the two transforms agree no more than a stranger's would.
    const ba = freshBits(a.template, owner.base);
    const bb = freshBits(b.template, owner.base);
    const rate = hamming(ba, bb) / ba.length;
    assert.ok(rate > 0.4 && rate < 0.6, `cross-seed disagreement ${rate}`);
    // A template made under one seed does not decode with bits made under the other.
    assert.equal(decodesTemplate(a.template, owner.base) !== undefined, true);
    const swapped = { ...a.template, projection: b.template.projection, indices: b.template.indices };
    assert.equal(decodesTemplate(swapped, owner.base), undefined);
  });

  test('a given seed is used as is (reproducible transform)', async () => {
    const seed = new Uint8Array(32).fill(9);
    const a = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS, seed });
    const b = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS, seed });
    assert.deepEqual(a.template.indices, b.template.indices);
    assert.deepEqual(freshBits(a.template, owner.base), freshBits(b.template, owner.base));
  });

  test('refuses no embeddings and embeddings of another length', async () => {
    await assert.rejects(enrolTemplate([], { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS }), RangeError);
    const { template } = await enrolTemplate(enrolEmbeddings, { embedder: SYNTHETIC_EMBEDDER, params: CHEAP_PARAMS });
    assert.throws(() => freshBits(template, new Float32Array(128)), RangeError);
    await assert.rejects(matchTemplate(template, new Float32Array(512)), RangeError);
  });
});
