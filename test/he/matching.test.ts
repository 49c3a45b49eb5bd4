/**
 * Encrypted template matching: the scores the key holder decrypts equal the
 * plaintext inner products (1:1 at 128, 512 and 1024 dimensions; 1:N over
 * packed gallery groups, a partial group included), another device's key
 * reads garbage, the service works from evaluation keys alone, and SEAL's
 * memory stays bounded over many operations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  chunkTemplates,
  HeContext,
  HeEnroller,
  HeKeyHolder,
  HeKind,
  HeMatcher,
  innerProduct,
  readEncrypted,
  readEvaluationKeys,
  unitVector,
  type EvaluationKeys,
} from '../../src/he/index.js';
import { FormatError } from '../../src/errors.js';
import { wasmMemoryBytes } from '../helpers/wasm-memory.js';

const TOLERANCE = 1e-4;

/** A deterministic pseudo-random generator (xorshift), so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Embedding-like unit vectors: Gaussian components (Box-Muller), normalised. */
function randomUnit(d: number, next: () => number): Float64Array {
  const v = Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()));
  return unitVector(v);
}

/** A probe near `template`, like a second photo of the same face (cosine about 0.8). */
function nearby(template: Float64Array, next: () => number): Float64Array {
  const noise = randomUnit(template.length, next);
  return unitVector(template.map((x, i) => x + 0.75 * noise[i]!));
}

let ctx: HeContext;
let device: HeKeyHolder;
let other: HeKeyHolder;
let keys: EvaluationKeys;
let matcher: HeMatcher;

before(async () => {
  ctx = await HeContext.create();
  device = HeKeyHolder.generate(ctx, { search: true });
  other = HeKeyHolder.generate(ctx);
  keys = readEvaluationKeys(ctx, device.evaluationKeys());
  matcher = new HeMatcher(keys);
});
after(() => {
  keys.dispose();
  device.dispose();
  other.dispose();
  ctx.dispose();
});

/** The service's 1:1 match on bytes, as it would run behind an endpoint. */
function serviceMatch(probeBytes: Uint8Array, templateBytes: Uint8Array): Uint8Array {
  const probe = readEncrypted(ctx, probeBytes, HeKind.matchVector);
  const template = readEncrypted(ctx, templateBytes, HeKind.matchVector);
  try {
    return matcher.match(probe, template).toBytesAndDispose();
  } finally {
    probe.dispose();
    template.dispose();
  }
}

describe('1:1 encrypted match', () => {
  for (const dims of [128, 512, 1024]) {
    test(`the decrypted score equals the plaintext inner product within 1e-4 at ${dims} dimensions`, () => {
      const next = prng(dims);
      for (let i = 0; i < 3; i++) {
        const enrolled = randomUnit(dims, next);
        const probe = i === 0 ? nearby(enrolled, next) : randomUnit(dims, next);
        const score = device.decryptMatchScore(serviceMatch(device.encryptMatchVector(probe), device.encryptMatchVector(enrolled)));
        assert.ok(Math.abs(score - innerProduct(probe, enrolled)) < TOLERANCE, `score ${score} vs ${innerProduct(probe, enrolled)}`);
      }
    });
  }

  test('a template encrypted with the public key alone (enrolment station) matches as well', () => {
    const next = prng(7);
    const enrolled = randomUnit(512, next);
    const probe = nearby(enrolled, next);
    const enroller = new HeEnroller(keys);
    try {
      const score = device.decryptMatchScore(serviceMatch(device.encryptMatchVector(probe), enroller.encryptMatchTemplate(enrolled)));
      assert.ok(Math.abs(score - innerProduct(probe, enrolled)) < TOLERANCE);
    } finally {
      enroller.dispose();
    }
  });

  test('embeddings are scaled to unit length before encryption', () => {
    const next = prng(8);
    const a = randomUnit(128, next);
    const b = randomUnit(128, next);
    const score = device.decryptMatchScore(serviceMatch(device.encryptMatchVector(a.map((x) => 37 * x)), device.encryptMatchVector(b)));
    assert.ok(Math.abs(score - innerProduct(a, b)) < TOLERANCE);
  });

  test('probe and template of different dimensions are refused', () => {
    const next = prng(9);
    assert.throws(() => serviceMatch(device.encryptMatchVector(randomUnit(128, next)), device.encryptMatchVector(randomUnit(512, next))), RangeError);
  });

  test('unusable embeddings are refused before encryption', () => {
    assert.throws(() => device.encryptMatchVector([]), RangeError);
    assert.throws(() => device.encryptMatchVector([0, 0, 0]), RangeError);
    assert.throws(() => device.encryptMatchVector([1, Number.NaN]), RangeError);
    assert.throws(() => device.encryptMatchVector([1, Number.POSITIVE_INFINITY]), RangeError);
    assert.throws(() => device.encryptMatchVector(new Float64Array(4096).fill(1)), RangeError);
  });

  test("another device's key decrypts a score to garbage, far from the true score", () => {
    const next = prng(10);
    for (let i = 0; i < 3; i++) {
      const a = randomUnit(512, next);
      const b = nearby(a, next);
      const scoreBytes = serviceMatch(device.encryptMatchVector(a), device.encryptMatchVector(b));
      const truth = innerProduct(a, b);
      assert.ok(Math.abs(device.decryptMatchScore(scoreBytes) - truth) < TOLERANCE);
      const wrong = other.decryptMatchScore(scoreBytes);
      assert.ok(!(Math.abs(wrong - truth) < 1e-3), `another key read ${wrong}, the score is ${truth}`);
    }
  });
});

