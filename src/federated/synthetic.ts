/**
 * Synthetic face embeddings for tests and demonstrations without a data set:
 * each person is a random direction, each "photo" that direction plus
 * Gaussian noise (cosine about 0.7 to the person's direction, roughly what a
 * face model gives for two photos of one person).
 */
import { seededRandom } from '../eval/metrics.js';
import { standardNormal } from './gaussian-noise.js';
import type { LabelledEmbedding } from './face-data.js';

/** `people` x `perPerson` labelled embeddings of `dimensions` values. */
export function syntheticEmbeddings(o: { people: number; perPerson: number; dimensions: number; seed: number }): LabelledEmbedding[] {
  const normal = standardNormal(seededRandom(o.seed));
  const out: LabelledEmbedding[] = [];
  for (let p = 0; p < o.people; p++) {
    const base = Float64Array.from({ length: o.dimensions }, () => normal());
    for (let k = 0; k < o.perPerson; k++) {
      out.push({ person: `p${p + 1}`, embedding: Float32Array.from(base, (b) => b + normal()) });
    }
  }
  return out;
}
