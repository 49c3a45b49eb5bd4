/**
 * Trust decisions: a signer trusted directly or through a chain of rotation
 * statements from a trusted key; broken, forged, conflicting, too long and
 * circular chains refused; keys retired by an accepted rotation refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_CHAIN_LENGTH, resolveSigner } from '../../src/updates/trust-chain.js';
import { createRotation, type RotationStatement } from '../../src/updates/rotation.js';
import { BiosealError } from '../../src/errors.js';
import { makePublisher, type Publisher } from './fixtures.js';

const isSignature = (pattern: RegExp) => (e: unknown) => e instanceof BiosealError && e.code === 'E_SIGNATURE' && pattern.test(e.message);

/** keys[0] -> keys[1] -> ... rotation statements. */
function chainOf(keys: readonly Publisher[]): RotationStatement[] {
  return keys.slice(1).map((k, i) => createRotation(keys[i]!.secret, k.key));
}

describe('resolveSigner', () => {
  const [A, B, C, D] = [makePublisher(), makePublisher(), makePublisher(), makePublisher()];

  test('a trusted signer needs no chain', () => {
    const d = resolveSigner(A.key, [C.key, A.key], [], []);
    assert.deepEqual(d.root, A.key);
    assert.equal(d.chain.length, 0);
  });

  test('an untrusted signer is refused, with or without statements', () => {
    assert.throws(() => resolveSigner(B.key, [A.key], [], []), isSignature(/not a trusted publisher key/));
    assert.throws(() => resolveSigner(D.key, [A.key], chainOf([A, B, C]), []), isSignature(/no chain of rotation statements/));
    assert.throws(() => resolveSigner(A.key, [], [], []), isSignature(/not a trusted/));
  });

  test('a chain from a trusted key is followed in any order, and the path returned', () => {
    const chain = chainOf([A, B, C, D]);
    const d = resolveSigner(D.key, [A.key], [chain[2]!, chain[0]!, chain[1]!], []);
    assert.deepEqual(d.root, A.key);
    assert.deepEqual(
      d.chain.map((s) => s.to),
      [B.key, C.key, D.key],
    );
    // Starting from a later trusted key uses the shorter path.
    assert.equal(resolveSigner(D.key, [A.key, C.key], chain, []).chain.length, 1);
  });

  test('a broken link (a forged or altered statement) refuses the whole update', () => {
    const chain = chainOf([A, B, C]);
    const forged = { ...chain[1]!, signature: chain[1]!.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    assert.throws(() => resolveSigner(C.key, [A.key], [chain[0]!, forged], []), isSignature(/does not verify/));
    // A statement "B replaces A" signed by B itself (not by A) does not verify.
    const selfSigned = { ...createRotation(B.secret, C.key), from: A.key, to: B.key };
    assert.throws(() => resolveSigner(B.key, [A.key], [selfSigned], []), isSignature(/does not verify/));
    // A missing middle link: A -> B, C -> D: nothing leads to D from A.
    assert.throws(() => resolveSigner(D.key, [A.key], [chain[0]!, createRotation(C.secret, D.key)], []), isSignature(/no chain/));
  });

  test('a recorded rotation retires the old key: it may not sign, nor rotate elsewhere', () => {
    const recorded = chainOf([A, B]);
    assert.deepEqual(resolveSigner(B.key, [A.key], [], recorded).root, A.key);
    assert.throws(() => resolveSigner(A.key, [A.key], [], recorded), isSignature(/retired/));
    assert.throws(() => resolveSigner(C.key, [A.key], [createRotation(A.secret, C.key)], recorded), isSignature(/conflicting rotations/));
    // Two offered statements from one key to different keys conflict too.
    assert.throws(() => resolveSigner(C.key, [A.key], [createRotation(A.secret, B.key), createRotation(A.secret, C.key)], []), isSignature(/conflicting/));
  });

  test(`chains longer than ${MAX_CHAIN_LENGTH} links are refused; cycles terminate`, () => {
    const keys = Array.from({ length: MAX_CHAIN_LENGTH + 2 }, makePublisher);
    const long = chainOf(keys);
    assert.equal(resolveSigner(keys[MAX_CHAIN_LENGTH]!.key, [keys[0]!.key], long.slice(0, MAX_CHAIN_LENGTH), []).chain.length, MAX_CHAIN_LENGTH);
    assert.throws(() => resolveSigner(keys.at(-1)!.key, [keys[0]!.key], long, []), isSignature(/no chain/));
    // Every key in a cycle has a successor, so each is retired; the search still ends.
    const cycle = [createRotation(B.secret, C.key), createRotation(C.secret, B.key)];
    assert.throws(() => resolveSigner(C.key, [A.key], cycle, []), isSignature(/retired/));
  });

  test('a statement offered with the update retires its old key too', () => {
    assert.throws(() => resolveSigner(A.key, [A.key], chainOf([A, B]), []), isSignature(/retired/));
  });
});
