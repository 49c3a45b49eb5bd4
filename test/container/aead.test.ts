/**
 * The STREAM chunk backends (src/container/aead.ts) tested directly:
 * conformance with an independent AES-256-GCM + §4.1 nonce construction,
 * interoperability (one backend seals, the other opens), batch independence,
 * detection of reordering/truncation at the primitive level, and zeroing of
 * the destination on failure. Also OpenedPayload.release().
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';

import { aeadBackends, type ProcessChunks } from '../../src/container/aead.js';
import { streamNonce } from '../../src/container/stream.js';
import { openSealedFile } from '../../src/container/open.js';
import { sealFile } from '../../src/container/seal.js';
import { cleanupTempDirs, keyfileSlot, patternBytes, provider, randomKey, tempDir, useTempHome } from './helpers.js';

const TAG = 16;
const backends = Object.entries(aeadBackends) as [string, ProcessChunks][];

function chunkCount(len: number, chunk: number): number {
  return len === 0 ? 1 : Math.ceil(len / chunk);
}

function seal(pc: ProcessChunks, key: Uint8Array, plain: Uint8Array, chunk: number, first = 0, last?: number): Uint8Array {
  const n = chunkCount(plain.length, chunk);
  const out = new Uint8Array(plain.length + n * TAG);
  assert.equal(pc(true, key, first, last ?? first + n - 1, chunk, plain.length, plain, out), -1);
  return out;
}

/** Independent reference: AES-256-GCM per chunk, nonce = 11-byte BE counter || last flag (§4.1), no AAD. */
function referenceSeal(key: Uint8Array, plain: Uint8Array, chunk: number, first: number, last: number): Uint8Array {
  const n = chunkCount(plain.length, chunk);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const counter = BigInt(first + i);
    const nonce = Buffer.alloc(12);
    for (let b = 0; b < 11; b++) nonce[10 - b] = Number((counter >> BigInt(8 * b)) & 0xffn);
    nonce[11] = first + i === last ? 1 : 0;
    const c = createCipheriv('aes-256-gcm', key, nonce);
    parts.push(c.update(plain.subarray(i * chunk, Math.min((i + 1) * chunk, plain.length))), c.final(), c.getAuthTag());
  }
  return new Uint8Array(Buffer.concat(parts));
}

test('streamNonce matches §4.1: 11-byte big-endian counter, then the last-chunk flag', () => {
  assert.deepEqual(streamNonce(0, false), new Uint8Array(12));
  assert.deepEqual(streamNonce(1, true), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1));
  assert.deepEqual(streamNonce(0x0102030405, false), Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0));
  assert.deepEqual(streamNonce(2 ** 38 + 1, true), Uint8Array.of(0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 1));
});

