/**
 * The image operations Human's face pipeline runs on tfjs, reimplemented on
 * plain typed arrays with the tfjs kernels' exact sampling rules, so the
 * models on onnxruntime see the same pixels they see inside Human:
 *
 * - `resizeBilinear` (alignCorners and halfPixelCenters off): source
 *   coordinate = output coordinate x (input size / output size), the lower
 *   neighbour floored, the upper one clamped to the last pixel;
 * - `cropAndResize` (bilinear, extrapolation value 0): box corners are
 *   fractions of (size - 1), samples outside the image are 0;
 * - `rotateWithOffset` (fill 0): nearest neighbour, the source coordinate
 *   rounded; folded into the crop as a pixel lookup, so the rotated image
 *   is never materialised;
 * - `flipLeftRight`.
 *
 * Images are row-major, interleaved RGB (3 values per pixel), as 0..255
 * bytes or floats.
 */

/** RGB pixels, row-major, 3 values per pixel. */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/**
 * Bilinear resize of `src` into `out` (`width` x `height` x 3), each value
 * mapped through `v * scale + offset`.
 */
export function resizeBilinear(src: Pixels, width: number, height: number, out: Float32Array, scale = 1, offset = 0): void {
  const { width: W, height: H, data } = src;
  const sy = H / height;
  const sx = W / width;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = x * sx;
    const x0 = Math.floor(fx);
    x0s[x] = x0 * 3;
    x1s[x] = Math.min(W - 1, Math.ceil(fx)) * 3;
    fxs[x] = fx - x0;
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const r0 = y0 * W * 3;
    const r1 = Math.min(H - 1, Math.ceil(fy)) * W * 3;
    const ly = fy - y0;
    for (let x = 0; x < width; x++) {
      const a = x0s[x] as number;
      const b = x1s[x] as number;
      const lx = fxs[x] as number;
      for (let c = 0; c < 3; c++) {
        const tl = data[r0 + a + c] as number;
        const tr = data[r0 + b + c] as number;
        const bl = data[r1 + a + c] as number;
        const br = data[r1 + b + c] as number;
        const top = tl + (tr - tl) * lx;
        const bottom = bl + (br - bl) * lx;
        out[o++] = (top + (bottom - top) * ly) * scale + offset;
      }
    }
  }
}

/** A rotation of the source image about a centre (tfjs `rotateWithOffset`, fill 0). */
export interface Rotation {
  readonly radians: number;
  readonly centerX: number;
  readonly centerY: number;
}

/** A box as fractions of the image: [y1, x1, y2, x2] (tfjs `cropAndResize` order). */
export type NormalisedBox = readonly [y1: number, x1: number, y2: number, x2: number];

/**
 * Crops `box` out of `src` (optionally rotated first) and resizes it
 * bilinearly into `out` (`size` x `size` x 3, at `outOffset`), values mapped
 * through `v * scale`; with `flip`, the crop is mirrored left to right.
 */
export function cropAndResize(src: Pixels, box: NormalisedBox, size: number, out: Float32Array, options: { scale?: number; rotation?: Rotation; flip?: boolean; outOffset?: number } = {}): void {
  const { width: W, height: H, data } = src;
  const scale = options.scale ?? 1;
  const rot = options.rotation;
  const [y1, x1, y2, x2] = box;
  const hs = size > 1 ? ((y2 - y1) * (H - 1)) / (size - 1) : 0;
  const ws = size > 1 ? ((x2 - x1) * (W - 1)) / (size - 1) : 0;
  const cos = rot ? Math.cos(rot.radians) : 1;
  const sin = rot ? Math.sin(rot.radians) : 0;
  const cx = rot?.centerX ?? 0;
  const cy = rot?.centerY ?? 0;
  // Column sampling positions, shared by every row; with a rotation, each
  // column's share of the rotated coordinates, (x - cx) cos and (x - cx) sin.
  const lefts = new Int32Array(size);
  const rights = new Int32Array(size);
  const lxs = new Float64Array(size);
  const lc = new Float64Array(size);
  const ls = new Float64Array(size);
  const rc = new Float64Array(size);
  const rs = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    const xi = size > 1 ? x1 * (W - 1) + x * ws : 0.5 * (x1 + x2) * (W - 1);
    const inside = xi >= 0 && xi <= W - 1;
    const left = inside ? Math.floor(xi) : -1;
    const right = inside ? Math.ceil(xi) : -1;
    lefts[x] = left;
    rights[x] = right;
    lxs[x] = inside ? xi - left : 0;
    lc[x] = (left - cx) * cos;
    ls[x] = (left - cx) * sin;
    rc[x] = (right - cx) * cos;
    rs[x] = (right - cx) * sin;
  }
  // Offsets in `data` of the four neighbours of each column in the current row pair (-1: rotated in from outside, value 0).
  const tl = new Int32Array(size);
  const tr = new Int32Array(size);
  const bl = new Int32Array(size);
  const br = new Int32Array(size);
  /** Offsets of row `y`'s left and right neighbours into `l` and `r` (tfjs rotateWithOffset: nearest, rounded). */
  const rowOffsets = (y: number, l: Int32Array, r: Int32Array): void => {
    if (!rot) {
      for (let x = 0; x < size; x++) {
        l[x] = (y * W + (lefts[x] as number)) * 3;
        r[x] = (y * W + (rights[x] as number)) * 3;
      }
      return;
    }
    const ys = (y - cy) * sin;
    const yc = (y - cy) * cos;
    for (let x = 0; x < size; x++) {
      let sx = Math.round((lc[x] as number) - ys + cx);
      let sy = Math.round((ls[x] as number) + yc + cy);
      l[x] = sx >= 0 && sx < W && sy >= 0 && sy < H ? (sy * W + sx) * 3 : -1;
      sx = Math.round((rc[x] as number) - ys + cx);
      sy = Math.round((rs[x] as number) + yc + cy);
      r[x] = sx >= 0 && sx < W && sy >= 0 && sy < H ? (sy * W + sx) * 3 : -1;
    }
  };
  const base = options.outOffset ?? 0;
  for (let y = 0; y < size; y++) {
    const yi = size > 1 ? y1 * (H - 1) + y * hs : 0.5 * (y1 + y2) * (H - 1);
    const row = base + y * size * 3;
    if (yi < 0 || yi > H - 1) {
      out.fill(0, row, row + size * 3);
      continue;
    }
    const top = Math.floor(yi);
    const ly = yi - top;
    rowOffsets(top, tl, tr);
    rowOffsets(Math.ceil(yi), bl, br);
    for (let x = 0; x < size; x++) {
      const o = row + (options.flip ? size - 1 - x : x) * 3;
      if ((lefts[x] as number) < 0) {
        out[o] = 0;
        out[o + 1] = 0;
        out[o + 2] = 0;
        continue;
      }
      const lx = lxs[x] as number;
      const a = tl[x] as number;
      const b = tr[x] as number;
      const c = bl[x] as number;
      const d = br[x] as number;
      for (let k = 0; k < 3; k++) {
        const vtl = a < 0 ? 0 : (data[a + k] as number);
        const vtr = b < 0 ? 0 : (data[b + k] as number);
        const vbl = c < 0 ? 0 : (data[c + k] as number);
        const vbr = d < 0 ? 0 : (data[d + k] as number);
        const t = vtl + (vtr - vtl) * lx;
        const u = vbl + (vbr - vbl) * lx;
        out[o + k] = (t + (u - t) * ly) * scale;
      }
    }
  }
}
