/**
 * Turns face embeddings (one per image, labelled by person) into the
 * simulation's train and test examples: each embedding scaled to unit L2
 * norm, and a seeded `testPerPerson` of every person's images held out for
 * testing.
 */
import { UsageError } from '../errors.js';
import type { UniformSource } from './gaussian-noise.js';
import { shuffled } from './partition.js';
import type { FederatedData } from './simulation.js';
import type { Example } from './softmax-model.js';

/** An embedding and whose face it is. */
export interface LabelledEmbedding {
  readonly person: string;
  readonly embedding: Float32Array | Float64Array;
}

/**
 * Builds the data set.
 *
 * @throws {UsageError} fewer than two people, embeddings of different lengths, or a person with too few images to hold some out
 */
export function federatedDataFromEmbeddings(items: readonly LabelledEmbedding[], o: { testPerPerson: number; random: UniformSource }): FederatedData {
  const people = [...new Set(items.map((i) => i.person))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (people.length < 2) throw new UsageError('the federated evaluation needs embeddings of at least two people');
  const dimensions = items[0]!.embedding.length;
  if (items.some((i) => i.embedding.length !== dimensions)) throw new UsageError('embeddings differ in length');
  if (!Number.isInteger(o.testPerPerson) || o.testPerPerson < 1) throw new UsageError('test images per person must be a positive integer');
  const train: Example[] = [];
  const test: Example[] = [];
  people.forEach((person, label) => {
    const own = shuffled(items.filter((i) => i.person === person), o.random);
    if (own.length <= o.testPerPerson) throw new UsageError(`${person} has ${own.length} usable images: at least ${o.testPerPerson + 1} are needed to hold ${o.testPerPerson} out for testing`);
    own.forEach((item, k) => (k < o.testPerPerson ? test : train).push({ x: unitLength(item.embedding), label }));
  });
  return { train, test, shape: { dimensions, classes: people.length }, people };
}

function unitLength(v: Float32Array | Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(v, (x) => x / n);
}
