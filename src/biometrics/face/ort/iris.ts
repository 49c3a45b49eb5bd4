/**
 * The Iris model's refinement of the eye contours, as Human 3.3.6 does it
 * (src/face/iris.ts of its package): each eye is cut from the mesh crop
 * (a square 2.3 times the corner-to-corner box, 64 px, mirrored left to
 * right), the two crops run as one batch, and the 71 contour points plus
 * 5 iris points each replace the mesh's eye and brow contours; the iris
 * points become mesh points 468-477.
 *
 * Human mirrors both crops but un-mirrors only the first eye's points; this
 * port does the same, so that landmarks, eye openness and the aligned crop
 * (hence the embedding) stay those of the Human pipeline that enrolled
 * existing templates.
 */
import type { Xy } from './blazeface.js';
import { MESH_SIZE } from './mesh.js';
import { cropAndResize } from './pixels.js';

/** Input side of Human's Iris model. */
export const IRIS_SIZE = 64;
/** Values the Iris model outputs per eye: 76 points x 3. */
export const IRIS_OUTPUT = 76 * 3;

/** FaceMesh contours around each eye (Human's `meshAnnotations`): eye 'left' is the one on the image's right. */
const CONTOURS: Record<'left' | 'right', Record<string, readonly number[]>> = {
  left: {
    EyeUpper0: [466, 388, 387, 386, 385, 384, 398],
    EyeLower0: [263, 249, 390, 373, 374, 380, 381, 382, 362],
    EyeUpper1: [467, 260, 259, 257, 258, 286, 414],
    EyeLower1: [359, 255, 339, 254, 253, 252, 256, 341, 463],
    EyeUpper2: [342, 445, 444, 443, 442, 441, 413],
    EyeLower2: [446, 261, 448, 449, 450, 451, 452, 453, 464],
    EyeLower3: [372, 340, 346, 347, 348, 349, 350, 357, 465],
    EyebrowUpper: [383, 300, 293, 334, 296, 336, 285, 417],
    EyebrowLower: [265, 353, 276, 283, 282, 295],
  },
  right: {
    EyeUpper0: [246, 161, 160, 159, 158, 157, 173],
    EyeLower0: [33, 7, 163, 144, 145, 153, 154, 155, 133],
    EyeUpper1: [247, 30, 29, 27, 28, 56, 190],
    EyeLower1: [130, 25, 110, 24, 23, 22, 26, 112, 243],
    EyeUpper2: [113, 225, 224, 223, 222, 221, 189],
    EyeLower2: [226, 31, 228, 229, 230, 231, 232, 233, 244],
    EyeLower3: [143, 111, 117, 118, 119, 120, 121, 128, 245],
    EyebrowUpper: [156, 70, 63, 105, 66, 107, 55, 193],
    EyebrowLower: [35, 124, 46, 53, 52, 65],
  },
};

/** Which of the Iris model's points replace each contour (Human's `irisIndices`). */
const IRIS_INDICES: readonly { key: string; indices: readonly number[] }[] = [
  { key: 'EyeUpper0', indices: [9, 10, 11, 12, 13, 14, 15] },
  { key: 'EyeUpper1', indices: [25, 26, 27, 28, 29, 30, 31] },
  { key: 'EyeUpper2', indices: [41, 42, 43, 44, 45, 46, 47] },
  { key: 'EyeLower0', indices: [0, 1, 2, 3, 4, 5, 6, 7, 8] },
  { key: 'EyeLower1', indices: [16, 17, 18, 19, 20, 21, 22, 23, 24] },
  { key: 'EyeLower2', indices: [32, 33, 34, 35, 36, 37, 38, 39, 40] },
  { key: 'EyeLower3', indices: [54, 55, 56, 57, 58, 59, 60, 61, 62] },
  { key: 'EyebrowUpper', indices: [63, 64, 65, 66, 67, 68, 69, 70] },
  { key: 'EyebrowLower', indices: [48, 49, 50, 51, 52, 53] },
];

/** The square eye box in mesh-crop pixels. */
export interface EyeBox {
  readonly startPoint: Xy;
  readonly endPoint: Xy;
}

