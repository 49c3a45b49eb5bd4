/**
 * Property: seal then open gives back exactly the bytes sealed, for random
 * payload sizes (0 .. ~300 KB, biased to chunk boundaries) and chunk sizes
 * 2^12 .. 2^14, from memory and from a file, and the sealed file has exactly
 * the length §4 predicts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';

import { headerLengthFromPrefix } from '../../src/container/format.js';
import { checkSealedFile, openSealedFile, readSealedInfo } from '../../src/container/open.js';
import { sealFile, type SlotMaterial } from '../../src/container/seal.js';
import { cleanupTempDirs, keyfileSlot, provider, randomKey, tempDir, useTempHome } from './helpers.js';

let dir: string;
let key: Uint8Array;
let slots: SlotMaterial[];

before(async () => {
  useTempHome();
  dir = tempDir('roundtrip');
  key = randomKey();
  slots = [await keyfileSlot(key)];
});
after(() => cleanupTempDirs());

const sizeArb = (log2: number) =>
  fc.oneof(
    fc.integer({ min: 0, max: 300_000 }),
    fc.tuple(fc.integer({ min: 0, max: 300_000 >> log2 }), fc.integer({ min: -1, max: 1 })).map(([k, d]) => Math.max(0, k * 2 ** log2 + d)),
    fc.constantFrom(0, 1, 15, 16, 17),
  );

test('seal → open returns identical bytes (property)', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 12, max: 14 }).chain((log2) => fc.tuple(fc.constant(log2), sizeArb(log2), fc.boolean())),
      async ([log2, size, fromFile]) => {
        const plaintext = new Uint8Array(randomBytes(size));
        const output = path.join(dir, `rt-${n++}.bseal`);
        let input: string | Uint8Array = plaintext;
        if (fromFile) {
          input = path.join(dir, `plain-${n}.bin`);
          writeFileSync(input, plaintext);
        }
        const result = await sealFile({ input, output, slots, chunkLog2: log2 });
        const chunks = size === 0 ? 1 : Math.ceil(size / 2 ** log2);
        assert.equal(result.chunkCount, chunks);
        const fileSize = statSync(output).size;
        assert.equal(result.sealedLength, fileSize);
        const info = await readSealedInfo(output);
        assert.equal(fileSize, info.headerLength + size + 16 * chunks);
        assert.equal(info.header.chunkLog2, log2);
        assert.equal(info.header.plaintextLength, BigInt(size));
        const opened = await openSealedFile(output, { provider: provider([key]) });
        try {
          assert.equal(opened.bytes.length, size);
          assert.ok(Buffer.from(opened.bytes).equals(Buffer.from(plaintext)));
        } finally {
          opened.release();
        }
        await checkSealedFile(output, { provider: provider([key]) });
      },
    ),
    { numRuns: 40 },
  );
});

test('two seals of the same input differ everywhere that is random (file id, salts, ciphertext)', async () => {
  const plaintext = new Uint8Array(randomBytes(5000));
  const a = path.join(dir, 'same-a.bseal');
  const b = path.join(dir, 'same-b.bseal');
  await sealFile({ input: plaintext, output: a, slots, chunkLog2: 12 });
  await sealFile({ input: plaintext, output: b, slots, chunkLog2: 12 });
  const ia = await readSealedInfo(a);
  const ib = await readSealedInfo(b);
  assert.equal(ia.headerLength, ib.headerLength);
  assert.notDeepEqual(ia.header.fileId, ib.header.fileId);
  assert.notDeepEqual(ia.header.keyCommitment, ib.header.keyCommitment);
  assert.notDeepEqual(ia.header.slots[0]!.kekSalt, ib.header.slots[0]!.kekSalt);
  const { readFileSync } = await import('node:fs');
  const pa = readFileSync(a);
  const pb = readFileSync(b);
  assert.ok(!pa.subarray(headerLengthFromPrefix(pa)).equals(pb.subarray(headerLengthFromPrefix(pb))));
});
