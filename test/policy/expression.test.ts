/**
 * Policy expressions (src/policy/expression.ts): grammar, precedence, DNF
 * expansion, simplification, canonical output, every error, and a fuzz:
 * arbitrary strings only ever throw PolicyError, and every accepted policy
 * comes out as sorted, duplicate-free, non-redundant branches within the caps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import { BiosealError, PolicyError } from '../../src/errors.js';
import { formatPolicy, parsePolicy, POLICY_LIMITS } from '../../src/policy/expression.js';

function policyError(pattern?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, 'E_POLICY');
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

describe('parsePolicy: accepted expressions', () => {
  const cases: [string, string[][]][] = [
    ['keyfile', [['keyfile']]],
    ['  keyfile\t', [['keyfile']]],
    ['a|b', [['a'], ['b']]],
    ['a & b', [['a', 'b']]],
    ['b & a', [['a', 'b']]],
    // & binds tighter than |
    ['a | b & c', [['a'], ['b', 'c']]],
    ['a & b | c', [['a', 'b'], ['c']]],
    ['(face & tpm) | passkey | recovery', [['face', 'tpm'], ['passkey'], ['recovery']]],
    // parentheses override precedence; DNF expansion
    ['a & (b | c)', [['a', 'b'], ['a', 'c']]],
    ['(a | b) & (c | d)', [['a', 'c'], ['a', 'd'], ['b', 'c'], ['b', 'd']]],
    ['((a))', [['a']]],
    ['(a | (b & (c | d)))', [['a'], ['b', 'c'], ['b', 'd']]],
    // simplification: duplicates within and across branches, absorption
    ['a & a', [['a']]],
    ['a | a', [['a']]],
    ['a & b | b & a', [['a', 'b']]],
    ['a | a & b', [['a']]],
    ['a & b | a', [['a']]],
    ['(a | b) & (a | c)', [['a'], ['b', 'c']]],
    ['x-1 & y_2 | z9', [['x-1', 'y_2'], ['z9']]],
    ['a23456789012345678901234567890bc', [['a23456789012345678901234567890bc']]],
    ['a\n|\r\nb', [['a'], ['b']]],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => {
      assert.deepEqual(parsePolicy(text), expected);
    });
  }

  test('formatPolicy gives the canonical text, which parses back to the same branches', () => {
    assert.equal(formatPolicy(parsePolicy('(tpm&face)|  passkey | recovery')), 'face & tpm | passkey | recovery');
    assert.equal(formatPolicy(parsePolicy('a & (b | c)')), 'a & b | a & c');
    for (const [text] of cases) {
      const once = parsePolicy(text);
      const canonical = formatPolicy(once);
      assert.deepEqual(parsePolicy(canonical), once, text);
      assert.equal(formatPolicy(parsePolicy(canonical)), canonical, text);
    }
  });

  test('limits are inclusive: 8 factors, 32 branches, depth 16, 1024 characters', () => {
    const eight = 'a b c d e f g h'.split(' ');
    assert.deepEqual(parsePolicy(eight.join(' & ')), [eight]);
    const names = Array.from({ length: 32 }, (_, i) => `f${i}`);
    assert.equal(parsePolicy(names.join(' | ')).length, 32);
    assert.equal(parsePolicy('(a|b|c|d) & (e|f|g|h)').length, 16);
    assert.equal(parsePolicy('(a|b|c|d|e|f|g|h) & (i|j|k|l)').length, 32);
    assert.deepEqual(parsePolicy('('.repeat(16) + 'a' + ')'.repeat(16)), [['a']]);
    const long = 'a' + ' '.repeat(POLICY_LIMITS.maxLength - 1);
    assert.equal(long.length, POLICY_LIMITS.maxLength);
    assert.deepEqual(parsePolicy(long), [['a']]);
  });
});

describe('parsePolicy: errors', () => {
  const errors: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['only spaces', '   \t\n', /empty/],
    ['bad character', 'a + b', /unexpected character "\+" at position 3/],
    ['unicode', 'ключ', /unexpected character/],
    ['comma', 'a, b', /unexpected character ","/],
    ['upper case', 'Keyfile', /not a factor name/],
    ['leading digit', '1password', /not a factor name/],
    ['leading dash', '-a', /not a factor name/],
    ['name too long', 'a'.repeat(33), /not a factor name/],
    ['unbalanced open', '(a | b', /missing "\)"/],
    ['unbalanced close', 'a | b)', /unexpected "\)"/],
    ['empty parens', '()', /unexpected "\)"/],
    ['trailing &', 'a &', /ends where a factor name/],
    ['trailing |', 'a | b |', /ends where a factor name/],
    ['leading |', '| a', /unexpected "\|"/],
    ['double operator', 'a & & b', /unexpected "&"/],
    ['missing operator', 'a b', /unexpected "b"/],
    ['missing operator before (', 'a (b)', /unexpected "\("/],
    ['too deep', '('.repeat(17) + 'a' + ')'.repeat(17), /nested deeper than 16/],
    ['much too deep', '('.repeat(500) + 'a' + ')'.repeat(500), /nested deeper/],
    ['too many factors in a branch', 'a & b & c & d & e & f & g & h & i', /more than 8 factors/],
    ['too many branches by |', Array.from({ length: 33 }, (_, i) => `f${i}`).join('|'), /more than 32 alternatives/],
    ['too many branches by expansion', '(a|b|c|d|e|f) & (g|h|i|j|k|l)', /expands to more than 32/],
    ['exponential expansion', Array.from({ length: 10 }, (_, i) => `(a${i}|b${i})`).join(' & '), /expands to more than 32/],
    ['too long', 'a'.repeat(10) + ' '.repeat(POLICY_LIMITS.maxLength), /longer than 1024/],
  ];
  for (const [name, text, pattern] of errors) {
    test(name, () => {
      assert.throws(() => parsePolicy(text), policyError(pattern));
    });
  }

  test('a non-string is refused with PolicyError', () => {
    assert.throws(() => parsePolicy(42 as unknown as string), policyError(/expected a string/));
    assert.throws(() => parsePolicy(undefined as unknown as string), policyError());
  });
});

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Checks the invariants of an accepted policy. */
function checkBranches(branches: readonly (readonly string[])[]): void {
  assert.ok(branches.length >= 1 && branches.length <= POLICY_LIMITS.maxBranches);
  const keys = new Set<string>();
  for (const b of branches) {
    assert.ok(b.length >= 1 && b.length <= POLICY_LIMITS.maxFactorsPerBranch);
    for (let i = 0; i < b.length; i++) {
      assert.match(b[i]!, NAME);
      if (i > 0) assert.ok(b[i - 1]! < b[i]!, `branch sorted and without duplicates: ${b.join(',')}`);
    }
    keys.add(b.join('&'));
  }
  assert.equal(keys.size, branches.length, 'no duplicate branches');
  for (const a of branches) {
    for (const b of branches) {
      if (a !== b) assert.ok(!a.every((f) => b.includes(f)), `branch ${a.join('&')} absorbs ${b.join('&')}`);
    }
  }
}

