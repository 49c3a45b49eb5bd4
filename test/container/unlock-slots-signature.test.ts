/**
 * Unlock failures, slot changes and publisher signatures through the file API.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { headerLengthFromPrefix } from '../../src/container/format.js';
import { checkSealedFile, openSealedFile, readSealedInfo, verifySealedSignature } from '../../src/container/open.js';
import { sealFile } from '../../src/container/seal.js';
import { publisherPublicKey } from '../../src/container/signature.js';
import { changeSlots } from '../../src/container/slots.js';
import { AuthError, DeviceError } from '../../src/errors.js';
import {
  cleanupTempDirs,
  flipBit,
  keyfileSlot,
  patternBytes,
  provider,
  randomKey,
  recoverySlot,
  rejectsWithCode,
  tempDir,
  useTempHome,
  writeTemp,
} from './helpers.js';

const PASS = 'correct horse battery staple';

function payloadOf(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(headerLengthFromPrefix(bytes));
}

describe('unlock failures', () => {
  let dir: string;
  let file: string;
  let key: Uint8Array;
  const plaintext = patternBytes(9000, 11);

  before(async () => {
    useTempHome();
    dir = tempDir('unlock');
    key = randomKey();
    file = path.join(dir, 'two.bseal');
    await sealFile({ input: plaintext, output: file, chunkLog2: 12, slots: [await keyfileSlot(key), await recoverySlot(PASS)] });
  });
  after(() => cleanupTempDirs());

  test('the right key file or the right passphrase opens (control)', async () => {
    for (const [p, slot] of [[provider([key]), 0], [provider([], PASS), 1], [provider([randomKey(), key], 'wrong'), 0]] as const) {
      const opened = await openSealedFile(file, { provider: p });
      assert.equal(opened.slotIndex, slot);
      assert.deepEqual(opened.bytes, plaintext);
      opened.release();
    }
  });

  test('wrong passphrase, wrong key file, or both: E_AUTH', async () => {
    for (const [p, what] of [
      [provider([], 'Correct horse battery staple'), 'wrong passphrase'],
      [provider([randomKey()]), 'wrong key file'],
      [provider([randomKey()], 'nope'), 'both wrong'],
      [provider([]), 'nothing supplied'],
    ] as const) {
      await rejectsWithCode(openSealedFile(file, { provider: p }), 'E_AUTH', `open: ${what}`);
      await rejectsWithCode(checkSealedFile(file, { provider: p }), 'E_AUTH', `check: ${what}`);
    }
  });

  test('a wrong passphrase and a wrong key file fail with the same message', async () => {
    // errors.ts: "Unlock failures say the same thing whatever went wrong, so
    // they leak nothing"; unlockHeader: "the message does not say why".
    const wrongPass = await rejectsWithCode(openSealedFile(file, { provider: provider([], 'not it') }), 'E_AUTH');
    const wrongKey = await rejectsWithCode(openSealedFile(file, { provider: provider([randomKey()]) }), 'E_AUTH');
    assert.equal(wrongKey.message, wrongPass.message);
  });

  test("a device the provider could not use: its error when no slot reached the key check, else a hint on E_AUTH", async () => {
    const deviceError = new DeviceError('unavailable', 'the TPM is not reachable');
    // Every slot skipped because a device failed: the device's own error, not a generic E_AUTH.
    const skipped = { secretsFor: async () => undefined, failure: () => deviceError };
    await assert.rejects(openSealedFile(file, { provider: skipped }), (e) => e === deviceError);
    // The recovery slot was tried with a wrong passphrase as well: E_AUTH, whose hint carries the device's message.
    const wrongPass = provider([], 'not the passphrase');
    const mixed = { secretsFor: wrongPass.secretsFor.bind(wrongPass), failure: () => deviceError };
    const error = await rejectsWithCode(openSealedFile(file, { provider: mixed }), 'E_AUTH');
    assert.match((error as AuthError).hint ?? '', /the TPM is not reachable/);
  });
});

describe('changing key slots', () => {
  after(() => cleanupTempDirs());

  test('add then remove a slot: the payload bytes never change, the removed slot no longer opens', async () => {
    useTempHome();
    const dir = tempDir('slots');
    const a = randomKey();
    const b = randomKey();
    const signing = randomKey();
    const plaintext = patternBytes(20000, 5);
    const file = path.join(dir, 'f.bseal');
    await sealFile({ input: plaintext, output: file, chunkLog2: 12, slots: [await keyfileSlot(a)], signingKey: signing });
    const payload = payloadOf(file);

    const added = await changeSlots(file, { provider: provider([a]), add: [await keyfileSlot(b)] });
    assert.equal(added.slots.length, 2);
    assert.equal(added.unlockedWith, 0);
    assert.ok(payloadOf(file).equals(payload), 'payload copied byte for byte after add');
    for (const k of [a, b]) {
      const opened = await openSealedFile(file, { provider: provider([k]), publisher: publisherPublicKey(signing) });
      assert.deepEqual(opened.bytes, plaintext);
      opened.release();
    }
    assert.equal((await verifySealedSignature(file)).status, 'valid', 'slots are not signed: the signature survives');

    const removed = await changeSlots(file, { provider: provider([b]), remove: [0] });
    assert.equal(removed.slots.length, 1);
    assert.ok(payloadOf(file).equals(payload), 'payload copied byte for byte after remove');
    await rejectsWithCode(openSealedFile(file, { provider: provider([a]) }), 'E_AUTH', 'removed slot');
    const opened = await openSealedFile(file, { provider: provider([b]) });
    assert.deepEqual(opened.bytes, plaintext);
    opened.release();
    assert.equal((await readSealedInfo(file)).header.slots.length, 1);

    // The last slot cannot go; a missing index is refused; nothing changes either way.
    const before = readFileSync(file);
    await rejectsWithCode(changeSlots(file, { provider: provider([b]), remove: [0] }), 'E_USAGE', 'remove the last slot');
    await rejectsWithCode(changeSlots(file, { provider: provider([b]), remove: [1] }), 'E_USAGE', 'remove a missing slot');
    await rejectsWithCode(changeSlots(file, { provider: provider([a]), add: [await keyfileSlot(a)] }), 'E_AUTH', 'change without a working slot');
    assert.ok(readFileSync(file).equals(before), 'file untouched by refused changes');
  });

  test('removing a slot and adding one in the same change', async () => {
    useTempHome();
    const dir = tempDir('slots2');
    const a = randomKey();
    const b = randomKey();
    const file = path.join(dir, 'g.bseal');
    await sealFile({ input: patternBytes(10), output: file, chunkLog2: 12, slots: [await keyfileSlot(a)] });
    const payload = payloadOf(file);
    const r = await changeSlots(file, { provider: provider([a]), remove: [0], add: [await keyfileSlot(b)] });
    assert.equal(r.slots.length, 1);
    assert.ok(payloadOf(file).equals(payload));
    await rejectsWithCode(openSealedFile(file, { provider: provider([a]) }), 'E_AUTH');
    (await openSealedFile(file, { provider: provider([b]) })).release();
  });
});

describe('publisher signatures', () => {
  let dir: string;
  let key: Uint8Array;
  let signing: Uint8Array;
  let signed: string;
  let unsigned: string;
  const plaintext = patternBytes(12000, 9);

  before(async () => {
    useTempHome();
    dir = tempDir('sig');
    key = randomKey();
    signing = randomKey();
    signed = path.join(dir, 'signed.bseal');
    unsigned = path.join(dir, 'unsigned.bseal');
    const slots = [await keyfileSlot(key)];
    await sealFile({ input: plaintext, output: signed, chunkLog2: 12, slots, signingKey: signing });
    await sealFile({ input: plaintext, output: unsigned, chunkLog2: 12, slots });
  });
  after(() => cleanupTempDirs());

  test('a signed file opens with its publisher pinned and reports the signer', async () => {
    const pub = publisherPublicKey(signing);
    const opened = await openSealedFile(signed, { provider: provider([key]), publisher: pub });
    assert.deepEqual(opened.signer, pub);
    assert.deepEqual(opened.bytes, plaintext);
    opened.release();
    const checked = await checkSealedFile(signed, { provider: provider([key]) });
    assert.deepEqual(checked.signer, pub, 'signature verified even when no publisher is pinned');
  });

  test('publisher required but the file is unsigned: E_SIGNATURE, before any unlock', async () => {
    const pub = publisherPublicKey(signing);
    for (const p of [provider([key]), provider([])]) {
      const e = await rejectsWithCode(openSealedFile(unsigned, { provider: p, publisher: pub }), 'E_SIGNATURE');
      assert.match(e.message, /no publisher signature/);
      await rejectsWithCode(checkSealedFile(unsigned, { provider: p, publisher: pub }), 'E_SIGNATURE');
    }
  });

  test('a different publisher pinned: E_SIGNATURE, before any unlock', async () => {
    const other = publisherPublicKey(randomKey());
    for (const p of [provider([key]), provider([])]) {
      const e = await rejectsWithCode(openSealedFile(signed, { provider: p, publisher: other }), 'E_SIGNATURE');
      assert.match(e.message, /different publisher/);
      await rejectsWithCode(checkSealedFile(signed, { provider: p, publisher: other }), 'E_SIGNATURE');
    }
  });

  test('verifySealedSignature: valid, unsigned, invalid (needs no secret)', async () => {
    const v = await verifySealedSignature(signed);
    assert.equal(v.status, 'valid');
    assert.deepEqual(v.publicKey, publisherPublicKey(signing));
    assert.deepEqual(await verifySealedSignature(unsigned), { status: 'unsigned' });
    const bytes = new Uint8Array(readFileSync(signed));
    const h = headerLengthFromPrefix(bytes);
    for (const at of [h, h + 5000, bytes.length - 1]) {
      const r = await verifySealedSignature(writeTemp(dir, flipBit(bytes, at, 1)));
      assert.equal(r.status, 'invalid', `payload byte ${at}`);
    }
    // A damaged header is an error, not a verdict.
    await rejectsWithCode(verifySealedSignature(writeTemp(dir, flipBit(bytes, 30, 0))), 'E_TAMPERED');
    await rejectsWithCode(verifySealedSignature(writeTemp(dir, bytes.subarray(0, bytes.length - 1))), 'E_TAMPERED');
  });
});
