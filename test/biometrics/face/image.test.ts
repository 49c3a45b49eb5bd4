/**
 * Image input of the face engine (src/biometrics/face/image.ts): what a user
 * depends on is that any image is either decoded into plain RGB or refused
 * with a typed E_IMAGE error, and that oversized input is refused before a
 * pixel is decoded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';

import { BiosealError, IOError } from '../../../src/errors.js';
import { ImageError } from '../../../src/biometrics/face/errors.js';
import { decodeImage, decodeNetpbm, greyCrop, mirrorImage, padImage, readImageFile, type DecodedImage } from '../../../src/biometrics/face/image.js';
import { samplePhotoPath } from './fixtures.js';

function imageError(reason: ImageError['reason']): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.ok(e instanceof BiosealError);
    assert.equal(e.code, 'E_IMAGE');
    assert.equal(e.reason, reason, `reason: ${e.message}`);
    return true;
  };
}

/** A PNG with the given header size and a tiny (not matching) zlib stream: enough for a header-only read. */
function pngWithHeader(width: number, height: number, idat: Uint8Array = deflateSync(Buffer.alloc(16))): Buffer {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

let dir: string;
let jpeg: Buffer;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bioseal-face-img-'));
  jpeg = await readFile(samplePhotoPath(1));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeImage: accepted images', () => {
  test('a JPEG photo decodes to RGB, downscaled to the default 1920 px side', async () => {
    const img = await decodeImage(jpeg);
    assert.equal(img.width, 1920);
    assert.equal(img.height, 1280);
    assert.equal(img.data.length, img.width * img.height * 3);
  });

  test('maxSide downscales without changing the aspect ratio', async () => {
    const img = await decodeImage(jpeg, { maxSide: 480 });
    assert.deepEqual([img.width, img.height], [480, 320]);
  });

  test('binary PGM (P5) decodes to grey RGB; PPM (P6) to RGB', () => {
    const pgm = Buffer.concat([Buffer.from('P5\n# comment\n3 2\n255\n'), Buffer.from([0, 50, 100, 150, 200, 255])]);
    const g = decodeNetpbm(pgm);
    assert.deepEqual([g.width, g.height], [3, 2]);
    assert.deepEqual([...g.data.subarray(0, 6)], [0, 0, 0, 50, 50, 50]);
    const ppm = Buffer.concat([Buffer.from('P6 1 1 255 '), Buffer.from([1, 2, 3])]);
    assert.deepEqual([...decodeNetpbm(ppm).data], [1, 2, 3]);
  });

  test('PGM maxval below 255 is scaled to 0..255', async () => {
    const pgm = Buffer.concat([Buffer.from('P5 2 1 15\n'), Buffer.from([0, 15])]);
    assert.deepEqual([...(await decodeImage(pgm)).data], [0, 0, 0, 255, 255, 255]);
  });

  test('PNG written by the test decodes exactly', async () => {
    const raw = Buffer.alloc(2 * (1 + 2 * 3));
    // two rows, filter byte 0, then RGB pixels
    raw.set([0, 255, 0, 0, 0, 255, 0], 0);
    raw.set([0, 0, 0, 255, 10, 20, 30], 7);
    const img = await decodeImage(pngWithHeader(2, 2, deflateSync(raw)));
    assert.deepEqual([...img.data], [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  });
});

describe('decodeImage: refused images, each with its reason', () => {
  test('a truncated JPEG is E_IMAGE truncated', async () => {
    await assert.rejects(decodeImage(jpeg.subarray(0, jpeg.length >> 1)), imageError('truncated'));
  });

  test('a JPEG cut inside its header is refused', async () => {
    await assert.rejects(decodeImage(jpeg.subarray(0, 200)), (e: unknown) => e instanceof ImageError && (e.reason === 'truncated' || e.reason === 'corrupt'));
  });

  test('bytes that are no image are E_IMAGE unsupported', async () => {
    await assert.rejects(decodeImage(Buffer.from('this is not an image, just text')), imageError('unsupported'));
  });

  test('SVG is refused although libvips could render it', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await assert.rejects(decodeImage(svg), imageError('unsupported'));
  });

  test('an empty buffer is E_IMAGE empty', async () => {
    await assert.rejects(decodeImage(new Uint8Array(0)), imageError('empty'));
  });

  test('bytes over maxBytes are refused before decoding', async () => {
    await assert.rejects(decodeImage(jpeg, { maxBytes: 1000 }), imageError('too-large'));
  });

  test('a header claiming more than 40 megapixels is refused before decoding', async () => {
    // 8000 x 6000 = 48 MP, with a pixel stream far too short: had decoding
    // started, the error would be `truncated`/`corrupt`, not `too-large`.
    await assert.rejects(decodeImage(pngWithHeader(8000, 6000)), imageError('too-large'));
    // The same trick with a JPEG-sized limit: a 2000 x 2000 header against a 1 MP cap.
    await assert.rejects(decodeImage(pngWithHeader(2000, 2000), { maxPixels: 1_000_000 }), imageError('too-large'));
  });

  test('a PGM header claiming too many pixels is refused before its raster is read', () => {
    assert.throws(() => decodeNetpbm(Buffer.from('P5 10000 10000 255\n')), imageError('too-large'));
  });

  test('PGM: short raster is truncated, extra bytes and bad headers are corrupt', () => {
    assert.throws(() => decodeNetpbm(Buffer.concat([Buffer.from('P5 2 2 255\n'), Buffer.from([1, 2, 3])])), imageError('truncated'));
    assert.throws(() => decodeNetpbm(Buffer.concat([Buffer.from('P5 1 1 255\n'), Buffer.from([1, 2])])), imageError('corrupt'));
    assert.throws(() => decodeNetpbm(Buffer.from('P5 x 1 255\n')), imageError('corrupt'));
    assert.throws(() => decodeNetpbm(Buffer.from('P5 1 1')), imageError('truncated'));
    assert.throws(() => decodeNetpbm(Buffer.from('P5 1 1 65535\n\0\0')), imageError('unsupported'));
    assert.throws(() => decodeNetpbm(Buffer.from('P5 0 1 255\n')), imageError('empty'));
  });

  test('fuzz: arbitrary bytes either decode or throw ImageError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from('P5 '), b])),
          fc.integer({ min: 1, max: jpeg.length - 1 }).map((n) => jpeg.subarray(0, n)),
        ),
        async (bytes) => {
          try {
            const img = await decodeImage(bytes, { maxSide: 64 });
            assert.equal(img.data.length, img.width * img.height * 3);
          } catch (e) {
            assert.ok(e instanceof ImageError, `unexpected ${String(e)}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('readImageFile', () => {
  test('a file over 20 MB is refused from its size, before it is read', async () => {
    const big = path.join(dir, 'big.jpg');
    await writeFile(big, jpeg.subarray(0, 16));
    await truncate(big, 21 * 1024 * 1024); // sparse: nothing to decode but the size
    await assert.rejects(readImageFile(big), imageError('too-large'));
  });

  test('reads and decodes a photo from disk', async () => {
    const img = await readImageFile(samplePhotoPath(1), { maxSide: 320 });
    assert.equal(img.width, 320);
  });

  test('a missing file is E_IO', async () => {
    await assert.rejects(readImageFile(path.join(dir, 'nope.jpg')), (e: unknown) => e instanceof IOError && e.code === 'E_IO');
  });
});

describe('pixel helpers', () => {
  const img: DecodedImage = { width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60]) };

  test('mirrorImage swaps columns and is its own inverse', () => {
    assert.deepEqual([...mirrorImage(img).data], [40, 50, 60, 10, 20, 30]);
    assert.deepEqual(mirrorImage(mirrorImage(img)), img);
  });

  test('padImage centres the image on a mean-colour canvas and reports the offset', () => {
    const p = padImage(img, 4);
    assert.deepEqual([p.image.width, p.image.height, p.offsetX, p.offsetY], [4, 4, 1, 1]);
    const px = (x: number, y: number): number[] => [...p.image.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
    assert.deepEqual(px(1, 1), [10, 20, 30]);
    assert.deepEqual(px(2, 1), [40, 50, 60]);
    assert.deepEqual(px(0, 0), [25, 35, 45]);
    assert.equal(padImage(img, 1).image, img);
  });

  test('greyCrop averages when shrinking and is flat on a flat image', () => {
    const flat: DecodedImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(100) };
    for (const v of greyCrop(flat, { x: 0, y: 0, width: 8, height: 8 }, 4)) assert.ok(Math.abs(v - 100) < 1e-3);
    for (const v of greyCrop(flat, { x: 2, y: 2, width: 2, height: 2 }, 6)) assert.ok(Math.abs(v - 100) < 1e-3);
  });
});
