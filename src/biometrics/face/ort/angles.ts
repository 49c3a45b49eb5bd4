/**
 * Head pose from the face mesh as Human 3.3.6 computes it
 * (`calculateFaceAngle` in src/face/angles.ts of its package): axes from the
 * forehead-to-chin and cheek-to-cheek mesh points, made orthogonal, read as
 * Euler angles (YZX). Radians, Human's signs.
 */

type Vec = [number, number, number];

const normalize = (v: Vec): Vec => {
  const l = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return [v[0] / l, v[1] / l, v[2] / l];
};
const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec, b: Vec): Vec => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** Human's head angles, radians. */
export interface MeshAngles {
  readonly pitch: number;
  readonly yaw: number;
  readonly roll: number;
}

/**
 * Angles of a face from its mesh in image pixels (`mesh`, z in mesh-crop
 * units), its unclamped box as fractions of the image (`boxRaw`), and the
 * image size; `meshSize` is the mesh model's input side (Human divides z
 * by it).
 */
export function meshAngles(mesh: readonly (readonly number[])[], boxRaw: readonly number[], width: number, height: number, meshSize: number): MeshAngles {
  if (mesh.length < 300) return { pitch: 0, yaw: 0, roll: 0 };
  const size = Math.max(boxRaw[2]! * width, boxRaw[3]! * height) / 1.5;
  // meshRaw = mesh / [width, height, meshSize]; then x, y scaled by the image size over `size`.
  const pt = (i: number): Vec => {
    const p = mesh[i]!;
    return [((p[0]! / width) * width) / size, ((p[1]! / height) * height) / size, (p[2] ?? 0) / meshSize];
  };
  const yAxis = normalize(sub(pt(152), pt(10)));
  let xAxis = normalize(sub(pt(454), pt(234)));
  const zAxis = normalize(cross(xAxis, yAxis));
  xAxis = cross(yAxis, zAxis);
  const [r00, , , r10, r11, r12, r20, r21, r22] = [...xAxis, ...yAxis, ...zAxis] as number[] as [number, number, number, number, number, number, number, number, number];
  let x: number;
  let y: number;
  let z: number;
  if (r10 < 1) {
    if (r10 > -1) {
      z = Math.atan2(r10, Math.sqrt(r00 * r00 + r20 * r20));
      y = Math.atan2(-r20, r00);
      x = Math.atan2(-r12, r11);
    } else {
      z = -Math.PI / 2;
      y = -Math.atan2(r21, r22);
      x = 0;
    }
  } else {
    z = Math.PI / 2;
    y = Math.atan2(r21, r22);
    x = 0;
  }
  const fin = (v: number): number => (Number.isNaN(v) ? 0 : v);
  return { pitch: -fin(x), yaw: -fin(y), roll: -fin(z) };
}
