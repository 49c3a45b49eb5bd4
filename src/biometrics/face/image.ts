/**
 * Image input for the face engine: strict, size-capped decoding into one
 * plain RGB pixel format, plus the few pixel operations the engine needs
 * (padding, mirroring, greyscale crops).
 *
 * Every attacker-chosen cost is capped before work is done: the file size
 * before it is read, the pixel count (from the header alone) before any
 * pixel is decoded. Only raster formats a camera or a dataset produces are
 * accepted: JPEG, PNG, WebP (through sharp/libvips) and binary Netpbm
 * (PGM/PPM, parsed here, since sharp's prebuilt libvips lacks it). SVG, PDF,
 * HEIF, TIFF and the rest are refused even where libvips could read them:
 * an SVG renderer is attack surface, not a camera format.
 */
import { open, stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { IOError } from '../../errors.js';
import { ImageError } from './errors.js';

/** 8-bit RGB pixels, row-major, interleaved (`data.length === width * height * 3`). */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Checks that a {@link DecodedImage} built by a caller is consistent
 * (positive integer size, exactly width x height x 3 bytes).
 * @throws {ImageError} `corrupt` or `empty`
 */
export function checkDecodedImage(img: DecodedImage): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new ImageError('empty', `image size ${img.width}x${img.height} is not a positive integer size`);
  }
  if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 3) {
    throw new ImageError('corrupt', `image data has ${img.data?.length} bytes; ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}`);
  }
}

/** Caps applied before decoding. */
export interface ImageLimits {
  /** Largest encoded size accepted, in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Largest pixel count accepted (width x height, read from the header). Default 40 megapixels. */
  maxPixels?: number;
  /**
   * Downscale (never upscale) so that neither side exceeds this many pixels
   * after decoding; 0 keeps the decoded size. Default 1920: more resolution
   * than that only slows detection down.
   */
  maxSide?: number;
}

/** The defaults of {@link ImageLimits}. */
export const DEFAULT_IMAGE_LIMITS: Readonly<Required<ImageLimits>> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 1920,
});

/** Formats accepted through sharp (libvips names). */
const SHARP_FORMATS = new Set(['jpeg', 'png', 'webp']);

function limitsOf(limits: ImageLimits | undefined): Required<ImageLimits> {
  return { ...DEFAULT_IMAGE_LIMITS, ...(limits ?? {}) };
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new ImageError('empty', 'image has no pixels');
  if (width * height > maxPixels) {
    throw new ImageError('too-large', `image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} megapixels); the limit is ${(maxPixels / 1e6).toFixed(1)} megapixels`);
  }
}

/**
 * Reads and decodes an image file, refusing files over the byte limit before
 * reading them.
 *
 * @throws {ImageError} `too-large`, `unsupported`, `truncated`, `corrupt`, `empty`
 * @throws {IOError} when the file cannot be read
 * @example
 * const img = await readImageFile('me.jpg');
 */
