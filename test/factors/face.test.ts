/**
 * The `face` factor (src/factors/face.ts) through the container: a model
 * sealed under "face & keyfile" opens for the enrolled face with the key
 * file, and for nobody else; a face may not stand alone in a policy unless
 * forced; failed face attempts are rate limited (5 free, then 30 s and
 * more, persisted); re-enrolling revokes slots made with the old template.
 * Faces are synthetic analyses (test/enrolment/synthetic.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

// Cheap Argon2id for the recovery slots sealed alongside face slots (read when a slot is made).
process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

import { AuthError, BiosealError, RateLimitError } from '../../src/errors.js';
import { enrolFace } from '../../src/enrolment/face.js';
import { faceFactor } from '../../src/factors/face.js';
import type { FaceInput } from '../../src/factors/inputs.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { checkPolicyBranches, findFactor, listFactors } from '../../src/factors/registry.js';
import { inspectModel, openModel, sealModel } from '../../src/index.js';
import { parsePolicy } from '../../src/policy/expression.js';
import { CHEAP_PARAMS, Person } from '../enrolment/synthetic.js';
import { biosealError, tempHome } from '../enrolment/helpers.js';
import { lastFailureAt } from '../helpers/attempts.js';

const owner = new Person(3001);
const stranger = new Person(3002);
const model = new Uint8Array(randomBytes(70_000));
const keyFile = new Uint8Array(randomBytes(32));

/** A FaceInput presenting one fresh capture of `who`, counting how often it was asked. */
function faceOf(who: Person, enrolment?: string): FaceInput & { calls: number } {
  const input = {
    enrolment,
    calls: 0,
    async capture() {
      input.calls++;
      return [who.capture()];
    },
  };
  return input;
}

async function opens(file: string, home: string, who: Person | undefined, keyFiles = [keyFile]): Promise<true | string> {
  try {
    const opened = await openModel(file, { home, keyFiles, face: who ? faceOf(who) : undefined, useIdentities: false });
    try {
      assert.deepEqual(opened.bytes, model);
    } finally {
      opened.release();
    }
    return true;
  } catch (error) {
    if (error instanceof BiosealError) return error.code;
    throw error;
  }
}

async function enrolled(home: string, who = owner, name = 'default'): Promise<string> {
  const r = await enrolFace({ home, name, samples: who.samples(4), params: CHEAP_PARAMS, overwrite: true });
  return r.enrolment.id;
}

describe('the face factor', () => {
  test('is registered, named "face", never standalone, and tried after cheaper factors', () => {
    assert.equal(findFactor('face'), faceFactor);
    assert.ok(listFactors().includes(faceFactor));
    assert.equal(faceFactor.standalone, false);
    assert.ok(faceFactor.cost > findFactor('keyfile')!.cost);
    assert.ok(faceFactor.cost > findFactor('recovery')!.cost);
  });

  test('policy: a branch of face alone is E_POLICY unless forced; paired it is fine', () => {
    for (const policy of ['face', 'face | keyfile', 'keyfile | face']) {
      assert.throws(() => checkPolicyBranches(parsePolicy(policy)), biosealError('E_POLICY', /face/), policy);
      assert.doesNotThrow(() => checkPolicyBranches(parsePolicy(policy), { allowWeakBranch: true }));
    }
    for (const policy of ['face & keyfile', 'face & recovery', '(face & keyfile) | recovery']) {
      assert.doesNotThrow(() => checkPolicyBranches(parsePolicy(policy)), policy);
    }
  });

  test('slot parameters are 48 bytes (enrolment id | check value); malformed ones are E_FORMAT', async () => {
    const h = tempHome();
    try {
      const id = await enrolled(h.home);
      const share = await faceFactor.createShare({ home: h.home, face: faceOf(owner) });
      assert.equal(share.params.length, 48);
      assert.equal(Buffer.from(share.params.subarray(0, 16)).toString('hex'), id);
      assert.equal(share.secret.length, 32);
      assert.deepEqual(faceFactor.describe(share.params), { enrolment: id });
      for (const bad of [new Uint8Array(0), share.params.subarray(1), new Uint8Array(49)]) {
        await assert.rejects(faceFactor.deriveSecret(bad, { home: h.home, face: faceOf(owner) }), biosealError('E_FORMAT'));
        assert.throws(() => faceFactor.describe(bad), biosealError('E_FORMAT'));
      }
      assert.equal(await faceFactor.deriveSecret(share.params, { home: h.home }), undefined, 'no face given: the slot is skipped');
      assert.deepEqual(await faceFactor.deriveSecret(share.params, { home: h.home, face: faceOf(owner) }), share.secret);
    } finally {
      h.cleanup();
    }
  });
});

