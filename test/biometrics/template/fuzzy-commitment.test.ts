/**
 * Fuzzy commitment (src/biometrics/template/fuzzy-commitment.ts): a template
 * close enough to the enrolled one (at most t differing bits per block)
 * reproduces the 32-byte secret, anything else gets nothing, and what is
 * stored does not give the template away.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  bchCode,
  commit,
  decodeMessages,
  messageBits,
  reproduce,
  templateLength,
  type CommitmentParams,
  type CommitmentRecord,
} from '../../../src/biometrics/template/fuzzy-commitment.js';
import { FACE_TEMPLATE_PARAMS } from '../../../src/enrolment/face.js';
import { Rng, flipBits, hamming } from './random.js';

/** The face code with a cheap Argon2id, so the tests measure the code, not the KDF. */
const P: CommitmentParams = { m: 8, t: 35, blocks: 2, kdfMemoryKiB: 64, kdfPasses: 1 };
const N = 255;

/** Flips `perBlock[b]` random bits inside block b. */
function noisy(template: Uint8Array, perBlock: readonly number[], rng: Rng, n = N): Uint8Array {
  let out = template;
  perBlock.forEach((count, b) => (out = flipBits(out, count, rng, [b * n, (b + 1) * n])));
  return out;
}

describe('commitment sizes', () => {
  test('templateLength = blocks * (2^m - 1); messageBits = blocks * k', () => {
    assert.equal(templateLength(P), 510);
    assert.equal(messageBits(P), 94);
    assert.equal(templateLength({ m: 9, blocks: 3 }), 1533);
    assert.equal(messageBits({ ...P, m: 8, t: 29, blocks: 3 }), 213);
    assert.equal(messageBits({ ...P, m: 5, t: 3, blocks: 4 }), 64);
    assert.equal(templateLength(FACE_TEMPLATE_PARAMS), 510, 'the default face template is 510 bits');
    assert.equal(messageBits(FACE_TEMPLATE_PARAMS), 94, 'the default face secret has at most 94 bits of message entropy');
  });
});