describe('parsePolicy fuzz', () => {
  function parseOrPolicyError(text: string) {
    try {
      return parsePolicy(text);
    } catch (error) {
      if (error instanceof PolicyError) return undefined;
      throw new Error(`non-policy error for ${JSON.stringify(text)}: ${String(error)}`, { cause: error });
    }
  }

  test('arbitrary strings only throw PolicyError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 1100 })), (text) => {
        const r = parseOrPolicyError(text);
        if (r) checkBranches(r);
      }),
      { numRuns: 1000 },
    );
  });

  test('strings over the policy alphabet: PolicyError or canonical branches', () => {
    const token = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'keyfile', 'recovery', 'tpm', 'face') },
      { weight: 2, arbitrary: fc.constantFrom('&', '|') },
      { weight: 2, arbitrary: fc.constantFrom('(', ')') },
      { weight: 1, arbitrary: fc.constantFrom(' ', '  ', '\t', 'X', '1', '-') },
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
        const text = tokens.join(' ');
        const r = parseOrPolicyError(text);
        if (r) {
          checkBranches(r);
          assert.deepEqual(parsePolicy(formatPolicy(r)), r, 'canonical form is a fixed point');
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('well-formed random expressions always parse, to the DNF that a truth table predicts', () => {
    type Expr = { name: string } | { op: '&' | '|'; l: Expr; r: Expr };
    const names = ['a', 'b', 'c', 'd'];
    const expr = fc.letrec<{ e: Expr }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(...names).map((name) => ({ name })),
        fc.record({ op: fc.constantFrom('&' as const, '|' as const), l: tie('e'), r: tie('e') }),
      ),
    })).e;
    const show = (e: Expr): string => ('name' in e ? e.name : `(${show(e.l)} ${e.op} ${show(e.r)})`);
    const evaluate = (e: Expr, set: Set<string>): boolean =>
      'name' in e ? set.has(e.name) : e.op === '&' ? evaluate(e.l, set) && evaluate(e.r, set) : evaluate(e.l, set) || evaluate(e.r, set);
    fc.assert(
      fc.property(expr, (e) => {
        const text = show(e);
        let branches: ReturnType<typeof parsePolicy>;
        try {
          branches = parsePolicy(text);
        } catch (error) {
          // Only the documented caps may refuse a well-formed expression.
          assert.ok(error instanceof BiosealError && error.code === 'E_POLICY');
          assert.match(error.message, /more than|deeper|longer/);
          return;
        }
        checkBranches(branches);
        for (let mask = 0; mask < 16; mask++) {
          const set = new Set(names.filter((_, i) => mask & (1 << i)));
          const dnf = branches.some((b) => b.every((f) => set.has(f)));
          assert.equal(dnf, evaluate(e, set), `${text} under {${[...set].join(',')}}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
