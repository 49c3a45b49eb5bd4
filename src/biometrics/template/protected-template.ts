/**
 * Protected face templates: enrolment and verification over embeddings.
 *
 *   embedding --centre on cohort mean--> --seeded rotation--> signs
 *     --reliable bits chosen at enrolment--> template bits
 *     --fuzzy commitment (BCH)--> stored commitment; secret out
 *
 * What is stored (ProtectedTemplate) is the seed, the chosen coordinates, the
 * commitment, a salt and a check value: never an embedding, never template
 * bits in the clear. See docs/FACE.md for the security estimate.
 */
import { randomBytes } from 'node:crypto';
import { commit, decodeMessages, reproduce, templateLength, type CommitmentParams, type CommitmentRecord } from './fuzzy-commitment.js';
import { projectEmbedding, selectReliableBits, templateBits, type ProjectionParams } from './cancelable.js';

/** Template parameters: the code and how many projected coordinates to draw from. */
export interface TemplateParams extends CommitmentParams {
  /** Projected coordinates to choose reliable bits from (a multiple of the padded embedding length). */
  readonly projectedOutputs: number;
}

export interface ProtectedTemplate {
  readonly embedder: string;
  readonly dimensions: number;
  readonly projection: ProjectionParams;
  readonly indices: Uint32Array;
  readonly commitment: CommitmentRecord;
}

export interface EnrolResult {
  readonly template: ProtectedTemplate;
  /** The 32-byte face secret (wipe after use). */
  readonly secret: Uint8Array;
  /** Selected bits on which every enrolment sample agreed. */
  readonly unanimousBits: number;
}

/**
 * Enrols from several embeddings of one person.
 * @throws RangeError for inconsistent inputs (callers check consistency first).
 */
export async function enrolTemplate(
  embeddings: readonly Float32Array[],
  options: { embedder: string; cohortMean?: Float32Array; params: TemplateParams; seed?: Uint8Array },
): Promise<EnrolResult> {
  if (embeddings.length === 0) throw new RangeError('no embeddings to enrol');
  const dimensions = embeddings[0]!.length;
  const projection: ProjectionParams = { seed: options.seed ?? new Uint8Array(randomBytes(32)), outputs: options.params.projectedOutputs };
  const projections = embeddings.map((e) => projectEmbedding(e, options.cohortMean, projection));
  const selection = selectReliableBits(projections, templateLength(options.params), options.params.blocks);
  const { record, secret } = await commit(selection.reference, options.params);
  selection.reference.fill(0);
  for (const p of projections) p.fill(0);
  return {
    template: { embedder: options.embedder, dimensions, projection, indices: selection.indices, commitment: record },
    secret,
    unanimousBits: selection.unanimous,
  };
}

/** Template bits of a fresh embedding under an enrolled template's transform. */
export function freshBits(template: ProtectedTemplate, embedding: Float32Array, cohortMean?: Float32Array): Uint8Array {
  if (embedding.length !== template.dimensions) throw new RangeError(`embedding has ${embedding.length} dimensions, the template ${template.dimensions}`);
  const projection = projectEmbedding(embedding, cohortMean, template.projection);
  try {
    return templateBits(projection, template.indices);
  } finally {
    projection.fill(0);
  }
}

/** Whether a fresh embedding decodes the commitment (no stretching): for evaluations. */
export function decodesTemplate(template: ProtectedTemplate, embedding: Float32Array, cohortMean?: Float32Array): { corrected: number } | undefined {
  const bits = freshBits(template, embedding, cohortMean);
  const decoded = decodeMessages(template.commitment, bits);
  bits.fill(0);
  if (!decoded) return undefined;
  decoded.messages.fill(0);
  return { corrected: decoded.corrected };
}

export interface TemplateMatch {
  readonly secret: Uint8Array;
  /** 1 - (bits corrected / template bits): how close the face was. */
  readonly score: number;
}

/** Reproduces the face secret from a fresh embedding, or undefined for no match. */
export async function matchTemplate(template: ProtectedTemplate, embedding: Float32Array, cohortMean?: Float32Array): Promise<TemplateMatch | undefined> {
  const bits = freshBits(template, embedding, cohortMean);
  try {
    const r = await reproduce(template.commitment, bits);
    if (!r) return undefined;
    return { secret: r.secret, score: 1 - r.corrected / bits.length };
  } finally {
    bits.fill(0);
  }
}