describe('1:N encrypted search', () => {
  test('packed gallery groups give the plaintext scores of every template, a partial group included', () => {
    const next = prng(11);
    const dims = 128;
    const layout = keys.searchLayout(dims);
    const gallery = Array.from({ length: 2 * layout.groupSize + 5 }, () => randomUnit(dims, next));
    const probe = nearby(gallery[70]!, next);
    const enroller = new HeEnroller(keys);
    const groups = chunkTemplates(gallery, layout.groupSize).map((g) => readEncrypted(ctx, enroller.encryptGalleryGroup(g), HeKind.galleryGroup));
    enroller.dispose();
    const query = readEncrypted(ctx, device.encryptSearchQuery(probe), HeKind.searchQuery);
    try {
      const results = matcher.search(query, groups).map((r) => device.decryptSearchScores(r.toBytesAndDispose()));
      assert.deepEqual(results.map((r) => r.length), [layout.groupSize, layout.groupSize, 5]);
      const scores = results.flatMap((r) => [...r]);
      scores.forEach((s, i) => assert.ok(Math.abs(s - innerProduct(probe, gallery[i]!)) < TOLERANCE, `template ${i}: ${s}`));
      assert.equal(scores.indexOf(Math.max(...scores)), 70);
    } finally {
      query.dispose();
      for (const g of groups) g.dispose();
    }
  });

  test('1024-dimensional templates search the same as in plaintext', () => {
    const next = prng(12);
    const dims = 1024;
    const gallery = Array.from({ length: 20 }, () => randomUnit(dims, next));
    const probe = randomUnit(dims, next);
    const enroller = new HeEnroller(keys);
    const group = readEncrypted(ctx, enroller.encryptGalleryGroup(gallery), HeKind.galleryGroup);
    enroller.dispose();
    const query = readEncrypted(ctx, device.encryptSearchQuery(probe), HeKind.searchQuery);
    try {
      const [result] = matcher.search(query, [group]);
      const scores = device.decryptSearchScores(result!.toBytesAndDispose());
      scores.forEach((s, i) => assert.ok(Math.abs(s - innerProduct(probe, gallery[i]!)) < TOLERANCE));
    } finally {
      query.dispose();
      group.dispose();
    }
  });

  test("another key holder's key reads every score of a group as garbage", () => {
    const next = prng(13);
    const gallery = Array.from({ length: 64 }, () => randomUnit(128, next));
    const probe = randomUnit(128, next);
    const enroller = new HeEnroller(keys);
    const group = readEncrypted(ctx, enroller.encryptGalleryGroup(gallery), HeKind.galleryGroup);
    enroller.dispose();
    const query = readEncrypted(ctx, device.encryptSearchQuery(probe), HeKind.searchQuery);
    const [result] = matcher.search(query, [group]);
    query.dispose();
    group.dispose();
    const wrong = other.decryptSearchScores(result!.toBytesAndDispose());
    const errors = [...wrong].map((s, i) => Math.abs(s - innerProduct(probe, gallery[i]!)));
    assert.ok(errors.filter((e) => e > 1e-2).length > 60, `errors ${errors.slice(0, 5)}`);
  });

  test('search needs keys made for it, and matching layouts', () => {
    const plainKeys = readEvaluationKeys(ctx, other.evaluationKeys());
    try {
      assert.equal(plainKeys.galoisKeys, null);
      assert.throws(() => new HeEnroller(plainKeys).encryptGalleryGroup([[1, 2, 3]]), RangeError);
      assert.throws(() => other.encryptSearchQuery([1, 2, 3]), RangeError);
    } finally {
      plainKeys.dispose();
    }
    const narrow = HeKeyHolder.generate(ctx, { search: 16 });
    const narrowQuery = readEncrypted(ctx, narrow.encryptSearchQuery([1, 2, 3]), HeKind.searchQuery);
    try {
      assert.throws(() => matcher.search(narrowQuery, []), RangeError);
    } finally {
      narrowQuery.dispose();
      narrow.dispose();
    }
  });
});

