/**
 * Cohort means (src/biometrics/template/cohort.ts) and how they are used.
 * Two places centre an embedding on the cohort mean: the enrolment
 * consistency check (centreEmbedding: unit-normalise, subtract the mean,
 * normalise) and the protected template (projectEmbedding). They must agree,
 * and a shipped mean must be in the space they subtract it in; otherwise the
 * consistency check compares something else than the template does (with a
 * mean of raw embeddings, every face "agrees" with every other at about 0.99,
 * so a set of images of two people enrols, and the template matches both).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { cohortFor } from '../../../src/biometrics/template/cohort.js';
import { projectEmbedding } from '../../../src/biometrics/template/cancelable.js';
import { centreEmbedding, cosineSimilarity, meanEmbedding } from '../../../src/biometrics/face/similarity.js';
import { Rng } from './random.js';

/** data/cohorts in the repository (dist/test/biometrics/template -> repository root). */
const COHORT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'data', 'cohorts');
const shipped = existsSync(COHORT_DIR) ? readdirSync(COHORT_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];

describe('cohortFor', () => {
  test('returns undefined for an embedder with no shipped mean, and caches', () => {
    assert.equal(cohortFor('no-such-embedder'), undefined);
    assert.equal(cohortFor('no-such-embedder'), undefined);
  });

  test('every shipped cohort mean is a mean of unit vectors (norm at most 1), as centreEmbedding assumes', { skip: shipped.length === 0 && 'no cohort shipped' }, () => {
    for (const embedder of shipped) {
      const c = cohortFor(embedder);
      assert.ok(c, embedder);
      assert.ok(c.id.length > 0);
      assert.ok(c.mean.every(Number.isFinite));
      const norm = Math.hypot(...c.mean);
      assert.ok(norm > 0 && norm <= 1 + 1e-6, `${embedder}: the cohort mean has norm ${norm.toFixed(2)}; a mean of unit vectors has norm <= 1`);
    }
  });
});

describe('centring is the same for the consistency check and for the template', () => {
  test('inner products of projected embeddings equal centreEmbedding cosines, whatever the embeddings\' scale', () => {
    const rng = new Rng(51);
    const D = 256;
    // A cohort of unit vectors sharing a common direction, like a real embedder's outputs.
    const common = rng.vector(D);
    const people = Array.from({ length: 20 }, () => Float32Array.from(rng.vector(D), (v, i) => v + 1.5 * common[i]!));
    const mean = meanEmbedding(people);
    const a = Float32Array.from(people[0]!, (v) => 12 * v); // embedders do not output unit vectors
    const b = Float32Array.from(people[1]!, (v) => 0.5 * v);
    const expected = cosineSimilarity(centreEmbedding(a, mean), centreEmbedding(b, mean));
    const p = { seed: new Uint8Array(32).fill(5), outputs: D };
    const pa = projectEmbedding(a, mean, p);
    const pb = projectEmbedding(b, mean, p);
    let dot = 0;
    for (let i = 0; i < D; i++) dot += pa[i]! * pb[i]!;
    assert.ok(Math.abs(dot - expected) < 1e-6, `template space cosine ${dot.toFixed(4)}, consistency-check cosine ${expected.toFixed(4)}`);
  });
});
