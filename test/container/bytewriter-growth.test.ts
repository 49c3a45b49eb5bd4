/**
 * Regression tests for a bug in src/util/bytes.ts (ByteWriter): every write
 * method evaluates `this.buf.set` / `this.view.setUintN` (the *old* buffer)
 * before its argument `this.reserve(n)` grows the buffer, so any write that
 * needs the writer to grow throws RangeError. In the container this means a
 * header whose slot area exceeds the writer's initial 256 bytes (three slots
 * such as keyfile | keyfile | recovery, or keyfile | recovery + a recipient)
 * cannot be sealed, and changeSlots cannot add a third slot.
 *
 * These tests FAIL until ByteWriter is fixed (see the report); they describe
 * the intended behaviour.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { ByteWriter } from '../../src/util/bytes.js';
import { encodeSlotFactors } from '../../src/container/format.js';
import { openSealedFile } from '../../src/container/open.js';
import { sealFile } from '../../src/container/seal.js';
import { changeSlots } from '../../src/container/slots.js';
import { cleanupTempDirs, keyfileSlot, patternBytes, provider, randomKey, recoverySlot, tempDir, useTempHome } from './helpers.js';

describe('ByteWriter growth (src/util/bytes.ts)', () => {
  after(() => cleanupTempDirs());

  test('every write method works when the writer has to grow', () => {
    assert.deepEqual(new ByteWriter(4).bytes(new Uint8Array(8).fill(7)).finish(), new Uint8Array(8).fill(7));
    assert.deepEqual(new ByteWriter(1).u8(1).u8(2).finish(), Uint8Array.of(1, 2));
    assert.deepEqual(new ByteWriter(1).u16(0x0102).finish(), Uint8Array.of(1, 2));
    assert.deepEqual(new ByteWriter(2).u32(0x01020304).finish(), Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(new ByteWriter(4).u64(0x0102030405060708n).finish(), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });

  test('a slot factor list longer than 256 bytes encodes', () => {
    const encoded = encodeSlotFactors([{ name: 'keyfile', params: new Uint8Array(300) }]);
    assert.equal(encoded.length, 1 + 1 + 7 + 2 + 300);
  });

  test('a file with three key slots (slot area > 256 bytes) seals and every slot opens', async () => {
    useTempHome();
    const dir = tempDir('three-slots');
    const a = randomKey();
    const b = randomKey();
    const plaintext = patternBytes(5000);
    const file = path.join(dir, 'three.bseal');
    await sealFile({ input: plaintext, output: file, chunkLog2: 12, slots: [await keyfileSlot(a), await keyfileSlot(b), await recoverySlot('three')] });
    for (const [keys, pass, slot] of [[[a], undefined, 0], [[b], undefined, 1], [[], 'three', 2]] as const) {
      const opened = await openSealedFile(file, { provider: provider(keys, pass) });
      assert.equal(opened.slotIndex, slot);
      assert.deepEqual(opened.bytes, plaintext);
      opened.release();
    }
  });

  test('changeSlots can add a third slot', async () => {
    useTempHome();
    const dir = tempDir('add-third');
    const a = randomKey();
    const b = randomKey();
    const c = randomKey();
    const file = path.join(dir, 'f.bseal');
    await sealFile({ input: patternBytes(100), output: file, chunkLog2: 12, slots: [await keyfileSlot(a), await keyfileSlot(b)] });
    const result = await changeSlots(file, { provider: provider([a]), add: [await keyfileSlot(c)] });
    assert.equal(result.slots.length, 3);
    const opened = await openSealedFile(file, { provider: provider([c]) });
    assert.equal(opened.slotIndex, 2);
    opened.release();
  });
});