describe('sealModel / openModel with "face & keyfile"', () => {
  const h = tempHome();
  const file = () => path.join(path.dirname(h.home), 'model.bseal');
  let enrolmentId: string;
  before(async () => {
    enrolmentId = await enrolled(h.home);
    await sealModel({ input: model, output: file(), policies: ['face & keyfile'], keyFiles: [keyFile], face: faceOf(owner), home: h.home, useIdentities: false });
  });
  after(() => h.cleanup());

  test('the owner with the key file opens it', async () => {
    assert.equal(await opens(file(), h.home, owner), true);
  });

  test('a stranger with the key file gets E_AUTH; so does the owner without it, and the key file alone', async () => {
    assert.equal(await opens(file(), h.home, stranger), 'E_AUTH');
    assert.equal(await opens(file(), h.home, owner, []), 'E_AUTH');
    assert.equal(await opens(file(), h.home, undefined), 'E_AUTH');
    assert.equal(await opens(file(), h.home, owner, [new Uint8Array(randomBytes(32))]), 'E_AUTH');
    await assert.rejects(openModel(file(), { home: h.home, keyFiles: [keyFile], face: faceOf(stranger), useIdentities: false }), (e) => e instanceof AuthError);
    new AttemptLimiter(h.home).recordSuccess(`face:${enrolmentId}`);
  });

  test('why a face was refused (no match, or the liveness check) goes to onRefusal, never into the error', async () => {
    const heard: string[] = [];
    const onRefusal = (factor: string, reason: string) => void heard.push(`${factor}: ${reason}`);
    const attempt = (face: FaceInput) => openModel(file(), { home: h.home, keyFiles: [keyFile], face, useIdentities: false, onRefusal });
    const quiet = (e: unknown) => e instanceof AuthError && !/match|liveness|anti-spoof/.test(`${e.message} ${e.hint ?? ''}`);
    await assert.rejects(attempt(faceOf(stranger)), quiet);
    assert.deepEqual(heard, ['face: the face does not match the enrolment']);
    const printedPhoto: FaceInput = { capture: async () => [owner.capture({ antispoof: 0.1 })] };
    await assert.rejects(attempt(printedPhoto), quiet);
    assert.equal(heard.length, 2);
    assert.match(heard[1]!, /^face: anti-spoof score 0\.10 below /);
    (await attempt(faceOf(owner))).release();
    assert.equal(heard.length, 2, 'an accepted face is not reported');
    new AttemptLimiter(h.home).recordSuccess(`face:${enrolmentId}`);
  });

  test('inspect shows the face factor and the enrolment it was made with, nothing else', async () => {
    const d = await inspectModel(file());
    assert.equal(d.slots.length, 1);
    assert.deepEqual(d.slots[0]!.factors, ['face', 'keyfile']);
    assert.deepEqual(d.slots[0]!.details[0], { enrolment: enrolmentId });
  });

  test('sealing with a stranger\'s face makes no slot and no file (E_USAGE), and counts as a failed attempt', async () => {
    const out = path.join(path.dirname(h.home), 'stranger.bseal');
    await assert.rejects(
      sealModel({ input: model, output: out, policies: ['face & keyfile'], keyFiles: [keyFile], face: faceOf(stranger), home: h.home, useIdentities: false }),
      biosealError('E_USAGE', /does not match/),
    );
    assert.equal(existsSync(out), false);
    const l = new AttemptLimiter(h.home);
    assert.equal(l.failures(`face:${enrolmentId}`), 1);
    l.recordSuccess(`face:${enrolmentId}`);
  });

  test('sealing without a face, or naming an enrolment that does not exist, is E_USAGE', async () => {
    const out = path.join(path.dirname(h.home), 'none.bseal');
    await assert.rejects(sealModel({ input: model, output: out, policies: ['face & keyfile'], keyFiles: [keyFile], home: h.home }), biosealError('E_USAGE', /--face/));
    await assert.rejects(
      sealModel({ input: model, output: out, policies: ['face & keyfile'], keyFiles: [keyFile], face: faceOf(owner, 'nobody'), home: h.home }),
      biosealError('E_USAGE', /no face enrolment named "nobody"/),
    );
    assert.equal(existsSync(out), false);
  });

  test('the face is captured only when a face slot is tried (a cheaper slot opens first)', async () => {
    const out = path.join(path.dirname(h.home), 'either.bseal');
    await sealModel({ input: model, output: out, policies: ['keyfile | face & recovery'], keyFiles: [keyFile], passphrase: 'pw', face: faceOf(owner), home: h.home, useIdentities: false });
    const face = faceOf(owner);
    const opened = await openModel(out, { home: h.home, keyFiles: [keyFile], face, useIdentities: false });
    opened.release();
    assert.equal(face.calls, 0);
  });
});