describe('AEAD chunk backends', () => {
  test(`backends available: ${backends.map(([n]) => n).join(', ')}`, () => {
    assert.ok(aeadBackends.node, 'the node:crypto backend is always there');
  });

  for (const [name, pc] of backends) {
    test(`${name}: output equals the reference construction (including counters above 2^32)`, () => {
      const key = randomKey();
      const cases: [number, number, number][] = [
        [0, 4096, 0],
        [1, 4096, 0],
        [4096, 4096, 0],
        [4097, 4096, 0],
        [10000, 4096, 2 ** 32 + 5],
        [3 * 8192, 8192, 2 ** 40 - 1],
      ];
      for (const [len, chunk, first] of cases) {
        const plain = patternBytes(len, first);
        const n = chunkCount(len, chunk);
        for (const last of [first + n - 1, first + n + 3]) {
          assert.deepEqual(seal(pc, key, plain, chunk, first, last), referenceSeal(key, plain, chunk, first, last), `${len}/${chunk}/${first}/${last}`);
        }
      }
    });
  }

  test('interoperability: every backend opens what every backend sealed, byte-identical output (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 12, max: 14 }),
        fc.integer({ min: 0, max: 70000 }),
        fc.integer({ min: 0, max: 1000 }),
        (log2, len, first) => {
          const chunk = 2 ** log2;
          const key = randomKey();
          const plain = new Uint8Array(randomBytes(len));
          const n = chunkCount(len, chunk);
          const sealed = backends.map(([, pc]) => seal(pc, key, plain, chunk, first));
          for (const s of sealed) assert.deepEqual(s, sealed[0]);
          for (const [name, pc] of backends) {
            const out = new Uint8Array(len);
            assert.equal(pc(false, key, first, first + n - 1, chunk, len, sealed[0]!, out), -1, name);
            assert.deepEqual(out, plain, name);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('batches are independent: sealing in two calls equals sealing in one', () => {
    const key = randomKey();
    const chunk = 4096;
    const plain = patternBytes(7 * chunk + 100);
    const n = 8;
    for (const [, pc] of backends) {
      const whole = seal(pc, key, plain, chunk);
      const a = seal(pc, key, plain.subarray(0, 3 * chunk), chunk, 0, n - 1);
      const b = seal(pc, key, plain.subarray(3 * chunk), chunk, 3, n - 1);
      assert.deepEqual(new Uint8Array(Buffer.concat([a, b])), whole);
    }
  });

  for (const [name, pc] of backends) {
    test(`${name}: reordering, truncation and extension fail at the primitive level`, () => {
      const key = randomKey();
      const chunk = 4096;
      const plain = patternBytes(4 * chunk); // exact multiple: the last chunk is a full one
      const sealed = seal(pc, key, plain, chunk);
      const sc = chunk + TAG;
      const open = (src: Uint8Array, first: number, last: number, len: number) => pc(false, key, first, last, chunk, len, src, new Uint8Array(len));
      // Claiming chunk 2 is the last one (truncation to 3 chunks).
      assert.equal(open(sealed.subarray(0, 3 * sc), 0, 2, 3 * chunk), 2);
      // Claiming a fifth chunk follows (extension): the real last chunk is then opened without the last flag.
      assert.equal(open(sealed, 0, 4, 4 * chunk), 3);
      // Swapping the last full chunk with the first.
      const swapped = new Uint8Array(Buffer.concat([sealed.subarray(3 * sc), sealed.subarray(sc, 3 * sc), sealed.subarray(0, sc)]));
      assert.equal(open(swapped, 0, 3, 4 * chunk), 0);
      // Decrypting a chunk at the wrong position (batch offset shifted).
      assert.equal(open(sealed.subarray(sc, 2 * sc), 2, 3, chunk), 0);
      // The empty payload is one empty chunk with the last flag.
      const empty = seal(pc, key, new Uint8Array(0), chunk);
      assert.equal(empty.length, TAG);
      assert.equal(open(empty, 0, 0, 0), -1);
      assert.equal(open(empty, 0, 1, 0), 0);
    });

    test(`${name}: a failing chunk zeroes the whole destination of the batch`, () => {
      const key = randomKey();
      const chunk = 4096;
      const len = 5 * chunk + 123;
      const n = 6;
      const sealed = seal(pc, key, patternBytes(len, 2), chunk);
      for (const bad of [0, 2, n - 1]) {
        for (const inTag of [false, true]) {
          const src = sealed.slice();
          const plainLen = bad === n - 1 ? len - bad * chunk : chunk;
          src[bad * (chunk + TAG) + (inTag ? plainLen + 3 : 17)]! ^= 0x40;
          const dst = new Uint8Array(len + 50).fill(0xaa);
          assert.equal(pc(false, key, 0, n - 1, chunk, len, src, dst), bad, `chunk ${bad}`);
          assert.ok(dst.subarray(0, len).every((b) => b === 0), `${name}: dst zeroed after failure in chunk ${bad}`);
          assert.ok(dst.subarray(len).every((b) => b === 0xaa), 'bytes past the batch untouched');
        }
      }
      // A wrong key fails at chunk 0 and leaves nothing either.
      const dst = new Uint8Array(len).fill(0x55);
      assert.equal(pc(false, randomKey(), 0, n - 1, chunk, len, sealed, dst), 0);
      assert.ok(dst.every((b) => b === 0));
    });
  }
});

describe('OpenedPayload.release()', () => {
  after(() => cleanupTempDirs());

  test('zeroes the plaintext and is idempotent', async () => {
    useTempHome();
    const dir = tempDir('release');
    const key = randomKey();
    const plaintext = patternBytes(50000, 4);
    const file = path.join(dir, 'r.bseal');
    await sealFile({ input: plaintext, output: file, chunkLog2: 12, slots: [await keyfileSlot(key)] });
    const opened = await openSealedFile(file, { provider: provider([key]) });
    assert.deepEqual(opened.bytes, plaintext);
    opened.release();
    assert.equal(opened.bytes.length, plaintext.length);
    assert.ok(opened.bytes.every((b) => b === 0));
    opened.release();
    assert.ok(opened.bytes.every((b) => b === 0));
  });
});
