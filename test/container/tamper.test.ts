/**
 * Tamper matrix on the default AEAD backend (native when built), attacks by
 * someone who holds the data key (a legitimate recipient rewriting the
 * header), and the parallel worker path on an 8 MiB payload.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { closeWorkerPool, PARALLEL_THRESHOLD } from '../../src/container/parallel.js';
import { coreOf, headerLengthFromPrefix, parseHeader, type HeaderCore } from '../../src/container/format.js';
import { deriveKeyCommitment, encodeHeader } from '../../src/container/keyschedule.js';
import { checkSealedFile, openSealedFile, unlockHeader, verifySealedSignature } from '../../src/container/open.js';
import { sealFile } from '../../src/container/seal.js';
import { payloadDigest, signPayload } from '../../src/container/signature.js';
import { wipe } from '../../src/util/bytes.js';
import { defineTamperMatrix, expectRefused, makeFixture } from './tamper-matrix.js';
import { cleanupTempDirs, concat, flipBit, keyfileSlot, patternBytes, provider, randomKey, rejectsWithCode, tempDir, writeTemp } from './helpers.js';

defineTamperMatrix();

describe('a data-key holder rewriting the header', () => {
  after(() => cleanupTempDirs());

  test('cannot truncate or re-chunk the payload: the payload key and commitment bind length and chunk size', async () => {
    const fx = await makeFixture();
    const { dataKey } = await unlockHeader(fx.header, provider([fx.keyA]));
    try {
      const core = coreOf(fx.header);
      const chunk = 2 ** core.chunkLog2;
      const lastStart = fx.headerLength + 5 * (chunk + 16);
      const rewrite = (c: HeaderCore, payload: Uint8Array, keepCommitment: boolean) => {
        const next = { ...c, keyCommitment: keepCommitment ? c.keyCommitment : deriveKeyCommitment(dataKey, c) };
        return concat(encodeHeader(dataKey, { ...next, signed: false }, fx.header.slots), payload);
      };
      // Drop the short last chunk and claim 5 full chunks.
      const truncated = { ...core, plaintextLength: BigInt(5 * chunk) };
      const payload = fx.bytes.subarray(fx.headerLength, lastStart);
      await expectRefused(fx, rewrite(truncated, payload, true), 'E_TAMPERED', 'truncated, old commitment');
      const msg = await expectRefused(fx, rewrite(truncated, payload, false), 'E_TAMPERED', 'truncated, commitment recomputed');
      assert.match(msg, /chunk 0 of 5/, 'a different payload key: the first chunk already fails');
      // Same bytes, claimed as 8 KiB chunks.
      const rechunked = { ...core, chunkLog2: core.chunkLog2 + 1 };
      const all = fx.bytes.subarray(fx.headerLength);
      await expectRefused(fx, rewrite(rechunked, all, false), 'E_TAMPERED', 're-chunked');
      // The untouched payload under an honestly re-encoded header still opens (control).
      const control = concat(encodeHeader(dataKey, { ...core, signed: false }, fx.header.slots), all);
      const opened = await openSealedFile(writeTemp(fx.dir, control), { provider: provider([fx.keyA]) });
      assert.deepEqual(opened.bytes, fx.plaintext);
      opened.release();
    } finally {
      wipe(dataKey);
    }
  });

  test('can strip the signature, which a pinned publisher refuses; cannot forge one', async () => {
    const fx = await makeFixture();
    const { dataKey } = await unlockHeader(fx.header, provider([fx.keyA]));
    try {
      const core = coreOf(fx.header);
      const payload = fx.bytes.subarray(fx.headerLength);
      const stripped = concat(encodeHeader(dataKey, { ...core, signed: false }, fx.header.slots), payload);
      const msg = await expectRefused(fx, stripped, 'E_SIGNATURE', 'stripped signature, publisher pinned', { publisher: fx.publisher });
      assert.match(msg, /no publisher signature/);
      assert.equal((await verifySealedSignature(writeTemp(fx.dir, stripped))).status, 'unsigned');

      // A signature block whose signature bytes are changed, correctly MACed.
      const sig = fx.header.signature!;
      const badSig = { ...sig, signature: flipBit(sig.signature, 10, 2) };
      const forged = concat(encodeHeader(dataKey, core, fx.header.slots, badSig), payload);
      assert.match(await expectRefused(fx, forged, 'E_SIGNATURE', 'forged signature'), /does not verify/);
      assert.equal((await verifySealedSignature(writeTemp(fx.dir, forged))).status, 'invalid');

      // A stored digest that does not match the payload, correctly MACed and signed by another key.
      const other = randomKey();
      const wrongDigest = signPayload(core, payloadDigest(new Uint8Array(6 * 32)), other);
      const mismatched = concat(encodeHeader(dataKey, core, fx.header.slots, wrongDigest), payload);
      await expectRefused(fx, mismatched, 'E_SIGNATURE', 'digest of other content');
      await expectRefused(fx, mismatched, 'E_SIGNATURE', 'digest of other content, pinned', { publisher: fx.publisher });
    } finally {
      wipe(dataKey);
    }
  });
});

describe('parallel worker path (payload ≥ 8 MiB)', () => {
  after(async () => {
    await closeWorkerPool();
    cleanupTempDirs();
  });

  test('opens into shared memory, and a forged middle chunk fails open and check', async () => {
    const dir = tempDir('parallel');
    const key = randomKey();
    const signing = randomKey();
    const plaintext = patternBytes(PARALLEL_THRESHOLD + 12345, 3);
    const file = path.join(dir, 'big.bseal');
    const chunkLog2 = 16;
    await sealFile({ input: plaintext, output: file, slots: [await keyfileSlot(key)], chunkLog2, signingKey: signing });
    const opts = { provider: provider([key]), threads: 2 };

    const opened = await openSealedFile(file, opts);
    try {
      assert.ok(opened.bytes.buffer instanceof SharedArrayBuffer, 'parallel path used');
      assert.ok(Buffer.from(opened.bytes).equals(Buffer.from(plaintext)));
    } finally {
      opened.release();
    }
    assert.ok(opened.bytes.every((b) => b === 0), 'release() zeroes shared memory');

    const bytes = new Uint8Array(readFileSync(file));
    const headerLength = headerLengthFromPrefix(bytes);
    assert.equal(parseHeader(bytes.subarray(0, headerLength)).chunkLog2, chunkLog2);
    const bad = 100; // in the second 4 MiB segment
    const tampered = writeTemp(dir, flipBit(bytes, headerLength + bad * (2 ** chunkLog2 + 16) + 777, 5));
    const e1 = await rejectsWithCode(openSealedFile(tampered, opts), 'E_TAMPERED', 'parallel open');
    const e2 = await rejectsWithCode(checkSealedFile(tampered, opts), 'E_TAMPERED', 'parallel check');
    assert.match(e1.message, new RegExp(`chunk ${bad} of`));
    assert.match(e2.message, new RegExp(`chunk ${bad} of`));
    assert.equal((await verifySealedSignature(tampered)).status, 'invalid');
  });
});
