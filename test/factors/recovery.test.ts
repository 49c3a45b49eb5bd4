/**
 * `recovery` factor parameters (docs/FORMAT.md §6.1): encoding, caps on the
 * Argon2id cost read from a (possibly hostile) file, and secret derivation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { argon2id } from '@noble/hashes/argon2.js';

process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

import { BiosealError } from '../../src/errors.js';
import {
  decodeRecoveryParams,
  encodeRecoveryParams,
  recoveryFactor,
  RECOVERY_DEFAULTS,
  RECOVERY_LIMITS,
  stretchPassphrase,
} from '../../src/factors/recovery.js';
import { factorProvider } from '../../src/factors/registry.js';
import { passphraseBytes } from '../../src/factors/inputs.js';

const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
const ok = { memoryKiB: 8192, passes: 1, lanes: 1, salt };
const pass = (text: string) => ({ passphrase: async () => passphraseBytes(text) });

function formatError(pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof BiosealError, String(e));
    assert.equal(e.code, 'E_FORMAT');
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

describe('recovery parameters', () => {
  test('are 25 bytes: version 1 | memory KiB u32 | passes u16 | lanes u16 | salt(16), big-endian', () => {
    const bytes = encodeRecoveryParams({ memoryKiB: 0x010203, passes: 0x0405, lanes: 0x0607, salt });
    assert.equal(bytes.length, 25);
    assert.deepEqual([...bytes.subarray(0, 9)], [1, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
    assert.deepEqual(bytes.subarray(9), salt);
    assert.deepEqual(decodeRecoveryParams(encodeRecoveryParams(ok)), ok);
  });

  test('defaults and limits are those documented', () => {
    assert.deepEqual({ ...RECOVERY_DEFAULTS }, { memoryKiB: 65536, passes: 3, lanes: 1 });
    assert.deepEqual({ ...RECOVERY_LIMITS }, { maxMemoryKiB: 1048576, maxPasses: 32, maxLanes: 8, minMemoryKiB: 8192 });
  });

  test('boundary values are accepted', () => {
    for (const p of [
      { ...ok, memoryKiB: RECOVERY_LIMITS.minMemoryKiB },
      { ...ok, memoryKiB: RECOVERY_LIMITS.maxMemoryKiB },
      { ...ok, passes: RECOVERY_LIMITS.maxPasses },
      { ...ok, lanes: RECOVERY_LIMITS.maxLanes },
    ]) {
      assert.deepEqual(decodeRecoveryParams(encodeRecoveryParams(p)), p);
    }
  });

  test('costs beyond the caps, an unknown version or a wrong length give E_FORMAT', () => {
    const bad: [string, Uint8Array, RegExp][] = [
      ['memory below the minimum', encodeRecoveryParams({ ...ok, memoryKiB: 8191 }), /memory 8191 KiB/],
      ['memory above the cap', encodeRecoveryParams({ ...ok, memoryKiB: RECOVERY_LIMITS.maxMemoryKiB + 1 }), /memory/],
      ['memory 4 GiB', encodeRecoveryParams({ ...ok, memoryKiB: 0xffffffff }), /memory/],
      ['zero passes', encodeRecoveryParams({ ...ok, passes: 0 }), /at least one pass/],
      ['passes above the cap', encodeRecoveryParams({ ...ok, passes: 33 }), /work factor/],
      ['passes 65535', encodeRecoveryParams({ ...ok, passes: 0xffff }), /work factor/],
      ['zero lanes', encodeRecoveryParams({ ...ok, lanes: 0 }), /lanes/],
      ['lanes above the cap', encodeRecoveryParams({ ...ok, lanes: 9 }), /lanes/],
      ['version 0', Uint8Array.of(0, ...encodeRecoveryParams(ok).subarray(1)), /unknown version 0/],
      ['version 2', Uint8Array.of(2, ...encodeRecoveryParams(ok).subarray(1)), /unknown version 2/],
      ['24 bytes', encodeRecoveryParams(ok).subarray(0, 24), /truncated/],
      ['26 bytes', Uint8Array.of(...encodeRecoveryParams(ok), 0), /trailing/],
      ['empty', new Uint8Array(0), /truncated/],
    ];
    for (const [name, bytes, pattern] of bad) {
      assert.throws(() => decodeRecoveryParams(bytes), formatError(pattern), name);
    }
  });

  test('a hostile cost is refused before any Argon2id work (deriveSecret and describe)', async () => {
    const hostile = encodeRecoveryParams({ ...ok, memoryKiB: 0xffffffff, passes: 0xffff });
    await assert.rejects(recoveryFactor.deriveSecret(hostile, pass('x')), formatError());
    assert.throws(() => recoveryFactor.describe(hostile), formatError());
    // Through the provider, a slot with malformed parameters is skipped, not fatal.
    const provider = factorProvider(pass('x'));
    assert.equal(await provider.secretsFor([{ name: 'recovery', params: hostile }], 0), undefined);
  });

  test('the secret is Argon2id(passphrase NFC UTF-8, salt) under the stored cost; empty or absent passphrase gives none', async () => {
    const share = await recoveryFactor.createShare(pass('pässword'));
    const params = decodeRecoveryParams(share.params);
    assert.equal(params.memoryKiB, 8192, 'BIOSEAL_ARGON2_MEMORY_KIB is recorded in the slot');
    assert.equal(params.passes, RECOVERY_DEFAULTS.passes);
    assert.equal(share.secret.length, 32);
    // NFC: a decomposed "ä" gives the same secret.
    const again = await recoveryFactor.deriveSecret(share.params, pass('pa\u0308ssword'));
    assert.deepEqual(again, share.secret);
    assert.deepEqual(await stretchPassphrase(passphraseBytes('pässword'), params), share.secret);
    assert.notDeepEqual(await recoveryFactor.deriveSecret(share.params, pass('password')), share.secret);
    assert.notDeepEqual(await stretchPassphrase(passphraseBytes('pässword'), { ...params, salt: new Uint8Array(16) }), share.secret);
    assert.equal(await recoveryFactor.deriveSecret(share.params, pass('')), undefined);
    assert.equal(await recoveryFactor.deriveSecret(share.params, {}), undefined);
    await assert.rejects(recoveryFactor.createShare({}), (e: unknown) => e instanceof BiosealError && e.code === 'E_USAGE');
    assert.deepEqual(recoveryFactor.describe(share.params), { kdf: 'argon2id', memoryKiB: 8192, passes: 3, lanes: 1 });
  });

  test('stretchPassphrase is plain Argon2id v0x13 (RFC 9106), checked against an independent implementation', async () => {
    const password = passphraseBytes('pässword');
    for (const p of [
      { memoryKiB: 64, passes: 1, lanes: 1, salt },
      { memoryKiB: 256, passes: 3, lanes: 2, salt: new Uint8Array(16).fill(0xa5) },
    ]) {
      const expected = argon2id(password, p.salt, { t: p.passes, m: p.memoryKiB, p: p.lanes, dkLen: 32, version: 0x13 });
      assert.deepEqual(await stretchPassphrase(password, p), expected);
    }
  });

  test('BIOSEAL_ARGON2_MEMORY_KIB outside the limits is a usage error', async () => {
    const saved = process.env.BIOSEAL_ARGON2_MEMORY_KIB;
    try {
      for (const v of ['1024', '2097152', 'lots', '8192.5']) {
        process.env.BIOSEAL_ARGON2_MEMORY_KIB = v;
        await assert.rejects(recoveryFactor.createShare(pass('x')), (e: unknown) => e instanceof BiosealError && e.code === 'E_USAGE', v);
      }
    } finally {
      process.env.BIOSEAL_ARGON2_MEMORY_KIB = saved;
    }
  });
});
