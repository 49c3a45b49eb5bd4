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
import { DecisionMemo, type DecisionInputs } from '../../src/daemon/decision-memo.js';
import { AuditTrail } from '../../src/daemon/audit-trail.js';
import { DeniedError, Gate } from '../../src/daemon/gate.js';
import { openAuditLog } from '../../src/audit/index.js';
import { PolicyAuthorizer } from '../../src/policy/cedar/index.js';
import { TrustEngine } from '../../src/trust/index.js';
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

  /** A gate whose policy counts how often it is asked. */
  const countingGate = async (policyFile?: string) => {
    const policy = await PolicyAuthorizer.load(policyFile, { cacheSize: 0 });
    const asked = { n: 0 };
    const authorize = policy.authorize.bind(policy);
    policy.authorize = (r) => {
      asked.n++;
      return authorize(r);
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

  test('ends the moment decaying trust leaves the per-mille the policy was asked with', async () => {
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

  test("ends the moment a factor's age, in whole seconds, changes", async () => {
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
