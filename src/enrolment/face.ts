/**
 * Enrolling a face and verifying one against an enrolment, over face
 * analyses (from src/biometrics/face). Quality and passive liveness are
 * checked on every image; enrolment images must agree with one another.
 */
import type { FaceAnalysis } from '../biometrics/face/embedder.js';
import { checkFaceQuality } from '../biometrics/face/quality.js';
import { cosineSimilarity, centreEmbedding } from '../biometrics/face/similarity.js';
import { checkPassiveLiveness, type PassiveResult, type PassiveThresholds, DEFAULT_PASSIVE_THRESHOLDS } from '../biometrics/liveness/passive.js';
import { enrolTemplate, matchTemplate, type TemplateParams } from '../biometrics/template/protected-template.js';
import { cohortFor } from '../biometrics/template/cohort.js';
import { newFaceEnrolment, saveFaceEnrolment, verifyFaceEnrolment, type FaceEnrolment } from './face-record.js';
import { BiosealError, UsageError } from '../errors.js';
import { wipe } from '../util/bytes.js';

/** Code and projection sizes for the face template; see docs/FACE.md for how they were measured. */
export const FACE_TEMPLATE_PARAMS: TemplateParams = {
  m: 8,
  t: 35,
  blocks: 2,
  kdfMemoryKiB: 32 * 1024,
  kdfPasses: 2,
  projectedOutputs: 2048,
};

/**
 * Minimum similarity between any two enrolment images: about the score that
 * strangers exceed once in a thousand (measured on ORL: 0.45 against an
 * enrolment mean at FMR 1e-3, pairs of single images run a little lower).
 * Cohort-centred cosine; raw cosine where no cohort mean ships for the model.
 */
export const ENROL_CONSISTENCY = 0.4;
export const ENROL_CONSISTENCY_RAW = 0.63;
export const MIN_ENROL_IMAGES = 3;
export const MAX_ENROL_IMAGES = 32;

/** Enrolment refused: too few images, or images that do not agree. */
export class EnrolmentError extends BiosealError {
  constructor(message: string) {
    super('E_ENROLMENT', message);
  }
}

export interface EnrolFaceOptions {
  readonly home: string;
  readonly name: string;
  /** One analysis per enrolment image, with a label (file name) for messages. */
  readonly samples: readonly { readonly label: string; readonly analysis: FaceAnalysis }[];
  readonly overwrite?: boolean;
  readonly passive?: PassiveThresholds;
  readonly params?: TemplateParams;
}

export interface EnrolFaceResult {
  readonly enrolment: FaceEnrolment;
  readonly file: string;
  /** Lowest pairwise similarity among the enrolment images. */
  readonly consistency: number;
  readonly unanimousBits: number;
}

/**
 * Enrols a face from several images of one person and stores only the
 * protected template.
 * @throws EnrolmentError, FaceQualityError, ExistsError
 */
export async function enrolFace(o: EnrolFaceOptions): Promise<EnrolFaceResult> {
  if (o.samples.length < MIN_ENROL_IMAGES) throw new EnrolmentError(`enrolment needs at least ${MIN_ENROL_IMAGES} images of the face, got ${o.samples.length}`);
  if (o.samples.length > MAX_ENROL_IMAGES) throw new EnrolmentError(`enrolment takes at most ${MAX_ENROL_IMAGES} images`);
  const embedder = o.samples[0]!.analysis.embedder;
  if (o.samples.some((s) => s.analysis.embedder !== embedder)) throw new UsageError('all enrolment images must be analysed by the same face model');
  for (const s of o.samples) {
    try {
      checkFaceQuality(s.analysis.quality);
    } catch (error) {
      // Name the image in the message; keep the error's type and code.
      if (error instanceof BiosealError) error.message = `${s.label}: ${error.message}`;
      throw error;
    }
    const live = checkPassiveLiveness([s.analysis], o.passive ?? DEFAULT_PASSIVE_THRESHOLDS);
    if (!live.passed) throw new EnrolmentError(`${s.label}: ${live.reason}`);
  }
  const cohort = cohortFor(embedder);
  const centred = o.samples.map((s) => (cohort ? centreEmbedding(s.analysis.embedding, cohort.mean) : s.analysis.embedding));
  let consistency = 1;
  for (let i = 0; i < centred.length; i++) {
    for (let j = i + 1; j < centred.length; j++) {
      const c = cosineSimilarity(centred[i]!, centred[j]!);
      if (c < (cohort ? ENROL_CONSISTENCY : ENROL_CONSISTENCY_RAW)) {
        throw new EnrolmentError(`${o.samples[i]!.label} and ${o.samples[j]!.label} do not look like the same person (similarity ${c.toFixed(2)}); use clear images of one face`);
      }
      consistency = Math.min(consistency, c);
    }
  }
  const { template, secret, unanimousBits } = await enrolTemplate(
    o.samples.map((s) => s.analysis.embedding),
    { embedder, cohortMean: cohort?.mean, params: o.params ?? FACE_TEMPLATE_PARAMS },
  );
  try {
    const enrolment = newFaceEnrolment(o.name, cohort?.id ?? 'none', template, secret);
    const file = await saveFaceEnrolment(o.home, enrolment, { overwrite: o.overwrite });
    return { enrolment, file, consistency, unanimousBits };
  } finally {
    wipe(secret);
  }
}

export interface FaceVerification {
  readonly match: boolean;
  /** 1 - corrected/template bits of the best matching frame, or 0 when none matched. */
  readonly score: number;
  readonly liveness: PassiveResult;
  /** The face secret when matched and live (the caller wipes it). */
  readonly secret?: Uint8Array;
  readonly reason: string;
}

/**
 * Verifies presented face analyses against an enrolment: passive liveness on
 * every frame, then the protected template. Does not rate-limit (the factor does).
 * @throws TamperedError when the face matches but the record was modified.
 */
export async function verifyFace(enrolment: FaceEnrolment, frames: readonly FaceAnalysis[], passive: PassiveThresholds = DEFAULT_PASSIVE_THRESHOLDS): Promise<FaceVerification> {
  const liveness = checkPassiveLiveness(frames, passive);
  if (frames.some((f) => f.embedder !== enrolment.template.embedder || f.embedding.length !== enrolment.template.dimensions)) {
    return { match: false, score: 0, liveness, reason: `the enrolment was made with ${enrolment.template.embedder}, not this face model` };
  }
  const cohort = cohortFor(enrolment.template.embedder);
  if ((cohort?.id ?? 'none') !== enrolment.cohort) {
    return { match: false, score: 0, liveness, reason: 'the enrolment was made with another cohort; re-enrol' };
  }
  if (!liveness.passed) return { match: false, score: 0, liveness, reason: liveness.reason };
  for (const f of frames) {
    const m = await matchTemplate(enrolment.template, f.embedding, cohort?.mean);
    if (m) {
      try {
        verifyFaceEnrolment(enrolment, m.secret);
      } catch (error) {
        wipe(m.secret);
        throw error;
      }
      return { match: true, score: m.score, liveness, secret: m.secret, reason: 'the face matches the enrolment' };
    }
  }
  return { match: false, score: 0, liveness, reason: 'the face does not match the enrolment' };
}
