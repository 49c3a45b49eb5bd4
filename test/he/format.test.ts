/**
 * Reading encrypted-matching objects from untrusted bytes: truncated,
 * damaged, oversized, of another kind, or made under other parameters, they
 * are refused with FormatError, and never crash SEAL (which aborts on
 * inconsistent input if it ever sees it): after every refusal a normal match
 * still works. Includes an attacker who recomputes the envelope digest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { HE_PARAMETERS, HeContext, HeKeyHolder, HeKind, HeMatcher, MAX_ENVELOPE_BYTES, readEncrypted, readEvaluationKeys, unitVector, type EvaluationKeys } from '../../src/he/index.js';
import { FormatError } from '../../src/errors.js';

let ctx: HeContext;
let device: HeKeyHolder;
let keys: EvaluationKeys;
let matcher: HeMatcher;
let probe: Uint8Array;
let score: Uint8Array;

const vector = (d: number, phase = 0) => unitVector(Array.from({ length: d }, (_, i) => Math.sin(i * 0.37 + phase)));

before(async () => {
  ctx = await HeContext.create();
  device = HeKeyHolder.generate(ctx, { search: true });
  keys = readEvaluationKeys(ctx, device.evaluationKeys());
  matcher = new HeMatcher(keys);
  probe = device.encryptMatchVector(vector(128));
  score = matchBytes(probe, device.encryptMatchVector(vector(128, 1)));
});
after(() => {
  keys.dispose();
  device.dispose();
  ctx.dispose();
});

function matchBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const x = readEncrypted(ctx, a, HeKind.matchVector);
  const y = readEncrypted(ctx, b, HeKind.matchVector);
  try {
    return matcher.match(x, y).toBytesAndDispose();
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** SEAL still works: a real match decrypts to the right score. */
function assertSealHealthy(): void {
  const s = device.decryptMatchScore(matchBytes(probe, probe));
  assert.ok(Math.abs(s - 1) < 1e-4, `self-match ${s}`);
}

/** The envelope with its SHA-256 recomputed, as an attacker would. */
function redigest(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(createHash('sha256').update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

const isFormat = (pattern?: RegExp) => (e: unknown) => e instanceof FormatError && e.code === 'E_FORMAT' && (!pattern || pattern.test(e.message));

/** Offset of the first SEAL part in an envelope with `parts` parts. */
const partOffset = (parts: number) => 56 + 4 * parts;

describe('encrypted objects from untrusted bytes', () => {
  test('a whole object reads back; its re-serialisation reads back too', () => {
    const x = readEncrypted(ctx, probe, HeKind.matchVector);
    const again = x.toBytesAndDispose();
    readEncrypted(ctx, again, HeKind.matchVector).dispose();
  });

  test('truncated at any length: FormatError', () => {
    for (const n of [0, 1, 3, 40, 56, 60, 100, 5000, probe.length - 33, probe.length - 32, probe.length - 1]) {
      assert.throws(() => readEncrypted(ctx, probe.subarray(0, n), HeKind.matchVector), isFormat(), `length ${n}`);
    }
    assert.throws(() => readEncrypted(ctx, new Uint8Array([...probe, 0]), HeKind.matchVector), isFormat());
    assertSealHealthy();
  });

  test('any damaged byte is caught by the digest', () => {
    for (const at of [0, 4, 5, 8, 40, 56, 61, 120, 70_000, probe.length - 100, probe.length - 1]) {
      const bad = Uint8Array.from(probe);
      bad[at]! ^= 0x5a;
      assert.throws(() => readEncrypted(ctx, bad, HeKind.matchVector), isFormat(), `byte ${at}`);
    }
  });

  test('an attacker who recomputes the digest still cannot get inconsistent bytes to SEAL', () => {
    const start = partOffset(1);
    // Every byte of the SEAL structure before the coefficients, and the seed's header.
    const positions = [...Array(140).keys()].map((i) => start + i);
    const seedHeader = probe.length - 32 - 81;
    positions.push(...[...Array(17).keys()].map((i) => seedHeader + i));
    for (const at of positions) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(probe);
        bad[at]! ^= flip;
        try {
          readEncrypted(ctx, redigest(bad), HeKind.matchVector).dispose();
        } catch (error) {
          assert.ok(isFormat()(error), `byte ${at - start} of the ciphertext: ${String(error)}`);
        }
      }
    }
    // Coefficients pushed out of range: refused before SEAL.
    const bad = Uint8Array.from(probe);
    bad.fill(0xff, start + 113 + 8 * 100, start + 113 + 8 * 101);
    assert.throws(() => readEncrypted(ctx, redigest(bad), HeKind.matchVector), isFormat(/out of range/));
    // Truncated inside a well-formed envelope: the envelope is consistent, the ciphertext is not.
    const part = probe.subarray(start, probe.length - 32);
    for (const cut of [10, 16, 60, 113, 5000, part.length - 1]) {
      const envelope = new Uint8Array(start + cut + 32);
      envelope.set(probe.subarray(0, start));
      new DataView(envelope.buffer).setUint32(56, cut, true);
      envelope.set(part.subarray(0, cut), start);
      assert.throws(() => readEncrypted(ctx, redigest(envelope), HeKind.matchVector), isFormat(), `cut at ${cut}`);
    }
    assertSealHealthy();
  });

  test('random damage with a recomputed digest never crashes (fuzz)', () => {
    let seed = 12345;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const bad = Uint8Array.from(probe);
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(next() * (probe.length - 32))] = Math.floor(next() * 256);
      try {
        readEncrypted(ctx, redigest(bad), HeKind.matchVector).dispose();
      } catch (error) {
        assert.ok(isFormat()(error), String(error));
      }
    }
    assertSealHealthy();
  });

  test('another kind, or a kind field changed, is refused', () => {
    assert.throws(() => readEncrypted(ctx, probe, HeKind.searchQuery), isFormat(/not a searchQuery/));
    assert.throws(() => readEncrypted(ctx, probe, HeKind.matchScore), isFormat());
    assert.throws(() => readEncrypted(ctx, score, HeKind.matchVector), isFormat());
    const relabelled = Uint8Array.from(probe);
    relabelled[5] = HeKind.matchScore;
    assert.throws(() => readEncrypted(ctx, redigest(relabelled), HeKind.matchScore), isFormat());
    const widened = Uint8Array.from(probe);
    new DataView(widened.buffer).setUint32(40, 129, true);
    // Dimensions are not checkable from the ciphertext, so a changed count is accepted as stated; out of range is not.
    readEncrypted(ctx, redigest(widened), HeKind.matchVector).dispose();
    new DataView(widened.buffer).setUint32(40, 5000, true);
    assert.throws(() => readEncrypted(ctx, redigest(widened), HeKind.matchVector), isFormat(/dimensions/));
  });

  test('oversized input is refused before it is read', () => {
    const huge = new Uint8Array(MAX_ENVELOPE_BYTES + 1);
    huge.set(probe.subarray(0, 56));
    assert.throws(() => readEncrypted(ctx, huge, HeKind.matchVector), isFormat(/allowed/));
  });

  test('objects made under other parameters are refused', async () => {
    const otherCtx = await HeContext.create({ ...HE_PARAMETERS, name: 'ckks-n8192-q60.40.60-s40', coeffModulusBits: [60, 40, 60], securityBits: 128 });
    const otherDevice = HeKeyHolder.generate(otherCtx);
    try {
      const foreign = otherDevice.encryptMatchVector(vector(128));
      assert.throws(() => readEncrypted(ctx, foreign, HeKind.matchVector), isFormat(/other encryption parameters/));
      assert.throws(() => readEvaluationKeys(ctx, otherDevice.evaluationKeys()), isFormat(/other encryption parameters/));
      // The foreign SEAL ciphertext relabelled with this parameter set's fingerprint: SEAL's parms_id differs.
      const relabelled = Uint8Array.from(foreign);
      relabelled.set(ctx.fingerprint, 8);
      assert.throws(() => readEncrypted(ctx, redigest(relabelled), HeKind.matchVector), isFormat());
      assertSealHealthy();
    } finally {
      otherDevice.dispose();
      otherCtx.dispose();
    }
  });

  test('parameter sets below the security level SEAL enforces do not load', async () => {
    await assert.rejects(HeContext.create({ ...HE_PARAMETERS, coeffModulusBits: [60, 60, 60], securityBits: 192 }), isFormat());
  });

  test('search results and gallery groups are checked the same way', () => {
    const bytes = device.encryptSearchQuery(vector(100));
    const query = readEncrypted(ctx, bytes, HeKind.searchQuery);
    query.dispose();
    assert.throws(() => readEncrypted(ctx, bytes.subarray(0, bytes.length - 1), HeKind.searchQuery), isFormat());
    const oneShort = Uint8Array.from(bytes);
    new DataView(oneShort.buffer).setUint32(44, 128, true); // another chunk: the part count no longer fits
    assert.throws(() => readEncrypted(ctx, redigest(oneShort), HeKind.searchQuery), isFormat());
    const badChunk = Uint8Array.from(bytes);
    new DataView(badChunk.buffer).setUint32(44, 48, true);
    assert.throws(() => readEncrypted(ctx, redigest(badChunk), HeKind.searchQuery), isFormat(/power of two/));
  });
});

