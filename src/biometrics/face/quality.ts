/**
 * Capture quality of a detected face, and the gates that refuse a face too
 * poor to enrol or verify with a specific, fixable reason (ISO/IEC 29794-5
 * names the same families of measures: size, illumination, sharpness, pose).
 */
import { FaceQualityError } from './errors.js';
import type { FaceLandmarks } from './embedder.js';
import { greyCrop, type Box, type DecodedImage } from './image.js';

/** Measured capture quality of one face. */
export interface FaceQuality {
  /** Shorter side of the face box, in pixels of the analysed image. */
  readonly faceSizePx: number;
  /** Distance between the eye centres, in pixels (0 when unknown). */
  readonly interEyePx: number;
  /** Mean luma of the inner face region, 0..255. */
  readonly brightness: number;
  /** Standard deviation of luma over the inner face region, 0..255. */
  readonly contrast: number;
  /**
   * Variance of the 3x3 Laplacian over the inner face region resampled to
   * {@link SHARPNESS_GRID} x {@link SHARPNESS_GRID} pixels (luma 0..255), so
   * the figure does not depend on how large the face is in the image.
   */
  readonly sharpness: number;
  /** Head pose, degrees: yaw (left/right), pitch (up/down), roll (in-plane tilt). */
  readonly yawDeg: number;
  readonly pitchDeg: number;
  readonly rollDeg: number;
  /** Detector confidence, 0..1. */
  readonly detectionScore: number;
}

/** Side of the square grid sharpness is measured on. */
export const SHARPNESS_GRID = 96;

/**
 * The inner face region from the 5 landmarks: a square centred between the
 * eyes' midpoint and the mouth's midpoint, 1.6 times the larger of the
 * inter-eye and eye-to-mouth distances. It holds eyes, brows, nose and mouth
 * and little hair or background, and it is the same region whichever
 * detector drew the face box (their boxes differ by 50%).
 */
export function innerFaceBox(five: FaceLandmarks['five']): Box {
  const [eyeL, eyeR, , mouthL, mouthR] = five;
  const eye = [(eyeL[0] + eyeR[0]) / 2, (eyeL[1] + eyeR[1]) / 2] as const;
  const mouth = [(mouthL[0] + mouthR[0]) / 2, (mouthL[1] + mouthR[1]) / 2] as const;
  const side = 1.6 * Math.max(Math.hypot(eyeR[0] - eyeL[0], eyeR[1] - eyeL[1]), Math.hypot(mouth[0] - eye[0], mouth[1] - eye[1]), 1);
  const cx = (eye[0] + mouth[0]) / 2;
  const cy = (eye[1] + mouth[1]) / 2;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

/**
 * Brightness, contrast and sharpness of the inner face region
 * ({@link innerFaceBox}).
 */
export function measurePixelQuality(image: DecodedImage, five: FaceLandmarks['five']): { brightness: number; contrast: number; sharpness: number } {
  const inner = innerFaceBox(five);
  const n = SHARPNESS_GRID;
  const g = greyCrop(image, inner, n);
  let sum = 0;
  for (const v of g) sum += v;
  const mean = sum / g.length;
  let ss = 0;
  for (const v of g) ss += (v - mean) * (v - mean);
  const contrast = Math.sqrt(ss / g.length);
  // Variance of the Laplacian (Pech-Pacheco et al., ICPR 2000), 4-neighbour kernel.
  let ls = 0;
  let ls2 = 0;
  let count = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const c = g[y * n + x] as number;
      const l = (g[(y - 1) * n + x] as number) + (g[(y + 1) * n + x] as number) + (g[y * n + x - 1] as number) + (g[y * n + x + 1] as number) - 4 * c;
      ls += l;
      ls2 += l * l;
      count++;
    }
  }
  const lm = ls / count;
  const sharpness = ls2 / count - lm * lm;
  return { brightness: mean, contrast, sharpness };
}

