/**
 * FaceMesh's geometry as Human 3.3.6 does it (src/face/facemeshutil.ts and
 * facemesh.ts of its package): the face crop fed to the mesh model (rotated
 * upright by the angle of BlazeFace's mouth-to-nose line when it exceeds
 * 0.2 rad), the mesh's 192-px crop coordinates mapped back to the image
 * (whole pixels, truncated, as Human returns them), and the face box
 * re-centred on the mesh.
 */
import type { DetectBox, Xy } from './blazeface.js';
import { cropAndResize, type Pixels, type Rotation } from './pixels.js';

/** Input side of Human's FaceMesh model. */
export const MESH_SIZE = 192;

/** A 3x3 affine matrix, rows. */
export type Matrix = readonly (readonly [number, number, number])[];

const IDENTITY: Matrix = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** Human rotates the face upright only above this angle, radians. */
const MIN_ROTATION = 0.2;

const boxSize = (b: { startPoint: Xy; endPoint: Xy }): Xy => [Math.abs(b.endPoint[0] - b.startPoint[0]), Math.abs(b.endPoint[1] - b.startPoint[1])];
const boxCenter = (b: { startPoint: Xy; endPoint: Xy }): Xy => [b.startPoint[0] + (b.endPoint[0] - b.startPoint[0]) / 2, b.startPoint[1] + (b.endPoint[1] - b.startPoint[1]) / 2];

function multiply(a: Matrix, b: Matrix): Matrix {
  const at = (m: Matrix, r: number, c: number): number => (m[r] as readonly number[])[c] as number;
  const row = (r: number): [number, number, number] => [0, 1, 2].map((c) => at(a, r, 0) * at(b, 0, c) + at(a, r, 1) * at(b, 1, c) + at(a, r, 2) * at(b, 2, c)) as [number, number, number];
  return [row(0), row(1), row(2)];
}

function rotationAbout(radians: number, c: Xy): Matrix {
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  const t: Matrix = [
    [1, 0, c[0]],
    [0, 1, c[1]],
    [0, 0, 1],
  ];
  const r: Matrix = [
    [cos, -sin, 0],
    [sin, cos, 0],
    [0, 0, 1],
  ];
  const back: Matrix = [
    [1, 0, -c[0]],
    [0, 1, -c[1]],
    [0, 0, 1],
  ];
  return multiply(multiply(t, r), back);
}

function invert(m: Matrix): Matrix {
  const r0 = [m[0]![0], m[1]![0]] as const;
  const r1 = [m[0]![1], m[1]![1]] as const;
  const t = [m[0]![2], m[1]![2]] as const;
  return [
    [r0[0], r0[1], -(r0[0] * t[0] + r0[1] * t[1])],
    [r1[0], r1[1], -(r1[0] * t[0] + r1[1] * t[1])],
    [0, 0, 1],
  ];
}

/** How a face was cut for the mesh model. */
export interface MeshCrop {
  /** Angle of the mouth-to-nose line, radians (Human's `computeRotation`). */
  readonly angle: number;
  /** Human's rotation matrix (identity unless the crop was rotated). */
  readonly rotationMatrix: Matrix;
}

/**
 * Cuts `box` out of `image` into `out` (192 x 192 x 3, values 0..1), rotated
 * upright about the box centre when the mouth-to-nose line leans more than
 * 0.2 rad (Human's `correctFaceRotation` with rotation on).
 */
export function cutMeshCrop(image: Pixels, box: DetectBox, out: Float32Array): MeshCrop {
  const mouth = box.landmarks[3] as Xy;
  const nose = box.landmarks[2] as Xy;
  const raw = Math.PI / 2 - Math.atan2(-(nose[1] - mouth[1]), nose[0] - mouth[0]);
  const angle = raw - 2 * Math.PI * Math.floor((raw + Math.PI) / (2 * Math.PI));
  const { width: W, height: H } = image;
  const norm = [box.startPoint[1] / H, box.startPoint[0] / W, box.endPoint[1] / H, box.endPoint[0] / W] as const;
  if (Math.abs(angle) > MIN_ROTATION) {
    const c = boxCenter(box);
    const rotation: Rotation = { radians: angle, centerX: W * (c[0] / W), centerY: H * (c[1] / H) };
    cropAndResize(image, norm, MESH_SIZE, out, { scale: 1 / 255, rotation });
    return { angle, rotationMatrix: rotationAbout(-angle, c) };
  }
  cropAndResize(image, norm, MESH_SIZE, out, { scale: 1 / 255 });
  return { angle, rotationMatrix: IDENTITY };
}

/** Mesh points [x, y, z] from crop coordinates to image pixels, truncated to integers (Human's `transformRawCoords`). */
export function meshToImage(raw: readonly (readonly number[])[], box: DetectBox, crop: MeshCrop): [number, number, number][] {
  const size = boxSize(box);
  const large = crop.angle !== 0 && Math.abs(crop.angle) > MIN_ROTATION;
  const rot = large ? rotationAbout(crop.angle, [0, 0]) : IDENTITY;
  const inv = large ? invert(crop.rotationMatrix) : IDENTITY;
  const c = [...boxCenter(box), 1];
  const off = [inv[0]![0] * c[0]! + inv[0]![1] * c[1]! + inv[0]![2] * c[2]!, inv[1]![0] * c[0]! + inv[1]![1] * c[1]! + inv[1]![2] * c[2]!] as const;
  return raw.map((p) => {
    const x = (size[0] / MESH_SIZE) * ((p[0] as number) - MESH_SIZE / 2);
    const y = (size[1] / MESH_SIZE) * ((p[1] as number) - MESH_SIZE / 2);
    const z = p[2] ?? 0;
    const rx = large ? x * rot[0]![0] + y * rot[0]![1] + z * rot[0]![2] : x;
    const ry = large ? x * rot[1]![0] + y * rot[1]![1] + z * rot[1]![2] : y;
    return [Math.trunc(rx + off[0]), Math.trunc(ry + off[1]), Math.trunc(z)];
  });
}

/**
 * The face box Human reports: the detector box's size, centred on the
 * middle of the mesh's extent, clamped to the image and truncated
 * (`calculateFaceBox` + `clampBox`); `raw` is the unclamped box as fractions
 * of the image (`getRawBox`).
 */
export function meshFaceBox(mesh: readonly (readonly number[])[], box: DetectBox, width: number, height: number): { box: [number, number, number, number]; raw: [number, number, number, number] } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of mesh) {
    minX = Math.min(minX, p[0] as number);
    maxX = Math.max(maxX, p[0] as number);
    minY = Math.min(minY, p[1] as number);
    maxY = Math.max(maxY, p[1] as number);
  }
  const cx = minX + (maxX - minX) / 2;
  const cy = minY + (maxY - minY) / 2;
  const size = boxSize(box);
  const s: Xy = [cx - size[0] / 2, cy - size[1] / 2];
  const e: Xy = [cx + size[0] / 2, cy + size[1] / 2];
  return {
    box: [Math.trunc(Math.max(0, s[0])), Math.trunc(Math.max(0, s[1])), Math.trunc(Math.min(width, e[0]) - Math.max(0, s[0])), Math.trunc(Math.min(height, e[1]) - Math.max(0, s[1]))],
    raw: [s[0] / width, s[1] / height, (e[0] - s[0]) / width, (e[1] - s[1]) / height],
  };
}
