/**
 * The sealing under which the daemon stores typing enrolments
 * (src/container/sealed-bytes.ts): AES-256-GCM checked against node:crypto
 * directly, and every kind of damage (wrong key, other associated data,
 * truncation, any flipped bit) refused with a typed error; the file-bound
 * key a sealed model yields (src/operations/open.ts): the same for every
 * slot that opens the file, another for a re-sealed file, unusable once
 * released.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileBoundKey, openBytes, sealBytes, SEALED_OVERHEAD } from '../../src/container/sealed-bytes.js';
import { BiosealError, FormatError, TamperedError, UsageError } from '../../src/errors.js';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { createSealedSession } from '../../src/operations/open.js';
import { sealModel } from '../../src/operations/seal.js';
import { utf8 } from '../../src/util/bytes.js';

const key = () => new Uint8Array(randomBytes(32));
const AAD = utf8('bioseal keystroke enrolment v1\nrecord-a');
const isTampered = (e: unknown) => e instanceof TamperedError && e.code === 'E_TAMPERED';

describe('sealBytes / openBytes', () => {
  test('round trip; the layout is version 1 || nonce || AES-256-GCM ciphertext || tag, over version || AAD', () => {
    const k = key();
    const plain = utf8('{"samples":[[["a",0.5,90.375]]]}');
    const sealed = sealBytes(k, plain, AAD);
    assert.equal(sealed.length, plain.length + SEALED_OVERHEAD);
    assert.equal(sealed[0], 1);
    assert.deepEqual(openBytes(k, sealed, AAD), plain);
    // Decrypted independently with node:crypto from the documented layout.
    const d = createDecipheriv('aes-256-gcm', k, sealed.subarray(1, 13));
    d.setAAD(Buffer.concat([sealed.subarray(0, 1), AAD]));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    assert.deepEqual(new Uint8Array(Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()])), plain);
    // A fresh nonce each time: sealing the same bytes twice differs.
    assert.notDeepEqual(sealBytes(k, plain, AAD), sealed);
    assert.deepEqual(openBytes(k, sealBytes(k, new Uint8Array(0), AAD), AAD), new Uint8Array(0));
  });

  test('a wrong key or other associated data is refused with E_TAMPERED', () => {
    const k = key();
    const sealed = sealBytes(k, utf8('profile'), AAD);
    assert.throws(() => openBytes(key(), sealed, AAD), isTampered);
    assert.throws(() => openBytes(k, sealed, utf8('bioseal keystroke enrolment v1\nrecord-b')), isTampered);
    assert.throws(() => openBytes(k, sealed, new Uint8Array(0)), isTampered);
  });

  test('truncated or extended bytes are refused with E_TAMPERED, never a crash', () => {
    const k = key();
    const sealed = sealBytes(k, utf8('a typing profile'), AAD);
    for (let n = 0; n < sealed.length; n++) assert.throws(() => openBytes(k, sealed.subarray(0, n), AAD), isTampered, `truncated to ${n}`);
    const extended = new Uint8Array(sealed.length + 1);
    extended.set(sealed);
    assert.throws(() => openBytes(k, extended, AAD), isTampered);
  });

  test('every flipped bit is refused: E_TAMPERED, or E_FORMAT for the version byte', () => {
    const k = key();
    const sealed = sealBytes(k, utf8('hold a 90.375'), AAD);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = sealed.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      assert.throws(() => openBytes(k, bad, AAD), (e: unknown) => (bit < 8 ? e instanceof FormatError : isTampered(e)), `bit ${bit}`);
    }
  });

  test('a key that is not 32 bytes is a usage error', () => {
    assert.throws(() => sealBytes(new Uint8Array(16), utf8('x'), AAD), UsageError);
    assert.throws(() => openBytes(new Uint8Array(31), new Uint8Array(40), AAD), UsageError);
  });

  test('a released FileBoundKey is zeroed for its users: seal and open throw, listeners hear of it once', () => {
    const bound = new FileBoundKey(key(), new Uint8Array(16));
    const sealed = bound.seal(utf8('x'), AAD);
    assert.deepEqual(bound.open(sealed, AAD), utf8('x'));
    let heard = 0;
    bound.onRelease(() => heard++);
    bound.release();
    bound.release();
    assert.equal(heard, 1);
    assert.equal(bound.released, true);
    assert.throws(() => bound.seal(utf8('x'), AAD), UsageError);
    assert.throws(() => bound.open(sealed, AAD), UsageError);
    bound.onRelease(() => heard++);
    assert.equal(heard, 2, 'a listener added after the release is told at once');
    assert.throws(() => bound.name('x'), UsageError);
  });

  test('names derive from the key and the purpose, never from the public file id', () => {
    const fileId = new Uint8Array(16).fill(7);
    const k = key();
    const a = new FileBoundKey(k.slice(), fileId);
    const again = new FileBoundKey(k.slice(), fileId);
    const other = new FileBoundKey(key(), fileId);
    assert.match(a.name('keystroke enrolment'), /^[0-9a-f]{32}$/);
    assert.equal(a.name('keystroke enrolment'), again.name('keystroke enrolment'), 'the same key names the same record');
    assert.notEqual(a.name('keystroke enrolment'), a.name('another purpose'));
    assert.notEqual(a.name('keystroke enrolment'), other.name('keystroke enrolment'), 'another key with the same file id names another record');
  });
});

describe('the profile key of a sealed model', () => {
  let dir: string;
  let home: string;
  const keyfile = new Uint8Array(randomBytes(32));
  const passphrase = 'profile key passphrase';

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-profile-key-'));
    home = path.join(dir, 'home');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const open = async (file: string, credentials: { keyFiles?: Uint8Array[]; passphrase?: string }) => {
    const s = await createSealedSession(file, { ...credentials, home, useIdentities: false, profileKey: true });
    await s.session.release();
    assert.ok(s.profileKey);
    return s.profileKey;
  };

  test('every slot of a file yields the same key; a re-sealed file another; unloaded callers get none', async () => {
    const a = path.join(dir, 'a.bseal');
    const b = path.join(dir, 'b.bseal');
    for (const out of [a, b]) {
      await sealModel({ input: buildDemoModel(), output: out, policies: ['keyfile', 'recovery'], keyFiles: [keyfile], passphrase, home });
    }
    const viaKeyfile = await open(a, { keyFiles: [keyfile] });
    const viaPassphrase = await open(a, { passphrase });
    const other = await open(b, { keyFiles: [keyfile] });
    try {
      assert.deepEqual(viaKeyfile.fileId, viaPassphrase.fileId);
      const sealed = viaKeyfile.seal(utf8('typing'), AAD);
      assert.deepEqual(viaPassphrase.open(sealed, AAD), utf8('typing'), 'the slot does not matter, the file does');
      assert.notDeepEqual(other.fileId, viaKeyfile.fileId);
      assert.throws(() => other.open(sealed, AAD), isTampered, 'the same model sealed again does not open it');
    } finally {
      for (const k of [viaKeyfile, viaPassphrase, other]) k.release();
    }
    const plain = await createSealedSession(a, { keyFiles: [keyfile], home, useIdentities: false });
    await plain.session.release();
    assert.equal(plain.profileKey, undefined, 'no key unless asked for');
  });

  test('a wrong secret opens nothing and yields no key (E_AUTH)', async () => {
    const a = path.join(dir, 'a.bseal');
    await assert.rejects(
      createSealedSession(a, { keyFiles: [new Uint8Array(randomBytes(32))], home, useIdentities: false, profileKey: true }),
      (e: unknown) => e instanceof BiosealError && e.code === 'E_AUTH',
    );
  });
});
