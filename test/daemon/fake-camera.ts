/**
 * Videos for Chromium's fake camera (--use-file-for-fake-video-capture),
 * written as YUV4MPEG2 from a real face: face-api's demo photo of one person
 * (test/biometrics/face/fixtures.ts), made to perform the liveness
 * challenges the way `bioseal eval liveness` builds bona fide sequences
 * (frontal first, then the action), here from one photo:
 *
 * - a head turn: the face warped as a cylinder rotating about the vertical
 *   axis (the nose moves towards one side, one cheek narrows); the face
 *   model reads it as yaw. The person's own left is the image's right, so a
 *   turn to the left is a positive rotation; for a turn to the right the
 *   turned frames are mirrored (the photo looks slightly to one side, and a
 *   warp towards the other shows too little turn).
 * - a blink: the eye regions (from the face mesh) covered with skin from
 *   just below them and a lash line drawn, so the lids meet.
 *
 * Chromium loops the file and reopens it at every getUserMedia, so a test
 * can change what the camera films between captures.
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import type { DecodedImage } from '../../src/biometrics/face/image.js';
import type { FaceAnalysis } from '../../src/biometrics/face/embedder.js';
import type { Challenge } from '../../src/biometrics/liveness/challenge.js';
import { faceCrop, FACES } from '../biometrics/face/fixtures.js';

export const VIDEO_WIDTH = 640;
export const VIDEO_HEIGHT = 480;
/** Frames per second of the videos; a loop of 8 frames lasts 1.6 s, half a challenge's filming. */
export const VIDEO_FPS = 5;
const FACE_SIDE = 480;

/** The face turned by `deg` degrees as a cylinder of radius `radius` (in widths) about the image's centre line. */
export function turnHead(img: DecodedImage, deg: number, radius = 0.25): DecodedImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  const cx = w / 2;
  const r = w * radius;
  const th = (deg * Math.PI) / 180;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = x;
      const u = (x - cx) / r;
      if (Math.abs(u) < 1) {
        const phi = Math.asin(u) - th;
        sx = Math.abs(phi) < Math.PI / 2 ? cx + r * Math.sin(phi) : cx + Math.sign(phi) * r;
      }
      const x0 = Math.max(0, Math.min(w - 1, Math.floor(sx)));
      const x1 = Math.min(w - 1, x0 + 1);
      const t = sx - x0;
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = data[(y * w + x0) * 3 + c]! * (1 - t) + data[(y * w + x1) * 3 + c]! * t;
    }
  }
  return { width: w, height: h, data: out };
}

export function mirror(img: DecodedImage): DecodedImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = data[(y * w + w - 1 - x) * 3 + c]!;
  return { width: w, height: h, data: out };
}

