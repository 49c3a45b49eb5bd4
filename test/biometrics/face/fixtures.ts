/**
 * Test pictures for the face engine, built from the demo photos that the
 * @vladmandic/face-api npm package ships (demo/sample1..6.jpg: group photos
 * of different people), so the tests run on a clean clone with no dataset.
 */
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { DecodedImage } from '../../../src/biometrics/face/image.js';
import { packageRoot } from '../../../src/biometrics/face/tfjs-runtime.js';

/** Path of face-api's demo photo `sample<n>.jpg` (1920 px wide). */
export function samplePhotoPath(n: number): string {
  return path.join(packageRoot('@vladmandic/face-api'), 'demo', `sample${n}.jpg`);
}

/** A face in one of the demo photos: its box [x, y, w, h] in the full-size photo. */
export interface SampleFace {
  readonly sample: number;
  readonly box: readonly [number, number, number, number];
}

/** Three different people, frontal enough to pass the quality gates. */
export const FACES = {
  a: { sample: 1, box: [333, 316, 352, 352] },
  b: { sample: 6, box: [177, 456, 360, 361] },
  c: { sample: 6, box: [1081, 280, 368, 369] },
} as const satisfies Record<string, SampleFace>;

async function raw(pipeline: Sharp): Promise<DecodedImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  // greyscale() output has one channel: repeat it into R, G and B.
  const rgb = new Uint8Array(info.width * info.height * 3);
  for (let i = 0; i < info.width * info.height; i++) rgb.fill(data[i * info.channels] as number, 3 * i, 3 * i + 3);
  return { width: info.width, height: info.height, data: rgb };
}

/**
 * The face cut from its photo with `margin` times its box around it,
 * resized to `size` pixels square; `grey` makes it greyscale (as ORL's).
 */
export async function faceCrop(face: SampleFace, opts: { size?: number; margin?: number; width?: number; height?: number; grey?: boolean } = {}): Promise<DecodedImage> {
  const { size = 320, margin = 1.8 } = opts;
  const [x, y, w, h] = face.box;
  const side = Math.round(Math.max(w, h) * margin);
  const left = Math.max(0, Math.round(x + w / 2 - side / 2));
  const top = Math.max(0, Math.round(y + h / 2 - side / 2));
  let p = sharp(samplePhotoPath(face.sample)).extract({ left, top, width: side, height: side }).resize(opts.width ?? size, opts.height ?? size, { fit: 'fill' });
  if (opts.grey) p = p.greyscale();
  return raw(p);
}

/** A whole demo photo, downscaled to `width`. */
export async function samplePhoto(n: number, width: number): Promise<DecodedImage> {
  return raw(sharp(samplePhotoPath(n)).resize(width));
}

/** The image with every pixel multiplied by `k` (k < 1 darkens). */
export function scaleBrightness(img: DecodedImage, k: number): DecodedImage {
  return { ...img, data: img.data.map((v) => Math.min(255, Math.round(v * k))) };
}

/** The image Gaussian-blurred with libvips (sigma in pixels). */
export async function blurred(img: DecodedImage, sigma: number): Promise<DecodedImage> {
  return raw(sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).blur(sigma));
}

/** Deterministic uniform noise (xorshift32), `w` x `h`. */
export function noiseImage(w: number, h: number, seed = 7): DecodedImage {
  let s = seed;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = s & 0xff;
  }
  return { width: w, height: h, data };
}