/** Limits a face must meet. Each may be set to disable it (0 for minimums, Infinity for maximums). */
export interface QualityGates {
  /**
   * Minimum distance between the eye centres, pixels. Default 24 (ORL's
   * 92x112 faces have 25-40). The face box is not gated: detectors draw boxes
   * of very different sizes around the same face.
   */
  minInterEyePx?: number;
  /** Minimum mean luma of the face, 0..255. Default 40. */
  minBrightness?: number;
  /** Maximum mean luma of the face, 0..255. Default 225. */
  maxBrightness?: number;
  /** Minimum luma standard deviation of the face, 0..255. Default 12. */
  minContrast?: number;
  /**
   * Minimum variance of the Laplacian, see {@link FaceQuality.sharpness}.
   * Default 8: it refuses about 1% of LFW's (JPEG-softened) faces and none of
   * ORL's, and 95-100% of the same faces after a Gaussian blur of sigma 2 px.
   */
  minSharpness?: number;
  /** Largest |yaw|, degrees. Default 30. */
  maxYawDeg?: number;
  /** Largest |pitch|, degrees. Default 25. */
  maxPitchDeg?: number;
  /** Largest |roll|, degrees. Default 40 (roll is corrected by alignment, within reason). */
  maxRollDeg?: number;
  /** Minimum detector confidence. Default 0.5. */
  minDetectionScore?: number;
}

/**
 * The default {@link QualityGates}, chosen from the measured distributions on
 * ORL and LFW (scripts/face-quality-calib.mjs; README.md in this folder): on
 * those datasets they refuse about 2% of LFW faces (blur, pose) and none of ORL's.
 */
export const DEFAULT_QUALITY_GATES: Readonly<Required<QualityGates>> = Object.freeze({
  minInterEyePx: 24,
  minBrightness: 40,
  maxBrightness: 225,
  minContrast: 12,
  minSharpness: 8,
  maxYawDeg: 30,
  maxPitchDeg: 25,
  maxRollDeg: 40,
  minDetectionScore: 0.5,
});

/**
 * Every gate the face fails, in the order a person should fix them
 * (confidence, size, light, focus, pose). Empty when the face passes.
 */
export function qualityProblems(q: FaceQuality, gates?: QualityGates): FaceQualityError[] {
  const g = { ...DEFAULT_QUALITY_GATES, ...(gates ?? {}) };
  const out: FaceQualityError[] = [];
  const r = (v: number): string => (Math.round(v * 10) / 10).toString();
  if (q.detectionScore < g.minDetectionScore) out.push(new FaceQualityError('low-confidence', q.detectionScore, g.minDetectionScore, `the face was detected with low confidence (${r(q.detectionScore)} < ${g.minDetectionScore})`));
  if (q.interEyePx < g.minInterEyePx) out.push(new FaceQualityError('too-small', q.interEyePx, g.minInterEyePx, `the face is too small (${Math.round(q.interEyePx)} px between the eyes < ${g.minInterEyePx}): move closer to the camera`));
  if (q.brightness < g.minBrightness) out.push(new FaceQualityError('too-dark', q.brightness, g.minBrightness, `the face is too dark (brightness ${r(q.brightness)} < ${g.minBrightness}): add light`));
  if (q.brightness > g.maxBrightness) out.push(new FaceQualityError('too-bright', q.brightness, g.maxBrightness, `the face is overexposed (brightness ${r(q.brightness)} > ${g.maxBrightness})`));
  if (q.contrast < g.minContrast) out.push(new FaceQualityError('low-contrast', q.contrast, g.minContrast, `the face has too little contrast (${r(q.contrast)} < ${g.minContrast})`));
  if (q.sharpness < g.minSharpness) out.push(new FaceQualityError('blurred', q.sharpness, g.minSharpness, `the face is blurred (sharpness ${r(q.sharpness)} < ${g.minSharpness}): hold still, clean the lens`));
  const pose: [number, number, string][] = [
    [q.yawDeg, g.maxYawDeg, 'turned sideways'],
    [q.pitchDeg, g.maxPitchDeg, 'tilted up or down'],
    [q.rollDeg, g.maxRollDeg, 'tilted sideways'],
  ];
  for (const [v, max, what] of pose) {
    if (Math.abs(v) > max) out.push(new FaceQualityError('turned-away', Math.abs(v), max, `the head is ${what} (${r(Math.abs(v))} degrees > ${max}): look straight at the camera`));
  }
  return out;
}

/**
 * Throws the first quality problem of a face, if any.
 *
 * @throws {FaceQualityError} with `reason` `low-confidence`, `too-small`,
 *   `too-dark`, `too-bright`, `low-contrast`, `blurred` or `turned-away`
 * @example
 * const face = await embedder.analyze(img);
 * checkFaceQuality(face.quality); // before enrolling face.embedding
 */
export function checkFaceQuality(q: FaceQuality, gates?: QualityGates): void {
  const [first] = qualityProblems(q, gates);
  if (first) throw first;
}
