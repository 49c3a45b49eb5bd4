/**
 * Cedar policy decisions (src/policy/cedar): the shipped default policy
 * parses and validates against the shipped schema; allow and deny for every
 * action across trust, factor and age contexts; forbid beats permit; every
 * denial a step-up can lift names it (and Cedar confirms it), the others say
 * why not; user policies with a syntax error, a schema violation or a bad
 * annotation raise PolicyError with Cedar's message; malformed requests are
 * typed errors; the decision cache never changes an answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { IOError, PolicyError, UsageError } from '../../../src/errors.js';
import {
  PolicyAuthorizer,
  cedarVersion,
  loadPolicyFile,
  parsePolicySet,
  toCedarRequest,
  type AuthorizationRequest,
  type PolicyResource,
} from '../../../src/policy/cedar/index.js';
import { cedar } from '../../../src/policy/cedar/cedar.js';
import { policySchema } from '../../../src/policy/cedar/policy-set.js';

const NOW = Date.UTC(2026, 10, 23, 9, 30, 0);
const MODEL: PolicyResource = { type: 'Model', id: 'llm', name: 'llm', sensitivity: 'internal', labels: [] };
const RESTRICTED: PolicyResource = { ...MODEL, sensitivity: 'restricted' };

function request(over: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return {
    principal: { id: 'alice', uid: 1000 },
    action: 'model:infer',
    resource: MODEL,
    trust: 0.6,
    factorAge: {},
    client: { transport: 'socket', uid: 1000 },
    now: NOW,
    ...over,
  };
}

function policyError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, 'E_POLICY');
    assert.match(e.message, pattern);
    return true;
  };
}

let policy: PolicyAuthorizer;
before(async () => {
  policy = await PolicyAuthorizer.load();
});

describe('the shipped policy and schema', () => {
  test('Cedar loads from node_modules (no network) and reports its version', () => {
    assert.match(cedarVersion().sdk, /^4\.\d+\.\d+$/);
  });

  test('the default policy parses and validates against the schema, without warnings', async () => {
    const set = await loadPolicyFile();
    assert.deepEqual(set.warnings, []);
    assert.deepEqual(
      set.policies.map((p) => [p.id, p.effect]),
      [
        ['infer-with-trust', 'permit'],
        ['load-with-trust', 'permit'],
        ['unlock-with-a-factor', 'permit'],
        ['enrolment-with-passkey-or-recovery', 'permit'],
        ['no-export', 'forbid'],
        ['socket-only-models', 'forbid'],
        ['restricted-load-needs-fresh-biometric', 'forbid'],
        ['restricted-needs-high-trust', 'forbid'],
      ],
    );
    assert.deepEqual(set.policies[1]!.stepUp, { minTrust: 0.8, factors: ['face', 'passkey'] });
    assert.deepEqual(set.policies[6]!.stepUp, { factors: ['face', 'passkey'], maxAgeSeconds: 300 });
  });

  test('requests built here fit the schema (Cedar validates them against it)', () => {
    const resources: [AuthorizationRequest['action'], PolicyResource][] = [
      ['model:load', MODEL],
      ['session:unlock', { type: 'Session', id: 's1' }],
      ['enrolment:change', { type: 'Enrolment', id: 'face-main', factor: 'face' }],
    ];
    for (const [action, resource] of resources) {
      const call = toCedarRequest(request({ action, resource, factorAge: { face: 3, passkey: 200.2 } }));
      const answer = cedar.isAuthorized({ ...call, policies: { staticPolicies: 'permit(principal, action, resource);' }, schema: policySchema(), validateRequest: true });
      assert.equal(answer.type, 'success', JSON.stringify(answer));
    }
  });

  test('trust is per-mille rounded down, ages are seconds rounded up', () => {
    const c = toCedarRequest(request({ trust: 0.7999, factorAge: { face: 299.1 } })).context as Record<string, unknown>;
    assert.equal(c.trust, 799);
    assert.deepEqual(c.factorAge, { face: 300 });
    assert.deepEqual(c.factors, ['face']);
    assert.deepEqual(c.now, { __extn: { fn: 'datetime', arg: '2026-11-23T09:30:00Z' } });
  });
});

describe('decisions of the default policy', () => {
  const cases: [string, Partial<AuthorizationRequest>, 'allow' | 'deny', string[]][] = [
    ['infer at trust 0.5', { trust: 0.5 }, 'allow', ['infer-with-trust']],
    ['infer at trust 0.499', { trust: 0.499 }, 'deny', []],
    ['load at 0.8 after a key file unlock', { action: 'model:load', trust: 0.8, factorAge: { keyfile: 0 } }, 'allow', ['load-with-trust']],
    ['load at 0.79 with a fresh face', { action: 'model:load', trust: 0.79, factorAge: { face: 1 } }, 'deny', []],
    ['load of a restricted model at 0.8 with a face 300 s old', { action: 'model:load', resource: RESTRICTED, trust: 0.8, factorAge: { face: 300 } }, 'allow', ['load-with-trust']],
    ['load of a restricted model with a passkey 10 s old', { action: 'model:load', resource: RESTRICTED, trust: 0.8, factorAge: { passkey: 10 } }, 'allow', ['load-with-trust']],
    ['load of a restricted model with a face 301 s old', { action: 'model:load', resource: RESTRICTED, trust: 0.95, factorAge: { face: 301 } }, 'deny', ['restricted-load-needs-fresh-biometric']],
    ['load of a restricted model with only keystrokes', { action: 'model:load', resource: RESTRICTED, trust: 0.95, factorAge: { keystroke: 1 } }, 'deny', ['restricted-load-needs-fresh-biometric']],
    ['export at full trust', { action: 'model:export', trust: 1, factorAge: { face: 0, passkey: 0 } }, 'deny', ['no-export']],
    ['unlock with a key file just presented', { action: 'session:unlock', resource: { type: 'Session', id: 's' }, trust: 0.05, factorAge: { keyfile: 0 } }, 'allow', ['unlock-with-a-factor']],
    ['unlock with nothing presented', { action: 'session:unlock', resource: { type: 'Session', id: 's' }, trust: 0.05 }, 'deny', []],
    ['enrolment change with a fresh passkey at 0.9', { action: 'enrolment:change', resource: { type: 'Enrolment', id: 'e', factor: 'face' }, trust: 0.9, factorAge: { passkey: 60 } }, 'allow', ['enrolment-with-passkey-or-recovery']],
    ['enrolment change with recovery at 0.95', { action: 'enrolment:change', resource: { type: 'Enrolment', id: 'e', factor: 'face' }, trust: 0.95, factorAge: { recovery: 299 } }, 'allow', ['enrolment-with-passkey-or-recovery']],
    ['enrolment change with only a face', { action: 'enrolment:change', resource: { type: 'Enrolment', id: 'e', factor: 'face' }, trust: 0.99, factorAge: { face: 1 } }, 'deny', []],
    ['enrolment change at 0.89', { action: 'enrolment:change', resource: { type: 'Enrolment', id: 'e', factor: 'face' }, trust: 0.89, factorAge: { passkey: 1 } }, 'deny', []],
    ['infer of a socket-only model over the socket', { resource: { ...MODEL, labels: ['socket-only'] } as PolicyResource }, 'allow', ['infer-with-trust']],
    ['infer of a socket-only model over http (forbid beats permit)', { resource: { ...MODEL, labels: ['socket-only'] } as PolicyResource, client: { transport: 'http' } }, 'deny', ['socket-only-models']],
    ['infer of a restricted model at 0.6 (forbid beats permit)', { resource: { ...MODEL, sensitivity: 'restricted' } as PolicyResource, trust: 0.6 }, 'deny', ['restricted-needs-high-trust']],
    ['infer of a restricted model at 0.8', { resource: { ...MODEL, sensitivity: 'restricted' } as PolicyResource, trust: 0.8 }, 'allow', ['infer-with-trust']],
  ];
  for (const [name, over, decision, policies] of cases) {
    test(name, () => {
      const d = policy.authorize(request(over));
      assert.equal(d.decision, decision, d.reason);
      assert.equal(d.allowed, decision === 'allow');
      assert.deepEqual([...d.policies], policies);
      assert.deepEqual(d.errors, []);
    });
  }
});

describe('step-up on denial', () => {
  test('infer below 0.5 asks for trust 0.5 through face, passkey or keystrokes', () => {
    const d = policy.authorize(request({ trust: 0.42 }));
    assert.deepEqual(d.stepUp, {
      policies: ['infer-with-trust'],
      trust: { needed: 0.5, current: 0.42 },
      factors: [{ anyOf: ['face', 'passkey', 'keystroke'] }],
      description: 'trust 0.5 needed (now 0.42); present face or passkey or keystroke',
    });
    assert.match(d.reason, /model:infer denied: no policy permits it; step-up: trust 0\.5 needed/);
  });

  test('load with a stale face asks only for a fresh face or passkey', () => {
    const d = policy.authorize(request({ action: 'model:load', resource: RESTRICTED, trust: 0.9, factorAge: { face: 400 } }));
    assert.deepEqual(d.stepUp?.factors, [{ anyOf: ['face', 'passkey'], withinSeconds: 300 }]);
    assert.equal(d.stepUp?.description, 'present face or passkey (seen within 300 s)');
  });

  test('load at low trust asks for trust, and for a restricted model also freshness', () => {
    const d = policy.authorize(request({ action: 'model:load', trust: 0.3 }));
    assert.equal(d.stepUp?.description, 'trust 0.8 needed (now 0.3); present face or passkey');
    const r = policy.authorize(request({ action: 'model:load', resource: RESTRICTED, trust: 0.3 }));
    assert.equal(r.stepUp?.description, 'trust 0.8 needed (now 0.3); present face or passkey (seen within 300 s)');
  });

  test('enrolment change with a face asks for a passkey or recovery', () => {
    const d = policy.authorize(request({ action: 'enrolment:change', resource: { type: 'Enrolment', id: 'e', factor: 'face' }, trust: 0.99, factorAge: { face: 1 } }));
    assert.deepEqual(d.stepUp?.factors, [{ anyOf: ['passkey', 'recovery'], withinSeconds: 300 }]);
  });

  test('unlock with nothing asks for any factor within 120 s', () => {
    const d = policy.authorize(request({ action: 'session:unlock', resource: { type: 'Session', id: 's' }, trust: 0 }));
    assert.equal(d.stepUp?.factors[0]?.withinSeconds, 120);
    assert.ok(d.stepUp?.factors[0]?.anyOf.includes('keyfile'));
  });

  test('a forbid with step-up annotations is lifted by meeting them', () => {
    const d = policy.authorize(request({ resource: { ...MODEL, sensitivity: 'restricted' }, trust: 0.6 }));
    assert.deepEqual(d.stepUp?.policies, ['infer-with-trust', 'restricted-needs-high-trust']);
    assert.equal(d.stepUp?.trust.needed, 0.8);
    assert.deepEqual(d.stepUp?.factors, [{ anyOf: ['face', 'passkey'] }]);
  });

  test('export: no step-up, and the reason names the forbid', () => {
    const d = policy.authorize(request({ action: 'model:export', trust: 1 }));
    assert.equal(d.stepUp, undefined);
    assert.match(d.reason, /forbidden by "no-export", which no step-up lifts/);
  });

  test('socket-only over http: no step-up', () => {
    const d = policy.authorize(request({ resource: { ...MODEL, labels: ['socket-only'] }, client: { transport: 'http' } }));
    assert.equal(d.stepUp, undefined);
    assert.match(d.reason, /"socket-only-models", which no step-up lifts/);
  });

  test('an annotation that disagrees with its condition gives no advice (Cedar checks every step-up)', () => {
    const lying = new PolicyAuthorizer(
      parsePolicySet('@id("p") @minTrust("0.5") permit(principal, action == Action::"model:infer", resource) when { context.trust >= 900 };', 'lying.cedar'),
    );
    const d = lying.authorize(request({ trust: 0.3 }));
    assert.equal(d.decision, 'deny');
    assert.equal(d.stepUp, undefined);
    assert.match(d.reason, /no step-up named in the policy annotations would allow it/);
  });

  test('a policy that fails to evaluate is skipped and reported in the diagnostics', () => {
    const set = parsePolicySet(
      '@id("overflow") permit(principal, action == Action::"model:infer", resource) when { context.trust * 9223372036854775807 > 0 };\n' +
        '@id("plain") permit(principal, action == Action::"model:infer", resource) when { context.trust >= 500 };',
    );
    const d = new PolicyAuthorizer(set).authorize(request({ trust: 0.6 }));
    assert.equal(d.decision, 'allow');
    assert.deepEqual([...d.policies], ['plain']);
    assert.equal(d.errors[0]?.policyId, 'overflow');
    assert.match(d.errors[0]!.message, /overflow/);
  });

  test('an action no policy covers says so', () => {
    const only = new PolicyAuthorizer(parsePolicySet('permit(principal, action == Action::"model:infer", resource);'));
    assert.match(only.authorize(request({ action: 'model:load' })).reason, /no policy permits model:load$/);
  });
});

describe('user policy files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-policy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  test('a valid user policy loads and decides', async () => {
    const file = write('ok.cedar', '@id("all-infer") permit(principal, action == Action::"model:infer", resource) when { context.client.transport == "socket" };');
    const p = await PolicyAuthorizer.load(file);
    assert.equal(p.authorize(request({ trust: 0 })).decision, 'allow');
    assert.equal(p.authorize(request({ trust: 1, client: { transport: 'http' } })).decision, 'deny');
  });

  test('the determining policies are named in the file\'s order every time (Cedar gives them in any order)', async () => {
    const ids = ['zeta', 'alpha', 'mid', 'beta'];
    const file = write('many.cedar', ids.map((id) => `@id("${id}") permit(principal, action == Action::"model:infer", resource);`).join('\n'));
    const p = await PolicyAuthorizer.load(file, { cacheSize: 0 });
    const reasons = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const d = p.authorize(request());
      assert.deepEqual(d.policies, ids);
      reasons.add(d.reason);
    }
    assert.equal(reasons.size, 1, 'one decision, one wording');
    assert.equal(p.evaluations.count, 40, 'each uncached decision is counted');
  });

  test('a syntax error raises PolicyError with Cedar\'s message and the line', async () => {
    const file = write('syntax.cedar', '// mine\npermit(principal, action == Action::"model:infer", resource\n');
    await assert.rejects(loadPolicyFile(file), policyError(/syntax\.cedar: line 2, column 60: failed to parse policies from string: unexpected end of input \(expected .*`\)`/));
  });

  test('a schema violation raises PolicyError naming the policy and Cedar\'s hint', async () => {
    const file = write('schema.cedar', '@id("typo") permit(principal, action == Action::"model:infer", resource) when { context.trst >= 500 };');
    await assert.rejects(loadPolicyFile(file), policyError(/does not match the bioseal schema: line 1, column \d+: for policy "typo", attribute `trst` in context .* not found; did you mean `trust`\?/));
  });

  test('a type error (decimal string against per-mille) is a schema violation', () => {
    assert.throws(() => parsePolicySet('permit(principal, action, resource) when { context.trust >= "0.5" };', 'u.cedar'), policyError(/for policy "policy0", unexpected type: expected Long but saw String/));
  });

  test('an unknown action or entity type is a schema violation', () => {
    assert.throws(() => parsePolicySet('permit(principal, action == Action::"model:steal", resource);'), policyError(/does not match the bioseal schema/));
    assert.throws(() => parsePolicySet('permit(principal is Robot, action, resource);'), policyError(/does not match the bioseal schema|Robot/));
  });

  test('bad step-up annotations are refused with the policy id', () => {
    const rule = (a: string) => `@id("x") ${a} permit(principal, action == Action::"model:infer", resource);`;
    assert.throws(() => parsePolicySet(rule('@minTrust("80%")')), policyError(/policy "x": @minTrust\("80%"\) must be a decimal from 0 to 1/));
    assert.throws(() => parsePolicySet(rule('@minTrust("1.5")')), policyError(/@minTrust/));
    assert.throws(() => parsePolicySet(rule('@stepup("face|iris")')), policyError(/"iris" is not a factor/));
    assert.throws(() => parsePolicySet(rule('@stepup("face") @maxAge("-3")')), policyError(/@maxAge\("-3"\) must be a whole number/));
    assert.throws(() => parsePolicySet(rule('@maxAge("30")')), policyError(/@maxAge needs @stepup/));
  });

  test('duplicate ids, templates, empty files and oversized files are refused', () => {
    const p = 'permit(principal, action == Action::"model:infer", resource);';
    assert.throws(() => parsePolicySet(`@id("a") ${p} @id("a") ${p}`), policyError(/two policies have the id "a"/));
    assert.throws(() => parsePolicySet('permit(principal == ?principal, action, resource);'), policyError(/includes a template/));
    assert.throws(() => parsePolicySet('// nothing\n'), policyError(/no policies/));
    assert.throws(() => parsePolicySet(`// ${'x'.repeat(1024 * 1024)}\n${p}`), policyError(/larger than/));
  });

  test('a missing file is an IOError', async () => {
    await assert.rejects(loadPolicyFile(path.join(dir, 'absent.cedar')), (e: unknown) => e instanceof IOError && e.code === 'E_IO');
  });
});

describe('requests', () => {
  const bad: [string, Partial<AuthorizationRequest>, RegExp][] = [
    ['unknown action', { action: 'model:steal' as never }, /unknown action/],
    ['resource of the wrong type', { action: 'session:unlock' }, /applies to a Session/],
    ['NaN trust', { trust: NaN }, /trust must be a number in \[0, 1\]/],
    ['trust above 1', { trust: 1.01 }, /trust must be/],
    ['negative factor age', { factorAge: { face: -1 } }, /factorAge\.face must be seconds/],
    ['unknown factor', { factorAge: { iris: 1 } as never }, /unknown factor "iris"/],
    ['bad transport', { client: { transport: 'tcp' as never } }, /transport/],
    ['negative time', { now: -1 }, /now must be a time/],
    ['bad sensitivity', { resource: { ...MODEL, sensitivity: 'top' as never } }, /sensitivity/],
    ['empty principal', { principal: { id: '' } }, /principal\.id/],
  ];
  for (const [name, over, pattern] of bad) {
    test(`${name} is a UsageError`, () => assert.throws(() => policy.authorize(request(over)), (e: unknown) => e instanceof UsageError && pattern.test(e.message)));
  }

  test('a malformed request is refused even after a valid one was cached', () => {
    const cached = new PolicyAuthorizer(policy.policySet);
    assert.equal(cached.authorize(request({ trust: 0.6 })).decision, 'allow');
    assert.throws(() => cached.authorize(request({ trust: '0.6' as never })), UsageError);
  });

  test('the cache returns the same decisions as Cedar without it', () => {
    const uncached = new PolicyAuthorizer(policy.policySet, { cacheSize: 0 });
    const cached = new PolicyAuthorizer(policy.policySet, { cacheSize: 8 });
    for (let i = 0; i < 40; i++) {
      const r = request({ action: i % 2 ? 'model:infer' : 'model:load', trust: (i % 11) / 10, factorAge: { face: (i * 37) % 400 } });
      assert.deepEqual(cached.authorize(r), uncached.authorize(r));
      assert.deepEqual(cached.authorize(r), uncached.authorize(r));
    }
  });
});