export async function readImageFile(path: string, limits?: ImageLimits): Promise<DecodedImage> {
  const lim = limitsOf(limits);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new IOError(`not a regular file: ${path}`);
    size = st.size;
  } catch (err) {
    if (err instanceof IOError) throw err;
    throw new IOError(`cannot read image ${path}`, { cause: err });
  }
  if (size > lim.maxBytes) throw new ImageError('too-large', `image file is ${size} bytes; the limit is ${lim.maxBytes}`);
  // Read at most maxBytes + 1, so a file that grows after stat() is still capped.
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw new IOError(`cannot read image ${path}`, { cause: err });
  });
  try {
    const buf = Buffer.alloc(Math.min(size, lim.maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (n > lim.maxBytes) throw new ImageError('too-large', `image file is over the limit of ${lim.maxBytes} bytes`);
    return await decodeImage(buf.subarray(0, n), lim);
  } finally {
    await fh.close();
  }
}

/**
 * Decodes encoded image bytes (JPEG, PNG, WebP, binary PGM/PPM) into 8-bit
 * RGB, applying the EXIF orientation. Byte and pixel limits are checked from
 * the length and the header before any pixel is decoded.
 *
 * @throws {ImageError} `too-large`, `unsupported`, `truncated`, `corrupt`, `empty`
 * @example
 * const img = await decodeImage(await readFile('me.jpg'));
 */
export async function decodeImage(bytes: Uint8Array, limits?: ImageLimits): Promise<DecodedImage> {
  const lim = limitsOf(limits);
  if (bytes.length === 0) throw new ImageError('empty', 'image is empty (0 bytes)');
  if (bytes.length > lim.maxBytes) throw new ImageError('too-large', `image is ${bytes.length} bytes; the limit is ${lim.maxBytes}`);
  let img: DecodedImage;
  if (bytes[0] === 0x50 /* P */ && bytes.length >= 2 && (bytes[1] === 0x35 || bytes[1] === 0x36)) {
    img = decodeNetpbm(bytes, lim.maxPixels);
  } else {
    img = await decodeWithSharp(bytes, lim.maxPixels);
  }
  if (lim.maxSide > 0 && Math.max(img.width, img.height) > lim.maxSide) {
    const scale = lim.maxSide / Math.max(img.width, img.height);
    img = await resizeImage(img, Math.max(1, Math.round(img.width * scale)), Math.max(1, Math.round(img.height * scale)));
  }
  return img;
}

function sharpErrorReason(message: string): ImageError['reason'] {
  const m = message.toLowerCase();
  if (m.includes('unsupported image format')) return 'unsupported';
  if (m.includes('empty')) return 'empty';
  if (m.includes('pixel limit')) return 'too-large';
  if (m.includes('premature end') || m.includes('truncat') || m.includes('unexpected end') || m.includes('not enough data')) return 'truncated';
  return 'corrupt';
}

async function decodeWithSharp(bytes: Uint8Array, maxPixels: number): Promise<DecodedImage> {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const opts = { limitInputPixels: maxPixels, failOn: 'truncated', animated: false, sequentialRead: true } as const;
  let meta: Metadata;
  try {
    meta = await sharp(input, opts).metadata();
  } catch (err) {
    const reason = sharpErrorReason(err instanceof Error ? err.message : String(err));
    throw new ImageError(reason, `cannot read the image header (${reason})`, { cause: err });
  }
  if (!meta.format || !SHARP_FORMATS.has(meta.format)) {
    throw new ImageError('unsupported', `unsupported image format: ${meta.format ?? 'unknown'} (accepted: JPEG, PNG, WebP, PGM, PPM)`);
  }
  // The header's size, before decoding. EXIF rotation does not change the pixel count.
  checkPixels(meta.width ?? 0, meta.height ?? 0, maxPixels);
  try {
    const { data, info } = await sharp(input, opts)
      .rotate() // apply the EXIF orientation, as a camera app shows the photo
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError('corrupt', `decoded image has ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const reason = sharpErrorReason(err instanceof Error ? err.message : String(err));
    throw new ImageError(reason, `cannot decode the image (${reason})`, { cause: err });
  }
}

/**
 * Parses binary Netpbm: P5 (greyscale, PGM) and P6 (RGB, PPM), maxval 1..255,
 * as the Netpbm format specification defines (whitespace-separated decimal
 * header fields, `#` comments, one whitespace byte before the raster).
 * Strict: short rasters are `truncated`, bytes after the raster are refused.
 */
export function decodeNetpbm(bytes: Uint8Array, maxPixels: number = DEFAULT_IMAGE_LIMITS.maxPixels): DecodedImage {
  const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  const channels = bytes[1] === 0x35 ? 1 : 3;
  let pos = 2;
  const field = (): number => {
    for (;;) {
      while (pos < bytes.length && isWs(bytes[pos])) pos++;
      if (bytes[pos] === 0x23 /* # */) {
        while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++;
        continue;
      }
      break;
    }
    if (pos >= bytes.length) throw new ImageError('truncated', 'Netpbm header ends early');
    let v = 0;
    let digits = 0;
    while (pos < bytes.length) {
      const c = bytes[pos] as number;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      digits++;
      pos++;
      if (digits > 9) throw new ImageError('corrupt', 'Netpbm header field is too long');
    }
    if (digits === 0) throw new ImageError('corrupt', 'Netpbm header field is not a number');
    return v;
  };
  if (!isWs(bytes[pos])) throw new ImageError('corrupt', 'Netpbm magic is not followed by whitespace');
  const width = field();
  const height = field();
  const maxval = field();
  if (maxval < 1 || maxval > 255) throw new ImageError('unsupported', `Netpbm maxval ${maxval} is not supported (1..255)`);
  checkPixels(width, height, maxPixels);
  if (!isWs(bytes[pos])) throw new ImageError(pos >= bytes.length ? 'truncated' : 'corrupt', 'Netpbm header is not followed by one whitespace byte');
  pos++;
  const need = width * height * channels;
  const have = bytes.length - pos;
  if (have < need) throw new ImageError('truncated', `Netpbm raster has ${have} bytes; ${need} expected`);
  if (have > need) throw new ImageError('corrupt', `Netpbm raster has ${have - need} bytes after the image`);
  const raster = bytes.subarray(pos, pos + need);
  const out = new Uint8Array(width * height * 3);
  const scale = 255 / maxval;
  for (let i = 0, j = 0; i < width * height; i++) {
    if (channels === 1) {
      const v = Math.min(255, Math.round((raster[i] as number) * scale));
      out[j++] = v;
      out[j++] = v;
      out[j++] = v;
    } else {
      for (let k = 0; k < 3; k++) out[j++] = Math.min(255, Math.round((raster[3 * i + k] as number) * scale));
    }
  }
  return { width, height, data: out };
}

/**
 * Resizes with libvips (Lanczos down, bicubic up).
 * @example const small = await resizeImage(img, 320, 240);
 */
export async function resizeImage(img: DecodedImage, width: number, height: number): Promise<DecodedImage> {
  const { data, info } = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The image mirrored left to right. */
export function mirrorImage(img: DecodedImage): DecodedImage {
  const out = new Uint8Array(img.data.length);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = y * row + x * 3;
      const d = y * row + (img.width - 1 - x) * 3;
      out[d] = img.data[s] as number;
      out[d + 1] = img.data[s + 1] as number;
      out[d + 2] = img.data[s + 2] as number;
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/** An image placed on a larger canvas, and where its top-left corner went. */
export interface PaddedImage {
  readonly image: DecodedImage;
  readonly offsetX: number;
  readonly offsetY: number;
}

/**
 * Pads an image with a flat border so that both sides are at least
 * `minSide`, centred. Detectors trained on wider shots miss faces that fill
 * the whole frame (ORL's 92x112 crops): a border restores the context they
 * expect. The fill is the image's mean colour, so no edge is introduced that
 * could look like a face contour.
 */
export function padImage(img: DecodedImage, minSide: number): PaddedImage {
  const width = Math.max(img.width, minSide);
  const height = Math.max(img.height, minSide);
  if (width === img.width && height === img.height) return { image: img, offsetX: 0, offsetY: 0 };
  const offsetX = (width - img.width) >> 1;
  const offsetY = (height - img.height) >> 1;
  let r = 0;
  let g = 0;
  let b = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    r += img.data[3 * i] as number;
    g += img.data[3 * i + 1] as number;
    b += img.data[3 * i + 2] as number;
  }
  const fill = [Math.round(r / n), Math.round(g / n), Math.round(b / n)] as const;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    out[3 * i] = fill[0];
    out[3 * i + 1] = fill[1];
    out[3 * i + 2] = fill[2];
  }
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + offsetY) * width + offsetX) * 3);
  }
  return { image: { width, height, data: out }, offsetX, offsetY };
}