function eyeBox(raw: readonly (readonly number[])[], a: number, b: number): EyeBox {
  const p = raw[a] as readonly number[];
  const q = raw[b] as readonly number[];
  const s: Xy = [Math.min(p[0]!, q[0]!), Math.min(p[1]!, q[1]!)];
  const e: Xy = [Math.max(p[0]!, q[0]!), Math.max(p[1]!, q[1]!)];
  // enlargeBox(2.3), then squarifyBox.
  const c: Xy = [s[0] + (e[0] - s[0]) / 2, s[1] + (e[1] - s[1]) / 2];
  const half: Xy = [(2.3 * Math.abs(e[0] - s[0])) / 2, (2.3 * Math.abs(e[1] - s[1])) / 2];
  const es: Xy = [c[0] - half[0], c[1] - half[1]];
  const ee: Xy = [c[0] + half[0], c[1] + half[1]];
  const ec: Xy = [es[0] + (ee[0] - es[0]) / 2, es[1] + (ee[1] - es[1]) / 2];
  const h = Math.max(Math.abs(ee[0] - es[0]), Math.abs(ee[1] - es[1])) / 2;
  return { startPoint: [Math.round(ec[0] - h), Math.round(ec[1] - h)], endPoint: [Math.round(ec[0] + h), Math.round(ec[1] + h)] };
}

/**
 * Cuts both eyes from the mesh crop (192 x 192 x 3, 0..1) into `out`
 * (2 x 64 x 64 x 3): first the eye on the image's right, then the other.
 */
export function cutEyes(raw: readonly (readonly number[])[], meshCrop: Float32Array, out: Float32Array): [EyeBox, EyeBox] {
  const src = { width: MESH_SIZE, height: MESH_SIZE, data: meshCrop };
  const boxes: [EyeBox, EyeBox] = [eyeBox(raw, 263, 362), eyeBox(raw, 33, 133)];
  boxes.forEach((b, k) => {
    const norm = [b.startPoint[1] / MESH_SIZE, b.startPoint[0] / MESH_SIZE, b.endPoint[1] / MESH_SIZE, b.endPoint[0] / MESH_SIZE] as const;
    cropAndResize(src, norm, IRIS_SIZE, out, { flip: true, outOffset: k * IRIS_SIZE * IRIS_SIZE * 3 });
  });
  return boxes;
}

function eyePoints(data: Float32Array, offset: number, box: EyeBox, flip: boolean): [number, number, number][] {
  const w = Math.abs(box.endPoint[0] - box.startPoint[0]);
  const h = Math.abs(box.endPoint[1] - box.startPoint[1]);
  const out: [number, number, number][] = [];
  for (let i = 0; i < 76; i++) {
    const x = data[offset + 3 * i] as number;
    const y = data[offset + 3 * i + 1] as number;
    const z = data[offset + 3 * i + 2] as number;
    out.push([(flip ? 1 - x / IRIS_SIZE : x / IRIS_SIZE) * w + box.startPoint[0], (y / IRIS_SIZE) * h + box.startPoint[1], z]);
  }
  return out;
}

function replace(raw: number[][], points: readonly (readonly number[])[], side: 'left' | 'right', keys: readonly string[] | null): void {
  for (const { key, indices } of IRIS_INDICES) {
    if (keys && !keys.includes(key)) continue;
    const target = CONTOURS[side][key] as readonly number[];
    indices.forEach((index, j) => {
      const t = target[j] as number;
      const p = points[index] as readonly number[];
      raw[t] = [p[0]!, p[1]!, (p[2]! + raw[t]![2]!) / 2];
    });
  }
}

function irisWithDepth(raw: readonly (readonly number[])[], iris: readonly (readonly number[])[], side: 'left' | 'right'): number[][] {
  const upper = raw[CONTOURS[side]['EyeUpper0']![3]!]![2]!;
  const lower = raw[CONTOURS[side]['EyeLower0']![4]!]![2]!;
  const mean = (upper + lower) / 2;
  return iris.map((p, i) => [p[0]!, p[1]!, i === 2 ? upper : i === 4 ? lower : mean]);
}

/**
 * The 468 mesh points (crop coordinates) refined by the Iris model's output
 * for the two eyes cut by {@link cutEyes}; returns 478 points.
 */
export function refineEyes(raw468: readonly (readonly number[])[], output: Float32Array, boxes: readonly [EyeBox, EyeBox]): number[][] {
  const raw = raw468.map((p) => [...p]);
  const left = eyePoints(output, 0, boxes[0], true);
  const right = eyePoints(output, IRIS_OUTPUT, boxes[1], false);
  const depth = raw[263]![2]! - raw[33]![2]!;
  if (Math.abs(depth) < 30) {
    replace(raw, left, 'left', null);
    replace(raw, right, 'right', null);
  } else if (depth < 1) {
    replace(raw, left, 'left', ['EyeUpper0', 'EyeLower0']);
  } else {
    replace(raw, right, 'right', ['EyeUpper0', 'EyeLower0']);
  }
  return raw.concat(irisWithDepth(raw, left.slice(71), 'left'), irisWithDepth(raw, right.slice(71), 'right'));
}