describe('keys from untrusted bytes', () => {
  test('evaluation keys: truncated, damaged, or with Galois keys for another layout: FormatError', () => {
    const evk = device.evaluationKeys();
    assert.throws(() => readEvaluationKeys(ctx, evk.subarray(0, evk.length - 1)), isFormat());
    const bad = Uint8Array.from(evk);
    bad[1000]! ^= 1;
    assert.throws(() => readEvaluationKeys(ctx, bad), isFormat(/digest/));
    const otherLayout = Uint8Array.from(evk);
    new DataView(otherLayout.buffer).setUint32(40, 64, true);
    assert.throws(() => readEvaluationKeys(ctx, redigest(otherLayout)), isFormat(/slot/));
    const noSearch = Uint8Array.from(evk);
    new DataView(noSearch.buffer).setUint32(40, 0, true);
    assert.throws(() => readEvaluationKeys(ctx, redigest(noSearch)), isFormat(/parts/));
    // A relinearisation key's structure altered behind a recomputed digest.
    for (const at of [16, 48, 56, 64, 80, 120]) {
      const damaged = Uint8Array.from(evk);
      const rkStart = 56 + 12 + new DataView(evk.buffer, evk.byteOffset).getUint32(56, true);
      damaged[rkStart + at]! ^= 0x10;
      assert.throws(() => readEvaluationKeys(ctx, redigest(damaged)), isFormat(), `byte ${at}`);
    }
    assertSealHealthy();
  });

  test('a secret key: truncated or damaged is refused; bytes from elsewhere are refused', () => {
    const secret = device.exportSecretKey();
    assert.throws(() => HeKeyHolder.fromSecretKey(ctx, secret.subarray(0, 100)), isFormat());
    const bad = Uint8Array.from(secret);
    bad[partOffset(1) + 60]! ^= 0x40;
    assert.throws(() => HeKeyHolder.fromSecretKey(ctx, redigest(bad)), isFormat());
    assert.throws(() => HeKeyHolder.fromSecretKey(ctx, probe), isFormat(/not a secretKey/));
    assertSealHealthy();
  });
});