describe('a face alone', () => {
  test('"face" is refused as E_POLICY, and seals and opens only when forced (allowWeakPolicy)', async () => {
    const h = tempHome();
    try {
      await enrolled(h.home);
      const out = path.join(path.dirname(h.home), 'weak.bseal');
      await assert.rejects(sealModel({ input: model, output: out, policies: ['face'], face: faceOf(owner), home: h.home }), biosealError('E_POLICY'));
      assert.equal(existsSync(out), false);
      await sealModel({ input: model, output: out, policies: ['face'], face: faceOf(owner), home: h.home, allowWeakPolicy: true, useIdentities: false });
      assert.equal(await opens(out, h.home, owner, []), true);
      assert.equal(await opens(out, h.home, stranger, []), 'E_AUTH');
    } finally {
      h.cleanup();
    }
  });
});

describe('revocation', () => {
  test('re-enrolling the same name revokes the old template: its slots no longer open, other slots still do', async () => {
    const h = tempHome();
    try {
      await enrolled(h.home);
      const out = path.join(path.dirname(h.home), 'revoked.bseal');
      await sealModel({ input: model, output: out, policies: ['face & keyfile | recovery'], keyFiles: [keyFile], passphrase: 'recovery words', face: faceOf(owner), home: h.home, useIdentities: false });
      assert.equal(await opens(out, h.home, owner), true);
      await enrolled(h.home); // same person, same name: a new transform and secret
      assert.equal(await opens(out, h.home, owner), 'E_AUTH');
      const opened = await openModel(out, { home: h.home, passphrase: 'recovery words', useIdentities: false });
      assert.deepEqual(opened.bytes, model);
      opened.release();
    } finally {
      h.cleanup();
    }
  });

  test('removing the enrolment makes its slots unusable (E_AUTH, not a crash)', async () => {
    const h = tempHome();
    try {
      await enrolled(h.home);
      const out = path.join(path.dirname(h.home), 'removed.bseal');
      await sealModel({ input: model, output: out, policies: ['face & keyfile'], keyFiles: [keyFile], face: faceOf(owner), home: h.home, useIdentities: false });
      const { removeFaceEnrolment } = await import('../../src/enrolment/face-record.js');
      removeFaceEnrolment(h.home, 'default');
      assert.equal(await opens(out, h.home, owner), 'E_AUTH');
    } finally {
      h.cleanup();
    }
  });
});