/** An axis-aligned box in image pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Samples a box of the image as luma (ITU-R BT.601 weights) onto a
 * `size` x `size` grid, averaging the source pixels that fall into each cell
 * (area sampling) when the box is larger than the grid and interpolating
 * bilinearly when it is smaller. Parts of the box outside the image repeat the
 * edge pixels.
 */
export function greyCrop(img: DecodedImage, box: Box, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const luma = (x: number, y: number): number => {
    const xi = Math.min(img.width - 1, Math.max(0, x));
    const yi = Math.min(img.height - 1, Math.max(0, y));
    const i = (yi * img.width + xi) * 3;
    return 0.299 * (img.data[i] as number) + 0.587 * (img.data[i + 1] as number) + 0.114 * (img.data[i + 2] as number);
  };
  const cell = Math.max(box.width, box.height) / size;
  const sx = box.width / size;
  const sy = box.height / size;
  for (let gy = 0; gy < size; gy++) {
    for (let gx = 0; gx < size; gx++) {
      let v: number;
      if (cell > 1) {
        const x0 = Math.floor(box.x + gx * sx);
        const y0 = Math.floor(box.y + gy * sy);
        const x1 = Math.max(x0 + 1, Math.floor(box.x + (gx + 1) * sx));
        const y1 = Math.max(y0 + 1, Math.floor(box.y + (gy + 1) * sy));
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += luma(x, y);
        v = s / ((x1 - x0) * (y1 - y0));
      } else {
        const fx = box.x + (gx + 0.5) * sx - 0.5;
        const fy = box.y + (gy + 0.5) * sy - 0.5;
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const ax = fx - x0;
        const ay = fy - y0;
        v = (1 - ay) * ((1 - ax) * luma(x0, y0) + ax * luma(x0 + 1, y0)) + ay * ((1 - ax) * luma(x0, y0 + 1) + ax * luma(x0 + 1, y0 + 1));
      }
      out[gy * size + gx] = v;
    }
  }
  return out;
}