describe('the service never needs the secret key', () => {
  test('a matcher in another thread, given only evaluation keys and ciphertexts, returns a score the device decrypts', async () => {
    const next = prng(14);
    const a = randomUnit(512, next);
    const b = nearby(a, next);
    const probe = device.encryptMatchVector(a);
    const template = device.encryptMatchVector(b);
    const heUrl = new URL('../../src/he/index.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const he = await import(workerData.heUrl);
        const ctx = await he.HeContext.create();
        const keys = he.readEvaluationKeys(ctx, workerData.evaluationKeys);
        const matcher = new he.HeMatcher(keys);
        const score = matcher.match(he.readEncrypted(ctx, workerData.probe, he.HeKind.matchVector), he.readEncrypted(ctx, workerData.template, he.HeKind.matchVector));
        parentPort.postMessage({ score: score.toBytes(), methods: Object.getOwnPropertyNames(Object.getPrototypeOf(matcher)) });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    const worker = new Worker(code, { eval: true, workerData: { heUrl, evaluationKeys: device.evaluationKeys(), probe, template } });
    const reply = await new Promise<{ score?: Uint8Array; methods?: string[]; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(reply.error, undefined);
    assert.deepEqual(reply.methods!.filter((m) => /decrypt|secret/i.test(m)), []);
    assert.ok(Math.abs(device.decryptMatchScore(reply.score!) - innerProduct(a, b)) < TOLERANCE);
  });

  test('evaluation keys carry no secret key and refuse to be one', () => {
    const secret = device.exportSecretKey();
    const evaluation = Buffer.from(device.evaluationKeys());
    // 64 bytes of the secret key's coefficients, from the middle of its SEAL serialisation.
    const window = Buffer.from(secret.subarray(secret.length - 20_000, secret.length - 19_936));
    assert.equal(evaluation.indexOf(window), -1);
    assert.throws(() => readEvaluationKeys(ctx, secret), FormatError);
    assert.throws(() => HeKeyHolder.fromSecretKey(ctx, device.evaluationKeys()), FormatError);
  });

  test('an exported secret key restores a key holder that decrypts the same scores', () => {
    const next = prng(15);
    const a = randomUnit(256, next);
    const b = randomUnit(256, next);
    const scoreBytes = serviceMatch(device.encryptMatchVector(a), device.encryptMatchVector(b));
    const restored = HeKeyHolder.fromSecretKey(ctx, device.exportSecretKey());
    try {
      assert.ok(Math.abs(restored.decryptMatchScore(scoreBytes) - innerProduct(a, b)) < TOLERANCE);
    } finally {
      restored.dispose();
    }
  });
});

test('SEAL memory stays bounded over many match cycles (every object freed)', () => {
  const next = prng(16);
  const probe = device.encryptMatchVector(randomUnit(512, next));
  const template = device.encryptMatchVector(randomUnit(512, next));
  const cycle = () => device.decryptMatchScore(serviceMatch(probe, template));
  for (let i = 0; i < 30; i++) cycle();
  const before = wasmMemoryBytes();
  // Each cycle loads two ciphertexts into SEAL's memory and makes a result: a
  // leak of any one of them over 150 cycles would grow it by 150 times its size.
  for (let i = 0; i < 150; i++) cycle();
  const grown = wasmMemoryBytes() - before;
  assert.ok(grown < 20 * probe.length, `SEAL's memory grew by ${(grown / 1e6).toFixed(1)} MB`);
});