describe('rate limiting of face attempts', () => {
  async function sealed(h: { home: string }): Promise<{ file: string; key: string }> {
    const id = await enrolled(h.home);
    const file = path.join(path.dirname(h.home), 'rl.bseal');
    await sealModel({ input: model, output: file, policies: ['face & keyfile'], keyFiles: [keyFile], face: faceOf(owner), home: h.home, useIdentities: false });
    return { file, key: `face:${id}` };
  }

  test('after 5 failed face attempts the 6th is E_RATE_LIMIT, even for the owner, with retryAfterMs', async () => {
    const h = tempHome();
    try {
      const { file, key } = await sealed(h);
      for (let i = 0; i < 5; i++) assert.equal(await opens(file, h.home, stranger), 'E_AUTH', `attempt ${i + 1}`);
      const ownerFace = faceOf(owner);
      await assert.rejects(openModel(file, { home: h.home, keyFiles: [keyFile], face: ownerFace, useIdentities: false }), (e: unknown) => {
        assert.ok(e instanceof RateLimitError, String(e));
        assert.equal(e.code, 'E_RATE_LIMIT');
        assert.ok(e.retryAfterMs > 0 && e.retryAfterMs <= 30_000, `retryAfterMs ${e.retryAfterMs}`);
        assert.match(e.message, /try again in \d+ s/);
        return true;
      });
      assert.equal(ownerFace.calls, 0, 'refused at once, without analysing the face');
      // The state is on disk: a restarted process (a new limiter) sees it, 30 s from the last failure.
      const restarted = new AttemptLimiter(h.home, undefined, () => lastFailureAt(h.home, key));
      assert.equal(restarted.failures(key), 5);
      assert.equal(restarted.waitMs(key), 30_000);
      assert.equal(await opens(file, h.home, stranger), 'E_RATE_LIMIT');
      // 30 s later (simulated) the next attempt is allowed.
      const later = new AttemptLimiter(h.home, undefined, () => Date.now() + 30_001);
      assert.equal(later.waitMs(key), 0);
    } finally {
      h.cleanup();
    }
  });

  test('a success resets the count', async () => {
    const h = tempHome();
    try {
      const { file, key } = await sealed(h);
      for (let i = 0; i < 4; i++) assert.equal(await opens(file, h.home, stranger), 'E_AUTH');
      assert.equal(new AttemptLimiter(h.home).failures(key), 4);
      assert.equal(await opens(file, h.home, owner), true);
      assert.equal(new AttemptLimiter(h.home).failures(key), 0);
      for (let i = 0; i < 5; i++) assert.equal(await opens(file, h.home, stranger), 'E_AUTH', 'five fresh free attempts');
    } finally {
      h.cleanup();
    }
  });

  test('attempts are counted per enrolment', async () => {
    const h = tempHome();
    try {
      const { file } = await sealed(h);
      const other = await enrolled(h.home, stranger, 'second');
      for (let i = 0; i < 5; i++) assert.equal(await opens(file, h.home, stranger), 'E_AUTH');
      assert.equal(await opens(file, h.home, owner), 'E_RATE_LIMIT');
      assert.equal(new AttemptLimiter(h.home).failures(`face:${other}`), 0);
    } finally {
      h.cleanup();
    }
  });

  test('concurrent attempts cannot get past the limit: at most 5 failures are verified at once', async () => {
    const h = tempHome();
    try {
      await enrolled(h.home);
      const share = await faceFactor.createShare({ home: h.home, face: faceOf(owner) });
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => faceFactor.deriveSecret(share.params, { home: h.home, face: faceOf(stranger) })));
      const verified = results.filter((r) => r.status === 'fulfilled').length;
      const limited = results.filter((r) => r.status === 'rejected' && r.reason instanceof RateLimitError).length;
      assert.equal(verified + limited, 12);
      assert.ok(verified <= 5, `${verified} of 12 concurrent stranger attempts were verified; the limit is 5 in a row`);
    } finally {
      h.cleanup();
    }
  });
});
