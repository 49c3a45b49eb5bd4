/**
 * `recipient` factor (docs/FORMAT.md §6.3): X25519 share/derive round trip
 * through a stored identity, low-order points, parameter checks, recipient
 * strings, and the whole seal-to-recipient / open-with-identity flow.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';

process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

import { BiosealError } from '../../src/errors.js';
import { decodeRecipient, encodeRecipient, recipientFactor, recipientShare } from '../../src/factors/recipient.js';
import { factorProvider } from '../../src/factors/registry.js';
import { createIdentity, identityResolver, listIdentities, type IdentityInfo } from '../../src/identity/store.js';
import { openModel, sealModel } from '../../src/operations/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** Curve25519 points of small order (and their non-canonical encodings): X25519 with them is all-zero. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map(hex);

function code(c: string) {
  return (e: unknown) => e instanceof BiosealError && e.code === c;
}

describe('recipient factor', () => {
  let home: string;
  let key: Uint8Array;
  let identity: IdentityInfo;

  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-recipient-'));
    process.env.BIOSEAL_HOME = home;
    key = new Uint8Array(randomBytes(32));
    identity = await createIdentity({ name: 'alice', policy: [['keyfile']], inputs: { keyFiles: [key] }, home });
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('the identity is stored and listed with its recipient string', () => {
    assert.equal(identity.publicKey.length, 32);
    assert.ok(identity.recipient.startsWith('bioseal1'));
    assert.deepEqual(decodeRecipient(identity.recipient), identity.publicKey);
    assert.deepEqual(listIdentities(home).map((i) => i.name), ['alice']);
  });

  test('share → derive round trip through the identity resolver', async () => {
    const share = recipientShare(identity.publicKey);
    assert.equal(share.params.length, 64);
    assert.deepEqual(share.params.subarray(0, 32), identity.publicKey, 'params = recipient public key || ephemeral public key');
    assert.equal(share.secret.length, 32);
    const identities = identityResolver(home, { keyFiles: [key] });
    assert.ok(identities.has(identity.publicKey));
    const derived = await recipientFactor.deriveSecret(share.params, { identities });
    assert.deepEqual(derived, share.secret);
    // Two shares for the same recipient use fresh ephemeral keys.
    const other = recipientShare(identity.publicKey);
    assert.notDeepEqual(other.params.subarray(32), share.params.subarray(32));
    assert.notDeepEqual(other.secret, share.secret);
    assert.deepEqual(recipientFactor.describe(share.params), { recipient: identity.recipient });
  });

  test('an identity that cannot be unlocked, or an unknown recipient, gives no secret', async () => {
    const share = recipientShare(identity.publicKey);
    const locked = identityResolver(home, { keyFiles: [new Uint8Array(randomBytes(32))] });
    assert.equal(await recipientFactor.deriveSecret(share.params, { identities: locked }), undefined);
    assert.equal(await recipientFactor.deriveSecret(share.params, {}), undefined, 'no resolver');
    const stranger = recipientShare(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    assert.equal(await recipientFactor.deriveSecret(stranger.params, { identities: identityResolver(home, { keyFiles: [key] }) }), undefined);
  });

  test('low-order X25519 points are refused: as a recipient (E_FORMAT) and as an ephemeral key (no secret)', async () => {
    for (const point of LOW_ORDER) {
      assert.throws(() => recipientShare(point), code('E_FORMAT'), Buffer.from(point).toString('hex'));
    }
    const identities = identityResolver(home, { keyFiles: [key] });
    for (const point of LOW_ORDER) {
      const params = new Uint8Array(64);
      params.set(identity.publicKey, 0);
      params.set(point, 32);
      assert.equal(await recipientFactor.deriveSecret(params, { identities }), undefined, Buffer.from(point).toString('hex'));
    }
  });

  test('parameters must be 64 bytes (E_FORMAT); through the provider the slot is skipped', async () => {
    for (const n of [0, 32, 63, 65]) {
      await assert.rejects(recipientFactor.deriveSecret(new Uint8Array(n), {}), code('E_FORMAT'));
    }
    const provider = factorProvider({ identities: identityResolver(home, { keyFiles: [key] }) });
    assert.equal(await provider.secretsFor([{ name: 'recipient', params: new Uint8Array(63) }], 0), undefined);
    await assert.rejects(recipientFactor.createShare({}), code('E_USAGE'));
  });

  test('recipient strings: round trip, and mistyped or truncated ones are refused', () => {
    const pub = identity.publicKey;
    const text = encodeRecipient(pub);
    assert.equal(encodeRecipient(decodeRecipient(`  ${text}\n`)), text);
    const typo = text.slice(0, 12) + (text[12] === 'a' ? 'b' : 'a') + text.slice(13);
    for (const bad of [typo, text.slice(0, -1), text + 'aa', text + 'b', text.toUpperCase(), 'bioseal2' + text.slice(8), 'age1' + text.slice(8), '']) {
      assert.throws(() => decodeRecipient(bad), code('E_FORMAT'), bad);
    }
  });

  test('recipient strings are canonical: one extra zero-valued base32 character is refused', () => {
    // src/keys/encoding.ts unbase32 only checks that leftover bits are zero,
    // not that fewer than 5 are left over: appending "a" (value 0) to a valid
    // string adds 5 zero bits, still < 8, so the string decodes to the same
    // key. Two different strings then name one key (malleable identifiers).
    // FAILS until unbase32 also refuses `bits >= 5` at the end.
    const text = encodeRecipient(identity.publicKey);
    assert.throws(() => decodeRecipient(text + 'a'), code('E_FORMAT'));
  });

  test('seal to a recipient and open with the identity (library API)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-recipient-flow-'));
    try {
      const model = new Uint8Array(randomBytes(3000));
      const output = path.join(dir, 'm.bseal');
      await sealModel({ input: model, output, recipients: [identity.recipient], home, chunkLog2: 12 });
      const opened = await openModel(output, { keyFiles: [key], home });
      assert.deepEqual(opened.bytes, model);
      opened.release();
      await assert.rejects(openModel(output, { keyFiles: [new Uint8Array(randomBytes(32))], home }), code('E_AUTH'));
      await assert.rejects(openModel(output, { keyFiles: [key], home, useIdentities: false }), code('E_AUTH'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