/** FaceMesh's eye contours (the eye on the image's left, then the right). */
const EYE_CONTOURS = [
  [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
  [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
];

/** The face with its eyes closed, from the mesh of the same image. */
export function closeEyes(img: DecodedImage, face: FaceAnalysis): DecodedImage {
  const { width: w, height: h, data } = img;
  const out = Uint8Array.from(data);
  for (const contour of EYE_CONTOURS) {
    const pts = contour.map((i) => face.landmarks.all[i]!);
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const rx = ((x1 - x0) / 2) * 1.25;
    const ry = y1 - y0 + 2;
    const drop = (y1 - y0) * 1.8 + 4;
    for (let y = Math.floor(cy - ry); y <= Math.ceil(cy + ry); y++) {
      for (let x = Math.floor(cx - rx); x <= Math.ceil(cx + rx); x++) {
        const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (d >= 1) continue;
        // Feathered edge, so no seam marks the patch.
        const a = d < 0.6 ? 1 : (1 - d) / 0.4;
        const sy = Math.min(h - 1, Math.round(y + drop));
        for (let c = 0; c < 3; c++) {
          const i = (y * w + x) * 3 + c;
          out[i] = out[i]! * (1 - a) + data[(sy * w + x) * 3 + c]! * a;
        }
      }
    }
    for (let x = Math.floor(x0); x <= Math.ceil(x1); x++) {
      const t = (x - cx) / ((x1 - x0) / 2);
      const y = Math.round(cy + (y1 - y0) * 0.15 * (1 - t * t));
      for (let dy = 0; dy < 2; dy++) for (let c = 0; c < 3; c++) out[((y + dy) * w + x) * 3 + c] = out[((y + dy) * w + x) * 3 + c]! * 0.4;
    }
  }
  return { width: w, height: h, data: out };
}

/** The square face image centred in a camera frame, grey around it. */
async function cameraFrame(face: DecodedImage): Promise<DecodedImage> {
  const side = (VIDEO_WIDTH - face.width) / 2;
  const { data, info } = await sharp(Buffer.from(face.data), { raw: { width: face.width, height: face.height, channels: 3 } })
    .extend({ left: side, right: side, top: 0, bottom: VIDEO_HEIGHT - face.height, background: { r: 96, g: 100, b: 104 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** RGB to YUV 4:2:0 with BT.601 studio range (what Chromium assumes for I420). */
function yuvFrame(img: DecodedImage): Buffer {
  const { width: w, height: h, data } = img;
  const y = Buffer.alloc(w * h);
  const u = Buffer.alloc((w / 2) * (h / 2));
  const v = Buffer.alloc((w / 2) * (h / 2));
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const p = (j * w + i) * 3;
      y[j * w + i] = clamp(16 + (65.481 * data[p]! + 128.553 * data[p + 1]! + 24.966 * data[p + 2]!) / 255);
    }
  }
  for (let j = 0; j < h / 2; j++) {
    for (let i = 0; i < w / 2; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((2 * j + dy) * w + 2 * i + dx) * 3;
        r += data[p]! / 4;
        g += data[p + 1]! / 4;
        b += data[p + 2]! / 4;
      }
      u[j * (w / 2) + i] = clamp(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[j * (w / 2) + i] = clamp(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return Buffer.concat([y, u, v]);
}

/** Writes faces (square, FACE_SIDE px) as a YUV4MPEG2 video the fake camera loops. */
export async function writeVideo(file: string, faces: readonly DecodedImage[]): Promise<void> {
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${VIDEO_WIDTH} H${VIDEO_HEIGHT} F${VIDEO_FPS}:1 Ip A1:1 C420jpeg\n`)];
  for (const f of faces) parts.push(Buffer.from('FRAME\n'), yuvFrame(await cameraFrame(f)));
  writeFileSync(file, Buffer.concat(parts));
}

/** The films a test needs, as lists of face images. */
export interface Films {
  /** The person looking at the camera, moving a little. */
  readonly idle: readonly DecodedImage[];
  /** One frame: a photo held still in front of the camera. */
  readonly still: readonly DecodedImage[];
  /** Each challenge performed: facing the camera, then the action, then back. */
  readonly challenge: Readonly<Record<Challenge, readonly DecodedImage[]>>;
}

/**
 * Builds the films from face-api's demo photo of person "b"; `analyse`
 * (the face model) locates the eyes for the blink.
 */
export async function buildFilms(analyse: (img: DecodedImage) => Promise<FaceAnalysis>): Promise<Films> {
  const photo = await faceCrop(FACES.b, { size: FACE_SIDE, margin: 1.8 });
  // This photo looks slightly to the image's right; a small turn the other way makes it frontal.
  const frontal = [-25, -22, -28].map((d) => turnHead(photo, d));
  // Turned well past the challenge's 18 degrees as the face model reads frames through the camera's YUV and JPEG.
  const turned = [30, 40, 35, 40, 30].map((d) => turnHead(photo, d));
  const closed = await Promise.all(frontal.slice(0, 2).map(async (f) => closeEyes(f, await analyse(f))));
  return {
    idle: frontal,
    still: [frontal[0]!],
    challenge: {
      'turn-left': [...frontal, ...turned],
      'turn-right': [...frontal, ...turned.map(mirror)],
      blink: [frontal[0]!, frontal[1]!, frontal[2]!, closed[0]!, closed[1]!, frontal[1]!, frontal[2]!, frontal[0]!],
    },
  };
}
