/**
 * Synthetic faces for the enrolment, factor and template tests: no images,
 * no face model, no dataset. A "person" is a random 1024-d base embedding
 * (Human FaceRes' size); a "capture" is that base plus small Gaussian noise
 * (cosine about 0.95 to the base, like two photos of one person); a stranger
 * is an independent base. Analyses carry plausible quality and liveness
 * fields (see src/biometrics/face/embedder.ts and quality.ts) that pass the
 * default gates unless a test overrides them.
 */
import type { FaceAnalysis } from '../../src/biometrics/face/embedder.js';
import type { FaceQuality } from '../../src/biometrics/face/quality.js';
import type { TemplateParams } from '../../src/biometrics/template/protected-template.js';
import { FACE_TEMPLATE_PARAMS } from '../../src/enrolment/face.js';
import { Rng } from '../biometrics/template/random.js';

/** Embedder name with no shipped cohort mean, so nothing is centred behind the test's back. */
export const SYNTHETIC_EMBEDDER = 'synthetic-test-embedder';
export const DIMENSIONS = 1024;

/** The default face code with a cheap Argon2id (64 KiB, 1 pass): same code, fast tests. */
export const CHEAP_PARAMS: TemplateParams = { ...FACE_TEMPLATE_PARAMS, kdfMemoryKiB: 64, kdfPasses: 1 };

export const GOOD_QUALITY: FaceQuality = {
  faceSizePx: 220,
  interEyePx: 80,
  brightness: 120,
  contrast: 45,
  sharpness: 60,
  yawDeg: 2,
  pitchDeg: -3,
  rollDeg: 1,
  detectionScore: 0.97,
};

/** A face analysis around an embedding, with good quality and liveness unless overridden. */
export function analysis(embedding: Float32Array, overrides: Partial<Omit<FaceAnalysis, 'quality'>> & { quality?: Partial<FaceQuality> } = {}): FaceAnalysis {
  const { quality, ...rest } = overrides;
  return {
    embedder: SYNTHETIC_EMBEDDER,
    box: { x: 210, y: 130, width: 220, height: 220 },
    landmarks: {
      five: [
        [280, 210],
        [360, 210],
        [320, 260],
        [290, 300],
        [350, 300],
      ],
      all: [],
    },
    pose: { yaw: 2, pitch: -3, roll: 1 },
    eyes: { left: 0.3, right: 0.31 },
    detectionScore: 0.97,
    embedding,
    antispoof: 0.85,
    liveness: 0.9,
    quality: { ...GOOD_QUALITY, ...(quality ?? {}) },
    faceCount: 1,
    elapsedMs: 12,
    ...rest,
  };
}

/** A synthetic person: captures are the base embedding plus noise. */
export class Person {
  readonly base: Float32Array;
  private readonly rng: Rng;

  /**
   * @param shared a component every person's base contains (weight x vector):
   *   real embedders share one (FaceRes' outputs are never negative), which
   *   makes strangers' raw cosine similarity well above 0.
   */
  constructor(seed: number, readonly noise = 0.3, shared?: { vector: Float32Array; weight: number }) {
    this.rng = new Rng(seed);
    this.base = this.rng.vector(DIMENSIONS);
    if (shared) for (let i = 0; i < DIMENSIONS; i++) this.base[i]! += shared.weight * shared.vector[i]!;
  }

  /** A fresh embedding of this person (cosine about 1/sqrt(1 + noise^2) to the base). */
  embedding(noise = this.noise): Float32Array {
    return Float32Array.from(this.base, (v) => v + noise * this.rng.gaussian());
  }

  /** A fresh capture, as a face analysis. */
  capture(overrides: Parameters<typeof analysis>[1] = {}): FaceAnalysis {
    return analysis(this.embedding(), overrides);
  }

  /** Enrolment samples labelled like image files. */
  samples(count = 5, overrides: Parameters<typeof analysis>[1] = {}): { label: string; analysis: FaceAnalysis }[] {
    return Array.from({ length: count }, (_, i) => ({ label: `img${i + 1}.jpg`, analysis: this.capture(overrides) }));
  }
}

/**
 * A common component for {@link Person}: with weight 0.9 two strangers' raw
 * cosine is about 0.45, and two captures of one person about 0.95, as
 * measured between different people's uncentred FaceRes embeddings on
 * face-api's demo photos (0.41) and between crops of one photo (0.98).
 */
export const FACERES_LIKE = { vector: new Rng(99).vector(DIMENSIONS), weight: 0.9 };
