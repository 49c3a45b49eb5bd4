/**
 * Where a policy set's decisions can change (src/policy/cedar/breakpoints.ts):
 * comparisons of trust and factor ages with integer literals give cuts,
 * whichever side the literal is on; any other reading of a value, and any
 * reading of the time, makes every change count.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decisionBreakpoints, EVERY_CHANGE_MATTERS, PolicyAuthorizer, type DecisionBreakpoints } from '../../../src/policy/cedar/index.js';
import { PolicyError } from '../../../src/errors.js';

const of = (...conditions: string[]): DecisionBreakpoints =>
  decisionBreakpoints(conditions.map((c, i) => ({ id: `p${i}`, text: `permit (principal, action, resource) when { ${c} };` })));
const ages = (b: DecisionBreakpoints) => (b.factorAge ? Object.fromEntries(b.factorAge) : undefined);

describe('decision breakpoints', () => {
  test('the shipped policy: trust cuts at 0.5, 0.8 and 0.9, factor ages just past 120 s and 300 s, the time unread', async () => {
    const b = (await PolicyAuthorizer.load()).breakpoints;
    assert.deepEqual(b.trust, [500, 800, 900]);
    assert.deepEqual(ages(b), { passkey: [121, 301], face: [121, 301], fido2: [121], keyfile: [121], recovery: [121, 301], tpm: [121], pkcs11: [121] });
    assert.equal(b.readsNow, false);
  });

  test('each comparison cuts where its outcome flips, with the literal on either side', () => {
    const cases: [string, number[]][] = [
      ['context.trust >= 500', [500]],
      ['context.trust > 500', [501]],
      ['context.trust <= 500', [501]],
      ['context.trust < 500', [500]],
      ['context.trust == 500', [500, 501]],
      ['context.trust != 500', [500, 501]],
      ['500 <= context.trust', [500]],
      ['500 < context.trust', [501]],
      ['500 >= context.trust', [501]],
      ['500 > context.trust', [500]],
      ['context.trust > -3', [-2]],
      ['if context.trust >= 700 then true else context.trust < 200', [200, 700]],
    ];
    for (const [condition, cuts] of cases) assert.deepEqual(of(condition).trust, cuts, condition);
    assert.deepEqual(ages(of('context.factorAge has face && 30 >= context.factorAge.face', 'context.factorAge.keyfile < 9')), { face: [31], keyfile: [9] });
  });

  test('presence tests and the other context attributes cut nothing', () => {
    const b = of('context has trust && context.factorAge has face', 'context.factors.contains("face")', 'context.client.transport == "socket"');
    assert.deepEqual(b.trust, []);
    assert.deepEqual(ages(b), {});
    assert.equal(b.readsNow, false);
  });

  test('any other reading of a value makes every change of it count', () => {
    assert.equal(of('context.trust + 1 > 600').trust, undefined, 'arithmetic');
    assert.equal(of('[context.trust].contains(600)').trust, undefined, 'in a set');
    assert.equal(of('context.trust >= 500', 'context.trust == context.factorAge.face').trust, undefined, 'compared with another value');
    assert.equal(of('context.trust == context.factorAge.face').factorAge, undefined);
    assert.equal(of('context.factorAge == {"face": 3}').factorAge, undefined, 'the record whole');
    assert.deepEqual(of('context.factorAge == {"face": 3}').trust, [], 'trust is still unread');
    assert.equal(of('context.factorAge has face && context.factorAge.face * 2 < 10').factorAge, undefined);
  });

  test('reading the time, or the context whole, makes every second count', () => {
    const now = of('context.now < datetime("2030-01-01")');
    assert.equal(now.readsNow, true);
    assert.deepEqual(now.trust, [], 'the time says nothing about trust');
    assert.deepEqual(of('context == {"trust": 1}'), { trust: undefined, factorAge: undefined, readsNow: true });
    assert.deepEqual(EVERY_CHANGE_MATTERS, { trust: undefined, factorAge: undefined, readsNow: true });
  });

  test('forbids and unless clauses count like permits', () => {
    const b = decisionBreakpoints([{ id: 'f', text: 'forbid (principal, action, resource) unless { context.trust >= 250 };' }]);
    assert.deepEqual(b.trust, [250]);
  });

  test('text Cedar cannot read is a PolicyError', () => {
    assert.throws(() => decisionBreakpoints([{ id: 'bad', text: 'permit (principal, action, resource) when {' }]), PolicyError);
  });
});