describe('commit and reproduce', () => {
  const rng = new Rng(11);
  const template = rng.bits(templateLength(P));
  let enrolled: { record: CommitmentRecord; secret: Uint8Array };

  test('commit returns a 32-byte secret and a record of the template size, 16-byte salt, 32-byte check', async () => {
    enrolled = await commit(template, P);
    assert.equal(enrolled.secret.length, 32);
    assert.equal(enrolled.record.commitment.length, template.length);
    assert.equal(enrolled.record.salt.length, 16);
    assert.equal(enrolled.record.check.length, 32);
    assert.deepEqual(enrolled.record.params, P);
  });

  test('the same template reproduces the same secret, with nothing corrected', async () => {
    const r = await reproduce(enrolled.record, template);
    assert.ok(r);
    assert.deepEqual(r.secret, enrolled.secret);
    assert.equal(r.corrected, 0);
  });

  test('up to t differing bits in every block reproduce the same secret', async () => {
    for (const perBlock of [[1, 0], [0, 35], [35, 35], [20, 34], [35, 1]]) {
      const r = await reproduce(enrolled.record, noisy(template, perBlock, rng));
      assert.ok(r, `errors per block ${perBlock}`);
      assert.deepEqual(r.secret, enrolled.secret);
      assert.equal(r.corrected, perBlock[0]! + perBlock[1]!);
    }
  });

  test('more than t differing bits in any one block give nothing, even when the total is small', async () => {
    for (const perBlock of [[36, 0], [0, 36], [40, 40], [0, 60], [127, 128]]) {
      assert.equal(await reproduce(enrolled.record, noisy(template, perBlock, rng)), undefined, `errors per block ${perBlock}`);
      assert.equal(decodeMessages(enrolled.record, noisy(template, perBlock, rng)), undefined);
    }
  });

  test('an unrelated template (a stranger) gives nothing', async () => {
    for (let i = 0; i < 20; i++) assert.equal(decodeMessages(enrolled.record, rng.bits(template.length)), undefined);
    assert.equal(await reproduce(enrolled.record, rng.bits(template.length)), undefined);
  });

  test('a wrong salt or check value gives nothing, even for the right template', async () => {
    const badSalt = { ...enrolled.record, salt: enrolled.record.salt.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    assert.equal(await reproduce(badSalt, template), undefined);
    const badCheck = { ...enrolled.record, check: enrolled.record.check.map((b, i) => (i === 31 ? b ^ 0x80 : b)) };
    assert.equal(await reproduce(badCheck, template), undefined);
    const otherKdf = { ...enrolled.record, params: { ...P, kdfPasses: 2 } };
    assert.equal(await reproduce(otherKdf, template), undefined, 'the KDF cost is part of the secret');
  });

  test('templates or commitments of the wrong length give nothing rather than throwing', async () => {
    assert.equal(decodeMessages(enrolled.record, template.subarray(1)), undefined);
    assert.equal(await reproduce(enrolled.record, new Uint8Array(template.length + 1)), undefined);
    const short = { ...enrolled.record, commitment: enrolled.record.commitment.subarray(0, 100) };
    assert.equal(await reproduce(short, template), undefined);
  });

  test('commit refuses a template of the wrong length', async () => {
    await assert.rejects(commit(template.subarray(0, 509), P), RangeError);
    await assert.rejects(commit(new Uint8Array(511), P), RangeError);
  });

  test('committing the same template twice gives fresh messages, salt and secret', async () => {
    const again = await commit(template, P);
    assert.notDeepEqual(again.secret, enrolled.secret);
    assert.notDeepEqual(again.record.salt, enrolled.record.salt);
    assert.notDeepEqual(again.record.commitment, enrolled.record.commitment);
    const r = await reproduce(again.record, template);
    assert.deepEqual(r?.secret, again.secret);
  });

  test('works for the other code sizes a record may name (m = 9, m = 5, three blocks)', async () => {
    for (const params of [
      { m: 9, t: 30, blocks: 1, kdfMemoryKiB: 64, kdfPasses: 1 },
      { m: 5, t: 3, blocks: 3, kdfMemoryKiB: 64, kdfPasses: 1 },
      { m: 8, t: 29, blocks: 3, kdfMemoryKiB: 64, kdfPasses: 1 },
    ]) {
      const n = bchCode(params.m, params.t).n;
      const tpl = rng.bits(templateLength(params));
      const c = await commit(tpl, params);
      const within = await reproduce(c.record, noisy(tpl, Array(params.blocks).fill(params.t), rng, n));
      assert.deepEqual(within?.secret, c.secret, `m=${params.m} t=${params.t}`);
      const beyond = noisy(tpl, [params.t + 1, ...Array(params.blocks - 1).fill(0)], rng, n);
      assert.equal(await reproduce(c.record, beyond), undefined, `m=${params.m} t=${params.t} beyond`);
    }
  });
});

describe('what the stored commitment reveals', () => {
  const rng = new Rng(12);
  const code = bchCode(P.m, P.t);

  test('commitment xor template is a codeword only for the enrolled template', async () => {
    const template = rng.bits(templateLength(P));
    const { record } = await commit(template, P);
    for (let b = 0; b < P.blocks; b++) {
      const right = record.commitment.slice(b * N, (b + 1) * N).map((v, i) => v ^ template[b * N + i]!);
      assert.equal(code.decode(right)?.corrected, 0, `block ${b}: right template gives an exact codeword`);
      for (let i = 0; i < 10; i++) {
        const other = rng.bits(N);
        const wrong = record.commitment.slice(b * N, (b + 1) * N).map((v, j) => v ^ other[j]!);
        assert.equal(code.decode(wrong), undefined, `block ${b}: an unrelated template is not near a codeword`);
      }
    }
  });

  test('the commitment is not the template and looks balanced (about half ones)', async () => {
    let ones = 0;
    let differing = 0;
    const runs = 8;
    for (let i = 0; i < runs; i++) {
      // A structured template (all zeros) would be exposed verbatim by a weak scheme.
      const template = new Uint8Array(templateLength(P));
      const { record } = await commit(template, P);
      ones += record.commitment.reduce((s, v) => s + v, 0);
      differing += hamming(record.commitment, template);
    }
    const share = ones / (runs * templateLength(P));
    assert.ok(share > 0.44 && share < 0.56, `share of ones ${share}`);
    assert.ok(differing / runs > 200, 'the commitment differs from the template in many bits');
  });

  test('the check value is not the secret, and neither appears in the record', async () => {
    const { record, secret } = await commit(rng.bits(templateLength(P)), P);
    assert.notDeepEqual(record.check, secret);
    const all = Buffer.concat([Buffer.from(record.commitment), Buffer.from(record.salt), Buffer.from(record.check)]);
    assert.equal(all.indexOf(Buffer.from(secret)), -1);
  });
});
