/**
 * BlazeFace's decoding as Human 3.3.6 does it (src/face/blazeface.ts and
 * facemeshutil.ts of its package), on plain arrays: the 896 anchors of the
 * 256-px model (16x16 cells x 2 and 8x8 cells x 6), box and keypoint
 * offsets relative to them, sigmoid scores, greedy non-maximum suppression
 * (tfjs `nonMaxSuppression` rules), then the box scaled to the image,
 * enlarged 1.4x and made square (rounded to whole pixels).
 */

/** A point in pixels. */
export type Xy = [x: number, y: number];

/** A detected face box, Human's `DetectBox`: square, in image pixels. */
export interface DetectBox {
  readonly startPoint: Xy;
  readonly endPoint: Xy;
  /** The six BlazeFace keypoints (eyes, nose, mouth, ears), image pixels. */
  readonly landmarks: readonly Xy[];
  /** Sigmoid score, 0..1. */
  readonly confidence: number;
  /** Width and height of the enlarged box before it was made square, rounded. */
  readonly size: Xy;
}

/** Input side of Human's BlazeFace model. */
export const BLAZEFACE_SIZE = 256;

/** Human's detector settings for the face engine (config.face.detector). */
export interface DetectorSettings {
  readonly maxDetected: number;
  readonly minConfidence: number;
  /** Human's default 0.1. */
  readonly iouThreshold: number;
  /** Box enlargement, Human's default 1.4. */
  readonly scale: number;
}

/** Anchor centres, 256-px input: stride 16 (2 per cell) then stride 32 (6 per cell). */
export function blazefaceAnchors(inputSize = BLAZEFACE_SIZE): Float32Array {
  const specs = [
    { stride: inputSize / 16, count: 2 },
    { stride: inputSize / 8, count: 6 },
  ];
  const out: number[] = [];
  for (const { stride, count } of specs) {
    const cells = Math.floor((inputSize + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < count; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * Greedy non-maximum suppression with tfjs's rules: candidates scoring above
 * `minScore`, best first; a box is dropped when its intersection over union
 * with a kept one exceeds `iou`. Boxes are [x1, y1, x2, y2] quadruples.
 */
export function nonMaxSuppression(boxes: Float32Array, scores: Float32Array, maxOut: number, iou: number, minScore: number): number[] {
  const order = [];
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > minScore) order.push(i);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const kept: number[] = [];
  const overlap = (i: number, j: number): number => {
    const [ax1, ay1, ax2, ay2] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]] as number[] as [number, number, number, number];
    const [bx1, by1, bx2, by2] = [boxes[4 * j], boxes[4 * j + 1], boxes[4 * j + 2], boxes[4 * j + 3]] as number[] as [number, number, number, number];
    const areaA = (Math.max(ay1, ay2) - Math.min(ay1, ay2)) * (Math.max(ax1, ax2) - Math.min(ax1, ax2));
    const areaB = (Math.max(by1, by2) - Math.min(by1, by2)) * (Math.max(bx1, bx2) - Math.min(bx1, bx2));
    if (areaA <= 0 || areaB <= 0) return 0;
    const iy1 = Math.max(Math.min(ay1, ay2), Math.min(by1, by2));
    const ix1 = Math.max(Math.min(ax1, ax2), Math.min(bx1, bx2));
    const iy2 = Math.min(Math.max(ay1, ay2), Math.max(by1, by2));
    const ix2 = Math.min(Math.max(ax1, ax2), Math.max(bx1, bx2));
    const inter = Math.max(iy2 - iy1, 0) * Math.max(ix2 - ix1, 0);
    return inter / (areaA + areaB - inter);
  };
  for (const i of order) {
    if (kept.length >= maxOut) break;
    if (kept.every((k) => overlap(i, k) <= iou)) kept.push(i);
  }
  return kept;
}

const center = (s: Xy, e: Xy): Xy => [s[0] + (e[0] - s[0]) / 2, s[1] + (e[1] - s[1]) / 2];

/**
 * Faces from BlazeFace's raw outputs: `scores` (one logit per anchor) and
 * `regressors` (16 per anchor: box centre offset, box size, 6 keypoint
 * offsets, in 256-px units), for an image of `width` x `height`.
 */
export function decodeBlazeface(scoresRaw: Float32Array, regressors: Float32Array, anchors: Float32Array, width: number, height: number, settings: DetectorSettings, inputSize = BLAZEFACE_SIZE): DetectBox[] {
  const n = scoresRaw.length;
  const scores = new Float32Array(n);
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    scores[i] = 1 / (1 + Math.exp(-(scoresRaw[i] as number)));
    const r = 16 * i;
    const cx = (regressors[r] as number) + (anchors[2 * i] as number);
    const cy = (regressors[r + 1] as number) + (anchors[2 * i + 1] as number);
    const hw = (regressors[r + 2] as number) / 2;
    const hh = (regressors[r + 3] as number) / 2;
    boxes[4 * i] = cx - hw;
    boxes[4 * i + 1] = cy - hh;
    boxes[4 * i + 2] = cx + hw;
    boxes[4 * i + 3] = cy + hh;
  }
  const fx = width / inputSize;
  const fy = height / inputSize;
  const out: DetectBox[] = [];
  for (const i of nonMaxSuppression(boxes, scores, settings.maxDetected, settings.iouThreshold, settings.minConfidence)) {
    const confidence = scores[i] as number;
    if (!(confidence > settings.minConfidence)) continue;
    const start: Xy = [(boxes[4 * i] as number) * fx, (boxes[4 * i + 1] as number) * fy];
    const end: Xy = [(boxes[4 * i + 2] as number) * fx, (boxes[4 * i + 3] as number) * fy];
    const landmarks: Xy[] = [];
    for (let k = 0; k < 6; k++) {
      landmarks.push([((regressors[16 * i + 4 + 2 * k] as number) + (anchors[2 * i] as number)) * fx, ((regressors[16 * i + 5 + 2 * k] as number) + (anchors[2 * i + 1] as number)) * fy]);
    }
    // enlargeBox, then squarifyBox (facemeshutil.ts).
    const c = center(start, end);
    const size: Xy = [Math.abs(end[0] - start[0]), Math.abs(end[1] - start[1])];
    const half: Xy = [(settings.scale * size[0]) / 2, (settings.scale * size[1]) / 2];
    const es: Xy = [c[0] - half[0], c[1] - half[1]];
    const ee: Xy = [c[0] + half[0], c[1] + half[1]];
    const ec = center(es, ee);
    const esize: Xy = [Math.abs(ee[0] - es[0]), Math.abs(ee[1] - es[1])];
    const sq = Math.max(...esize) / 2;
    const box: DetectBox = {
      startPoint: [Math.round(ec[0] - sq), Math.round(ec[1] - sq)],
      endPoint: [Math.round(ec[0] + sq), Math.round(ec[1] + sq)],
      landmarks,
      confidence,
      size: [Math.round(esize[0]), Math.round(esize[1])],
    };
    if (box.size[0] > 0 && box.size[1] > 0) out.push(box);
  }
  return out;
}
