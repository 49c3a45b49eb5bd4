/**
 * Face alignment: a similarity transform (rotation, uniform scale,
 * translation) that maps the 5 landmarks onto a canonical template, and the
 * crop it defines. Recognisers compare faces far better when eyes, nose and
 * mouth always land on the same pixels (the InsightFace / ArcFace pipeline
 * aligns this way, to the template below).
 */
import type { FaceLandmarks, Point } from './embedder.js';
import type { DecodedImage } from './image.js';

/**
 * The ArcFace 5-point template for a 112x112 crop (InsightFace
 * `arcface_dst`): eye on the image's left, eye on the right, nose tip, mouth
 * corners left and right.
 */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** How to crop an aligned face. */
export interface AlignSpec {
  /** Side of the square crop, pixels. */
  readonly size: number;
  /**
   * Zoom out from the ArcFace framing: 1 is ArcFace's own tight crop; 1.25
   * shows 25% more around the face (what FaceRes was measured best with).
   */
  readonly zoom: number;
}

/**
 * Least-squares similarity transform taking template points `src` to image
 * points `dst`: x = a u - b v + tx, y = b u + a v + ty (Umeyama without
 * reflection, solved through its normal equations).
 */
export function fitSimilarity(src: readonly Point[], dst: readonly Point[]): [a: number, b: number, tx: number, ty: number] {
  // Closed form: centre both sets, then a,b from the cross-covariances.
  const n = Math.min(src.length, dst.length);
  let su = 0;
  let sv = 0;
  let sx = 0;
  let sy = 0;
  for (let k = 0; k < n; k++) {
    su += (src[k] as Point)[0];
    sv += (src[k] as Point)[1];
    sx += (dst[k] as Point)[0];
    sy += (dst[k] as Point)[1];
  }
  su /= n;
  sv /= n;
  sx /= n;
  sy /= n;
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let k = 0; k < n; k++) {
    const u = (src[k] as Point)[0] - su;
    const v = (src[k] as Point)[1] - sv;
    const x = (dst[k] as Point)[0] - sx;
    const y = (dst[k] as Point)[1] - sy;
    num1 += u * x + v * y;
    num2 += u * y - v * x;
    den += u * u + v * v;
  }
  const a = den > 0 ? num1 / den : 1;
  const b = den > 0 ? num2 / den : 0;
  return [a, b, sx - a * su + b * sv, sy - b * su - a * sv];
}

/** The template of {@link ARCFACE_TEMPLATE_112} scaled to `spec`. */
export function alignTemplate(spec: AlignSpec): Point[] {
  const s = spec.size / 112 / spec.zoom;
  return ARCFACE_TEMPLATE_112.map(([u, v]) => [(u - 56) * s + spec.size / 2, (v - 56) * s + spec.size / 2] as const);
}

/**
 * Cuts the aligned face: `size` x `size` RGB, float 0..255, HWC order,
 * bilinear, pixels beyond the image edge repeat the edge. With `mirror`, the
 * crop is flipped left to right (for flip test-time augmentation).
 */
export function alignFace(image: DecodedImage, five: FaceLandmarks['five'], spec: AlignSpec, mirror = false): Float32Array {
  const [a, b, tx, ty] = fitSimilarity(alignTemplate(spec), five);
  const n = spec.size;
  const out = new Float32Array(n * n * 3);
  const W = image.width;
  const H = image.height;
  const d = image.data;
  for (let v = 0; v < n; v++) {
    for (let u0 = 0; u0 < n; u0++) {
      const u = mirror ? n - 1 - u0 : u0;
      let x = a * u - b * v + tx;
      let y = b * u + a * v + ty;
      x = Math.min(W - 1, Math.max(0, x));
      y = Math.min(H - 1, Math.max(0, y));
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const x1 = Math.min(W - 1, x0 + 1);
      const y1 = Math.min(H - 1, y0 + 1);
      const fx = x - x0;
      const fy = y - y0;
      const i00 = (y0 * W + x0) * 3;
      const i01 = (y0 * W + x1) * 3;
      const i10 = (y1 * W + x0) * 3;
      const i11 = (y1 * W + x1) * 3;
      const o = (v * n + u0) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (d[i00 + c] as number) * (1 - fx) + (d[i01 + c] as number) * fx;
        const bot = (d[i10 + c] as number) * (1 - fx) + (d[i11 + c] as number) * fx;
        out[o + c] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}
