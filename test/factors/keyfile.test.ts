/**
 * `keyfile` factor (docs/FORMAT.md §6.2): the 8-byte key id in the slot, and
 * picking the matching key among several.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { BiosealError } from '../../src/errors.js';
import { keyfileFactor } from '../../src/factors/keyfile.js';
import { factorProvider } from '../../src/factors/registry.js';

const key = () => new Uint8Array(randomBytes(32));
const idOf = (k: Uint8Array) => new Uint8Array(createHash('sha256').update('bioseal/v1 keyfile id').update(k).digest().subarray(0, 8));

describe('keyfile factor', () => {
  test('the slot parameters are SHA-256("bioseal/v1 keyfile id" || key)[0..8]; the secret is the key', async () => {
    const k = key();
    const share = await keyfileFactor.createShare({ keyFiles: [k] });
    assert.deepEqual(share.params, idOf(k));
    assert.deepEqual(share.secret, k);
    assert.notEqual(share.secret, k, 'a copy, so the caller may wipe it');
    assert.deepEqual(keyfileFactor.describe(share.params), { keyId: Buffer.from(idOf(k)).toString('hex') });
  });

  test('deriveSecret picks the key whose id matches, wherever it is in the list', async () => {
    const keys = [key(), key(), key(), key()];
    for (const [i, k] of keys.entries()) {
      const secret = await keyfileFactor.deriveSecret(idOf(k), { keyFiles: keys });
      assert.deepEqual(secret, k, `key ${i}`);
    }
    assert.equal(await keyfileFactor.deriveSecret(idOf(key()), { keyFiles: keys }), undefined, 'no match');
    assert.equal(await keyfileFactor.deriveSecret(idOf(keys[0]!), {}), undefined, 'no key files');
    assert.equal(await keyfileFactor.deriveSecret(idOf(keys[0]!), { keyFiles: [] }), undefined);
  });

  test('a one-bit change in the id or the key no longer matches', async () => {
    const k = key();
    const id = idOf(k);
    const flippedId = id.slice();
    flippedId[7]! ^= 1;
    assert.equal(await keyfileFactor.deriveSecret(flippedId, { keyFiles: [k] }), undefined);
    const flippedKey = k.slice();
    flippedKey[0]! ^= 0x80;
    assert.equal(await keyfileFactor.deriveSecret(id, { keyFiles: [flippedKey] }), undefined);
  });

  test('parameters of the wrong length are E_FORMAT; through the provider the slot is skipped', async () => {
    for (const n of [0, 7, 9, 32]) {
      await assert.rejects(keyfileFactor.deriveSecret(new Uint8Array(n), { keyFiles: [key()] }), (e: unknown) => e instanceof BiosealError && e.code === 'E_FORMAT');
      assert.throws(() => keyfileFactor.describe(new Uint8Array(n)), (e: unknown) => e instanceof BiosealError && e.code === 'E_FORMAT');
    }
    const provider = factorProvider({ keyFiles: [key()] });
    assert.equal(await provider.secretsFor([{ name: 'keyfile', params: new Uint8Array(9) }], 0), undefined);
  });

  test('createShare without a key file is a usage error', async () => {
    await assert.rejects(keyfileFactor.createShare({}), (e: unknown) => e instanceof BiosealError && e.code === 'E_USAGE');
  });

  test('the provider returns one secret per factor, in order, for a multi-factor slot', async () => {
    const a = key();
    const b = key();
    const provider = factorProvider({ keyFiles: [b, a] });
    const secrets = await provider.secretsFor(
      [
        { name: 'keyfile', params: idOf(a) },
        { name: 'keyfile', params: idOf(b) },
      ],
      0,
    );
    assert.deepEqual(secrets, [a, b]);
    assert.equal(await provider.secretsFor([{ name: 'keyfile', params: idOf(a) }, { name: 'keyfile', params: idOf(key()) }], 0), undefined);
    assert.equal(await provider.secretsFor([{ name: 'fingerprint', params: new Uint8Array(0) }], 0), undefined, 'unknown factor: slot unusable');
    assert.ok(provider.cost!([{ name: 'keyfile', params: idOf(a) }]) < provider.cost!([{ name: 'recovery', params: new Uint8Array(25) }]));
  });
});
