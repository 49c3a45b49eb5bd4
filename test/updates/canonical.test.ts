/**
 * Canonical JSON (RFC 8785 subset) and the update documents' timestamps:
 * the RFC's own examples for the value types manifests use, property-based
 * round trips, and refusal of everything outside the subset.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, type CanonicalValue } from '../../src/updates/canonical.js';
import { formatTimestamp, parseExpiry, parseTimestamp } from '../../src/updates/time.js';
import { BiosealError } from '../../src/errors.js';

describe('canonical JSON', () => {
  test('sorts members by UTF-16 code units and drops whitespace (RFC 8785 §3.2.3)', () => {
    // The sorting example of RFC 8785 §3.2.3, with its keys' values replaced by the strings they name.
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Read the order from the text: JavaScript objects would list the integer-like key "1" first.
    const text = canonicalJson(value);
    const order = ['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh'];
    const positions = order.map((v) => text.indexOf(`"${v}"`));
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, text);
    assert.ok(!/\s/.test(text.replace(/"[^"]*"/g, '')), 'no whitespace outside strings');
  });

  test('serialises strings like ECMAScript JSON.stringify (RFC 8785 §3.2.2.2)', () => {
    assert.equal(canonicalJson({ s: '\u20ac$\u000f\nA\'B"\\\\"/' }), '{"s":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    assert.equal(canonicalJson({ b: [1, 'x'], a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":[1,"x"]}');
  });

  test('holds only strings, safe integers, arrays and objects', () => {
    for (const bad of [1.5, 2 ** 53, -0.1, NaN, null, true, undefined]) {
      assert.throws(() => canonicalJson({ x: bad as unknown as CanonicalValue }), (e: unknown) => e instanceof BiosealError && e.code === 'E_FORMAT', String(bad));
    }
  });

  test('round trip: canonical text parses back to the same value and is a fixed point', () => {
    const value: fc.Arbitrary<CanonicalValue> = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.string({ unit: 'grapheme' }), fc.maxSafeInteger(), tie('array'), tie('object')) as fc.Arbitrary<CanonicalValue>,
      array: fc.array(tie('node'), { maxLength: 4 }),
      object: fc.dictionary(fc.string({ unit: 'grapheme' }).filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 4 }),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const text = canonicalJson(v);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(v)));
        assert.equal(canonicalJson(JSON.parse(text) as CanonicalValue), text);
      }),
    );
  });
});

describe('timestamps and --expires', () => {
  test('one spelling per instant', () => {
    assert.equal(parseTimestamp('2025-01-31T12:00:00Z', 't').getTime(), Date.UTC(2025, 0, 31, 12));
    for (const bad of ['2025-01-31T12:00:00.000Z', '2025-01-31T12:00:00+00:00', '2025-02-30T00:00:00Z', '2025-1-31T12:00:00Z', '', 12, null]) {
      assert.throws(() => parseTimestamp(bad, 't'), (e: unknown) => e instanceof BiosealError && e.code === 'E_FORMAT', String(bad));
    }
    assert.equal(formatTimestamp(new Date(Date.UTC(2025, 0, 31, 12, 0, 0, 999))), '2025-01-31T12:00:00Z');
  });

  test('durations and ISO dates, in the future only', () => {
    const now = new Date(Date.UTC(2025, 0, 1));
    assert.equal(parseExpiry('90d', now).getTime(), now.getTime() + 90 * 86_400_000);
    assert.equal(parseExpiry('12h', now).getTime(), now.getTime() + 12 * 3_600_000);
    assert.equal(parseExpiry('2w', now).getTime(), now.getTime() + 14 * 86_400_000);
    assert.equal(parseExpiry('2026-01-01', now).getTime(), Date.UTC(2026, 0, 1));
    assert.equal(parseExpiry('2026-01-01T10:00:00+02:00', now).getTime(), Date.UTC(2026, 0, 1, 8));
    for (const bad of ['0s', '2024-12-31', '90', 'd', '90 days', '-1d', '1e3d', 'tomorrow']) {
      assert.throws(() => parseExpiry(bad, now), (e: unknown) => e instanceof BiosealError && e.code === 'E_USAGE', bad);
    }
  });
});
