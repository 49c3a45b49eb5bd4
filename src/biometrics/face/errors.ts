/**
 * Typed errors of the face engine. Each carries a stable `code` that callers
 * and the CLI can switch on, plus a `reason` that says which check failed.
 *
 * Face errors describe the *capture* ("no face", "too dark"), so a person at
 * the camera can fix it; they never say anything about a match. Whether a
 * face matched is decided elsewhere and reported uniformly.
 */
import { BiosealError } from '../../errors.js';

/** Why an image was refused. */
export type ImageErrorReason =
  /** Larger than the byte or pixel limit; refused before any pixel was decoded. */
  | 'too-large'
  /** A format bioseal does not decode (SVG, HEIF, PDF, ...) or not an image at all. */
  | 'unsupported'
  /** The file ends before the image data does. */
  | 'truncated'
  /** Malformed header or data. */
  | 'corrupt'
  /** Zero bytes, or an image with no pixels. */
  | 'empty';

/**
 * An image could not be used: too large, truncated, corrupt or of an
 * unsupported format (`E_IMAGE`).
 *
 * @example
 * try { await decodeImage(bytes) } catch (e) {
 *   if (e instanceof ImageError && e.reason === 'too-large') ...
 * }
 */
export class ImageError extends BiosealError {
  readonly reason: ImageErrorReason;
  constructor(reason: ImageErrorReason, message: string, options?: { cause?: unknown }) {
    super('E_IMAGE', message, options);
    this.reason = reason;
  }
}

/** No face was found in the image (`E_FACE_NOT_FOUND`). */
export class FaceNotFoundError extends BiosealError {
  constructor(message = 'no face found in the image', options?: { cause?: unknown }) {
    super('E_FACE_NOT_FOUND', message, options);
  }
}

/**
 * More than one face is in the image (`E_FACE_MULTIPLE`): bioseal will not
 * guess which of them is the person asking.
 */
export class MultipleFacesError extends BiosealError {
  /** How many faces were found. */
  readonly count: number;
  constructor(count: number, message = `${count} faces found in the image; exactly one is needed`) {
    super('E_FACE_MULTIPLE', message);
    this.count = count;
  }
}

/** Which quality gate a face failed. */
export type FaceQualityReason =
  /** The face is smaller than the minimum size in pixels. */
  | 'too-small'
  /** The face region is too dark. */
  | 'too-dark'
  /** The face region is overexposed. */
  | 'too-bright'
  /** The face region has too little contrast (fog, glare, flat lighting). */
  | 'low-contrast'
  /** The face region is out of focus or motion-blurred. */
  | 'blurred'
  /** The head is turned (yaw), tilted up or down (pitch) or rolled too far. */
  | 'turned-away'
  /** The detector and landmark model are not confident this is a face. */
  | 'low-confidence';

/**
 * A face was found but is not good enough to enrol or verify
 * (`E_FACE_QUALITY`). `measured` and `limit` say by how much, in the unit of
 * the gate (pixels, 0..255 luma, Laplacian variance, degrees, 0..1 score).
 */
export class FaceQualityError extends BiosealError {
  readonly reason: FaceQualityReason;
  readonly measured: number;
  readonly limit: number;
  constructor(reason: FaceQualityReason, measured: number, limit: number, message: string) {
    super('E_FACE_QUALITY', message);
    this.reason = reason;
    this.measured = measured;
    this.limit = limit;
  }
}
