/**
 * The gate's per-call shortcuts: the decision memo never answers otherwise
 * than the policy (trust, factor ages, time, resource and client must all
 * be the same request in Cedar's whole numbers), and allowed inference is
 * counted into one audit entry per model, transport and reason. A standing
 * inference decision is reused only while Cedar would be asked the very same
 * request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DecisionMemo, MAX_STANDING_MS, type DecisionInputs } from '../../src/daemon/decision-memo.js';
import { AuditTrail } from '../../src/daemon/audit-trail.js';
import { DeniedError, Gate } from '../../src/daemon/gate.js';
import { openAuditLog } from '../../src/audit/index.js';
import { PolicyAuthorizer } from '../../src/policy/cedar/index.js';
import { TrustEngine } from '../../src/trust/index.js';
import { seededRandom } from '../../src/eval/metrics.js';
import type { PolicyDecision } from '../../src/policy/cedar/index.js';

const model = { type: 'Model', id: 'm', name: 'm', sensitivity: 'internal', labels: ['a'] } as const;
const base: DecisionInputs = { action: 'model:infer', resource: model, transport: 'socket', trust: 0.7345, factorAge: { face: 12.2, keyfile: 30 }, now: 1_700_000_000_500 };
const decision = { allowed: true, decision: 'allow', policies: ['p'], errors: [], reason: 'ok' } as PolicyDecision;

describe('DecisionMemo', () => {
  test('answers the same Cedar request: trust within the same per-mille, ages within the same second, the same second', () => {
    const memo = new DecisionMemo();
    assert.equal(memo.get(base), undefined);
    memo.set(base, decision);
    assert.equal(memo.get(base), decision);
    assert.equal(memo.get({ ...base, trust: 0.7341, factorAge: { face: 12.9, keyfile: 29.5 }, now: base.now + 400 }), decision);
    assert.equal(memo.get({ ...base, resource: { ...model, labels: ['a'] } }), decision, 'an equal resource in a new object');
  });

  test('anything Cedar would see differently goes to the policy', () => {
    const memo = new DecisionMemo();
    memo.set(base, decision);
    const misses: [string, DecisionInputs][] = [
      ['trust one per-mille lower', { ...base, trust: 0.7339 }],
      ['trust higher', { ...base, trust: 0.9 }],
      ['a factor a second older', { ...base, factorAge: { face: 13.01, keyfile: 30 } }],
      ['a factor gone', { ...base, factorAge: { face: 12.2 } }],
      ['a factor more', { ...base, factorAge: { face: 12.2, keyfile: 30, passkey: 1 } }],
      ['the next second', { ...base, now: base.now + 500 }],
      ['another action', { ...base, action: 'model:load' }],
      ['another transport', { ...base, transport: 'http' }],
      ['another model', { ...base, resource: { ...model, id: 'n', name: 'n' } }],
      ['another sensitivity', { ...base, resource: { ...model, sensitivity: 'restricted' } }],
      ['other labels', { ...base, resource: { ...model, labels: ['socket-only'] } }],
      ['a malformed trust', { ...base, trust: NaN }],
    ];
    for (const [what, inputs] of misses) assert.equal(memo.get(inputs), undefined, what);
  });
});

describe('the gate with the shipped policy', () => {
  let dir: string;
  let gate: Gate;
  let audit: AuditTrail;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-memo-'));
    audit = new AuditTrail(await openAuditLog(dir), 60_000);
    gate = new Gate(new TrustEngine(), await PolicyAuthorizer.load(), audit);
  });
  after(() => {
    audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a decision is never reused once trust fell below what the policy asks, even within the same second', () => {
    const t0 = 1_700_000_000_000;
    const engine = gate.engine;
    const high = engine.start(t0, [{ modality: 'unlock', observedAt: t0, factors: ['keyfile'] }]).state;
    assert.ok(gate.require('model:infer', model, 'socket', t0 + 10, high).allowed);
    assert.ok(gate.require('model:infer', model, 'socket', t0 + 20, high).allowed, 'the same request again');
    // The same second, the same factor ages, trust just under the policy's 0.5.
    const low = { ...high, trust: 0.4999 };
    assert.throws(() => gate.require('model:infer', model, 'socket', t0 + 30, low), DeniedError);
    assert.ok(gate.require('model:infer', model, 'socket', t0 + 40, high).allowed);
  });

  test('allowed inference becomes one audit entry per model, transport and reason, with the count and the span', async () => {
    const t0 = 1_700_000_100_000;
    const state = gate.engine.start(t0, [{ modality: 'unlock', observedAt: t0, factors: ['keyfile'] }]).state;
    audit.flush();
    for (let i = 0; i < 25; i++) gate.require('model:infer', model, 'socket', t0 + i * 100, state);
    for (let i = 0; i < 3; i++) gate.require('model:infer', model, 'http', t0 + i * 100, state);
    // An immediate entry (a denial) flushes the counted calls first.
    assert.throws(() => gate.require('model:export', model, 'socket', t0 + 5000, state), DeniedError);
    const log = await openAuditLog(dir, { readOnly: true });
    try {
      const entries = log.entries().slice(-3);
      assert.deepEqual(entries.map((e) => [e.decision, e.details?.transport, e.details?.calls]), [['allow', 'socket', 25], ['allow', 'http', 3], ['deny', 'socket', undefined]]);
      assert.equal(entries[0]!.details?.first, new Date(t0).toISOString());
      assert.equal(entries[0]!.details?.last, new Date(t0 + 2400).toISOString());
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
  });
});

describe('standing inference decisions', () => {
  let dir: string;
  let audit: AuditTrail;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-standing-'));
    audit = new AuditTrail(await openAuditLog(dir), 60_000);
  });
  after(() => {
    audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A gate whose policy has no cache of its own, so that `asked.n` counts every question the gate put to it. */
  const countingGate = async (policyFile?: string) => {
    const policy = await PolicyAuthorizer.load(policyFile, { cacheSize: 0 });
    const asked = {
      get n() {
        return policy.evaluations.count;
      },
    };
    return { gate: new Gate(new TrustEngine(), policy, audit), asked };
  };
  const allowed = (f: () => unknown) => {
    try {
      f();
      return true;
    } catch (error) {
      assert.ok(error instanceof DeniedError, String(error));
      return false;
    }
  };

  test('ends the moment decaying trust crosses what the policy asks', async () => {
    const { gate } = await countingGate();
    const t0 = 1_700_000_200_250;
    // Trust just over the policy's 0.5: decay takes it under within a second.
    const state = { trust: 0.5004, at: t0, seen: { keyfile: t0 } };
    let sawDenial = false;
    for (let now = t0; now < t0 + 1500; now += 3) {
      const expected = Math.floor(gate.engine.trustAt(state, now) * 1000) >= 500;
      assert.equal(allowed(() => gate.require('model:infer', model, 'socket', now, state)), expected, `at +${now - t0} ms`);
      sawDenial ||= !expected;
    }
    assert.ok(sawDenial, 'trust crossed the threshold within the run');
  });

  test("ends the moment a factor's age passes what the policy allows", async () => {
    const file = path.join(dir, 'fresh-face.cedar');
    writeFileSync(file, 'permit (principal, action == Action::"model:infer", resource) when { context.factorAge has face && context.factorAge.face <= 2 };\n');
    const { gate, asked } = await countingGate(file);
    const t0 = 1_700_000_300_000;
    const state = { trust: 0.95, at: t0, seen: { face: t0 - 300 } };
    for (let now = t0; now < t0 + 3000; now += 7) {
      const expected = Math.ceil((now - (t0 - 300)) / 1000) <= 2;
      assert.equal(allowed(() => gate.require('model:infer', model, 'socket', now, state)), expected, `at +${now - t0} ms`);
    }
    assert.ok(asked.n < 429 / 4, `the policy was asked ${asked.n} times for 429 calls`);
  });

  test('agrees with Cedar asked afresh at every call, for policies that read trust, ages and the time in every way', async () => {
    const conditions = [
      'context.trust >= 500 && context.factorAge has face && context.factorAge.face <= 2',
      '700 < context.trust || (context.factorAge has keyfile && context.factorAge.keyfile == 3)',
      'context.trust + 0 >= 600',
      'context.now < datetime("2023-11-14T22:13:25Z") && context.trust > 100',
      'context.factorAge has face && context.factorAge.face * 2 <= 6',
    ];
    const t0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
    const rnd = seededRandom(7);
    const principal = { id: os.userInfo().username, uid: process.getuid?.() };
    for (const [i, condition] of conditions.entries()) {
      const file = path.join(dir, `grid-${i}.cedar`);
      writeFileSync(file, `permit (principal, action == Action::"model:infer", resource) when { ${condition} };\nforbid (principal, action == Action::"model:infer", resource) when { context.factorAge has keyfile && 1 > context.factorAge.keyfile };\n`);
      const { gate, asked } = await countingGate(file);
      const reference = await PolicyAuthorizer.load(file, { cacheSize: 0 });
      let calls = 0;
      let changes = 0;
      for (let s = 0; s < 4; s++) {
        // Trust just over a cut (decay takes it under within seconds), a face and a key file about to age past one.
        const at = t0 + Math.floor(rnd() * 2000);
        const state = { trust: [0.5006, 0.6004, 0.7003, 0.1002][s]!, at, seen: { face: at - Math.floor(rnd() * 2000), keyfile: at - Math.floor(rnd() * 2500) } };
        let previous: boolean | undefined;
        for (let now = at; now < at + 6000; now += 1 + Math.floor(rnd() * 13)) {
          const expected = reference.authorize({ principal, action: 'model:infer', resource: model, trust: gate.engine.trustAt(state, now), factorAge: gate.engine.factorAges(state, now), client: { transport: 'socket', uid: principal.uid }, now }).allowed;
          assert.equal(allowed(() => gate.require('model:infer', model, 'socket', now, state)), expected, `${condition}: state ${s} at +${now - at} ms`);
          if (previous !== undefined && previous !== expected) changes++;
          previous = expected;
          calls++;
        }
      }
      assert.ok(changes > 0, `${condition}: the decision changed within the grid`);
      assert.ok(asked.n < calls, `${condition}: the policy was asked ${asked.n} times for ${calls} calls`);
    }
  });

  test('with the shipped policy, a steady session is asked again only when trust crosses a cut, or after MAX_STANDING_MS', async () => {
    const { gate, asked } = await countingGate();
    const t0 = 1_700_000_500_000;
    // Trust 0.85 decays past the 0.8 cut after about 52 s; a minute of calls, 100 a second, all allowed (0.5 is needed).
    const state = { trust: 0.85, at: t0, seen: { face: t0, keyfile: t0 } };
    for (let now = t0; now < t0 + 60_000; now += 10) gate.require('model:infer', model, 'socket', now, state);
    // Every whole second, every per-mille of trust and every second of each factor's age would be 260 questions.
    assert.ok(asked.n <= 60_000 / MAX_STANDING_MS + 2, `the policy was asked ${asked.n} times`);
  });

  test('holds for each model and transport at once, and never across a new trust state or a lock', async () => {
    const { gate, asked } = await countingGate();
    const other = { ...model, id: 'n', name: 'n' } as const;
    const t0 = 1_700_000_400_000;
    const state = gate.engine.start(t0, [{ modality: 'unlock', observedAt: t0, factors: ['keyfile'] }]).state;
    for (let i = 0; i < 50; i++) {
      for (const resource of [model, other]) for (const transport of ['socket', 'http'] as const) gate.require('model:infer', resource, transport, t0 + 1 + i, state);
    }
    assert.equal(asked.n, 4, 'once per model and transport');
    const later = gate.engine.update(state, [{ modality: 'keystroke', observedAt: t0 + 60, score: 0.9, keys: 14 }], t0 + 60).state;
    gate.require('model:infer', model, 'socket', t0 + 61, later);
    assert.equal(asked.n, 5, 'a new trust state is asked again');
    gate.commit({ state: later, explanation: gate.preview([], t0 + 61).explanation }, 'evidence');
    gate.require('model:infer', model, 'socket', t0 + 62);
    gate.reset(t0 + 63, 'test');
    assert.throws(() => gate.require('model:infer', model, 'socket', t0 + 64), DeniedError, 'after a lock, nothing stands');
  });
});
